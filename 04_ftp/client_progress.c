/*
 * client_progress.c - the progress line of a transfer, shown on a
 * terminal only, and redrawn in place at most ten times a second: a
 * '\r' takes the cursor back to the start of the line, and the line is
 * written again over the old one.
 *
 * Part 2: during get -r and put -r, one line for the whole tree,
 * "[3/10 files, 45%] NAME", in place of the file's.
 */
#include <sys/types.h>
#include <stdio.h>
#include <unistd.h>

#include "client.h"

static void draw_tree_line(struct progress *p, off_t have);

void
progress_begin(struct progress *p, const char *name, off_t start, off_t total,
               const struct tree_progress *tree)
{
    p->name = name;
    p->start = start;
    p->total = total;
    p->started = seconds_now();
    p->shown = 0;
    p->visible = isatty(STDERR_FILENO);
    p->tree = tree;
}

/* progress_fn for recv_file_data: `done` counts this transfer's bytes,
 * not those we had before it. */
void
progress_show(off_t done, void *arg)
{
    struct progress *p = arg;
    double t = seconds_now();
    off_t have = p->start + done;
    if (!p->visible || (t - p->shown < 0.1 && have < p->total))
        return;
    p->shown = t;
    if (p->tree != NULL) {
        draw_tree_line(p, have);
        return;
    }
    int percent = p->total > 0 ? (int)(100 * have / p->total) : 100;
    char bar[21];
    for (int i = 0; i < 20; i++)
        bar[i] = i < percent / 5 ? '#' : '.';
    bar[20] = '\0';
    double mib = 1024.0 * 1024.0;
    double rate = t > p->started ? (double)done / (t - p->started) : 0;
    fprintf(stderr, "\r%-24.24s %3d%% [%s] %.1f/%.1f MiB %.1f MiB/s ", p->name,
            percent, bar, (double)have / mib, (double)p->total / mib,
            rate / mib);
    if (have == p->total)
        fprintf(stderr, "\n");
}

/* Part 2: "[3/10 files, 45%] NAME", for a whole tree; `have` counts the
 * bytes of the file in flight. The line is ended by the tree's summary,
 * not here. */
static void
draw_tree_line(struct progress *p, off_t have)
{
    const struct tree_progress *t = p->tree;
    off_t done = t->bytes_done + have;
    int percent = t->bytes > 0 ? (int)(100 * done / t->bytes)
                               : 100 * t->files_done / t->files;
    fprintf(stderr, "\r[%d/%d files, %3d%%] %-40.40s", t->files_done + 1,
            t->files, percent, p->name);
}
