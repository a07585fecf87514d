/*
 * client_progress.c - the progress line of a transfer, shown on a
 * terminal only, and redrawn in place at most ten times a second:
 *
 *     video.bin   48% [#########...........] 23.0/47.7 MiB 223.6 MiB/s
 *
 * A '\r' takes the cursor back to the start of the line, and the line
 * is written again over the old one. That works only while the line
 * fits: one column too many and the terminal wraps it, and every redraw
 * then scrolls a new line up the screen. So the line is cut to the
 * terminal's width, which the terminal itself tells (TIOCGWINSZ), asked
 * again at each redraw since the window may be resized. On a narrow
 * terminal the rate goes first, then the bar; the name gets what is
 * left. A caller may draw a line of its own instead (struct
 * progress_line): this file then fits and redraws it the same way.
 */
#include <sys/types.h>
#include <sys/ioctl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "client.h"

#define REDRAW_S 0.1       /* seconds between redraws, at least */
#define RATE_MIN_S 0.01    /* seconds: a shorter transfer has no rate to show */
#define DEFAULT_COLUMNS 80 /* when the terminal cannot say */
#define NAME_COLUMNS 24    /* the name's column, when there is room */
/* Columns the name keeps before the rate, and then the bar, give way. */
#define NAME_MIN 8
#define BAR_CELLS 20 /* each a '#' (done) or a '.' (not yet): 5% */

static void draw_file_line(struct progress *p, off_t have, double seconds);
static void draw_own_line(struct progress *p, off_t have);
static int terminal_width(void);
static void draw(struct progress *p, const char *line, int width, int ends);

void
progress_begin(struct progress *p, const char *name, off_t start, off_t total,
               const struct progress_line *own)
{
    p->name = name;
    p->start = start;
    p->total = total;
    p->started = seconds_now();
    p->shown = 0;
    p->visible = isatty(STDERR_FILENO);
    /* A file's own line starts on a fresh line. A caller's own line
     * may go over the one that the file before drew, perhaps with a
     * longer name: of unknown length, so the first draw rubs out the
     * whole width (draw() keeps within it), or "city.jpg" over
     * "beach.jpg" would show "city.jpgg". */
    p->drawn = own != NULL ? INT_MAX : 0;
    p->own = own;
}

/* progress_fn for recv_file_data: `done` counts this transfer's bytes,
 * not those we had before it. */
void
progress_show(off_t done, void *arg)
{
    struct progress *p = arg;
    double t = seconds_now();
    off_t have = p->start + done;
    if (!p->visible || (t - p->shown < REDRAW_S && have < p->total))
        return;
    p->shown = t;
    if (p->own != NULL)
        draw_own_line(p, have);
    else
        draw_file_line(p, have, t - p->started);
}

/*** Fitting the terminal ***/

/* The terminal's width in columns: the terminal driver knows it (it is
 * what `stty size` prints). Some systems hide TIOCGWINSZ from a program
 * that asks for plain POSIX; there, and on a terminal nobody gave a
 * size (a width of 0), assume the classic 80. */
/* slide:begin terminal_width */
static int
terminal_width(void)
{
#ifdef TIOCGWINSZ
    struct winsize size;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0)
        return size.ws_col;
#endif
    return DEFAULT_COLUMNS;
}
/* slide:end terminal_width */

/* How many bytes of `name` fill at most `columns` columns, cut where a
 * character starts: a UTF-8 character is one to four bytes, and all
 * but its first are 10xxxxxx. (Counting bytes, a name never takes
 * fewer columns than it has bytes, except for the rare character two
 * columns wide in two bytes: none in common use.) */
int
fitting_bytes(const char *name, int columns)
{
    int len = (int)strlen(name);
    if (columns < 0)
        return 0;
    if (len <= columns)
        return len;
    while (columns > 0 && ((unsigned char)name[columns] & 0xC0) == 0x80)
        columns--;
    return columns;
}

/* A number of bytes in the unit that suits it: returns what to divide
 * it by, and sets *unit ("B", "KiB", "MiB", ...). */
static double
unit_of(double bytes, const char **unit)
{
    static const char *const units[] = {"B",   "KiB", "MiB", "GiB",
                                        "TiB", "PiB", "EiB"};
    size_t i = 0;
    double scale = 1;
    while (i + 1 < sizeof units / sizeof units[0] && bytes >= 1024 * scale) {
        scale *= 1024;
        i++;
    }
    *unit = units[i];
    return scale;
}

/* "21.5/47.7 MiB" into buf: `have` of `total` bytes, in the unit that
 * suits the total; plain bytes for a small file ("14/14 B"). */
static void
format_amount(char *buf, size_t size, off_t have, off_t total)
{
    const char *unit;
    double scale = unit_of((double)total, &unit);
    if (scale == 1)
        snprintf(buf, size, "%lld/%lld B", (long long)have, (long long)total);
    else
        snprintf(buf, size, "%.1f/%.1f %s", (double)have / scale,
                 (double)total / scale, unit);
}

/* Cut `line` to at most `width` bytes. */
static void
cut(char *line, size_t size, int width)
{
    if (width >= 0 && (size_t)width < size)
        line[width] = '\0';
}

/*** The lines ***/

/* "NAME  45% [#########...........] 21.5/47.7 MiB 714.5 MiB/s", fitted
 * to the terminal. A transfer too short to time shows no rate. */
static void
draw_file_line(struct progress *p, off_t have, double seconds)
{
    int percent =
        p->total > 0 ? (int)(100.0 * (double)have / (double)p->total) : 100;
    char amount[64];
    format_amount(amount, sizeof amount, have, p->total);
    char rate[32] = "";
    if (seconds >= RATE_MIN_S) {
        double per_s = (double)(have - p->start) / seconds;
        const char *unit;
        double scale = unit_of(per_s, &unit);
        snprintf(rate, sizeof rate, " %.1f %s/s", per_s / scale, unit);
    }
    char bar[BAR_CELLS + 4] = " [";
    for (int i = 0; i < BAR_CELLS; i++)
        bar[2 + i] = i < percent * BAR_CELLS / 100 ? '#' : '.';
    bar[2 + BAR_CELLS] = ']';
    bar[3 + BAR_CELLS] = '\0';

    /* Always the percentage and the amount. The bar and the rate only
     * while the name keeps NAME_MIN columns (or all it needs), and the
     * rate gives way first. The name takes the rest, up to
     * NAME_COLUMNS. */
    int width = terminal_width() - 1; /* see draw() */
    int name_min = fitting_bytes(p->name, NAME_MIN);
    int needed = 5 + 1 + (int)strlen(amount); /* " 100%", " AMOUNT" */
    /* slide:begin give_way */
    if (needed + (int)(strlen(bar) + strlen(rate)) + name_min > width)
        rate[0] = '\0';
    if (needed + (int)strlen(bar) + name_min > width)
        bar[0] = '\0';
    /* slide:end give_way */
    int room = width - needed - (int)(strlen(bar) + strlen(rate));
    int name_cols = room < 0 ? 0 : room < NAME_COLUMNS ? room : NAME_COLUMNS;
    int name_len = fitting_bytes(p->name, name_cols);

    char line[512];
    snprintf(line, sizeof line, "%.*s%*s %3d%%%s %s%s", name_len, p->name,
             name_cols - name_len, "", percent, bar, amount, rate);
    cut(line, sizeof line, width);
    draw(p, line, width, have == p->total);
}

/* The caller's own line (struct progress_line), fitted to the
 * terminal; it is ended by the caller, not here. */
static void
draw_own_line(struct progress *p, off_t have)
{
    int width = terminal_width() - 1; /* see draw() */
    char line[512] = "";
    p->own->draw(p->name, have, p->own->arg, line, sizeof line, width);
    cut(line, sizeof line, width);
    draw(p, line, width, 0);
}

/* Write `line` over the one drawn before, and end it with a newline if
 * `ends`. `width` keeps clear of the terminal's last column: many
 * terminals move to the next line as soon as it is written. Spaces rub
 * out what is left of a longer line drawn before. */
static void
draw(struct progress *p, const char *line, int width, int ends)
{
    int len = (int)strlen(line);
    int old = p->drawn < width ? p->drawn : width;
    fprintf(stderr, "\r%s%*s%s", line, old > len ? old - len : 0, "",
            ends ? "\n" : "");
    p->drawn = ends ? 0 : len;
}
