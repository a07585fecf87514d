/*
 * session_users.c - part 2 of a session: users. A server started with a
 * users file (-u) asks each client to log in, then keeps the session in
 * the user's home, refuses writes to read-only users, and counts every
 * upload against the user's quota. (The timeouts, -t, are part 1's:
 * session.c.)
 *
 * What to look at: enter_home(), which makes the user's home the
 * session's whole world by putting its descriptor where ROOT's was:
 * part 1's jail (paths.c) then keeps the session inside the home with
 * no change at all. And login_failed(), the delay that makes guessing
 * passwords slow.
 *
 * Part 1 calls these through the table of hooks (hooks.h) that
 * server_users.c fills: hide_password() before a request is logged,
 * access_refusal() before every request, login and quota among the
 * requests, and reserve_room() and release_room() around an upload.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "paths.h"
#include "proto.h"
#include "quota.h"
#include "session.h"
#include "session_users.h"
#include "users.h"

#define MAX_LOGIN_FAILURES 3 /* then the session is closed */

/* This session's user. Each session is a process of its own (server.c
 * forks one per client), so these plain variables are its own, and
 * start as they are here. */
static const struct user *user; /* who logged in; NULL before */
static int ledger_fd = -1;      /* the user's quota reservations */
static int login_failures;

/*** Who may do what ***/

/* The reply refusing this command to this session, or NULL if it may
 * go ahead. Without a users file, as in part 1, nothing is refused.
 * With one, nothing but login and quit before a login, and nothing that
 * writes for a read-only user. */
const char *
access_refusal(const struct session *s, const struct request *req)
{
    (void)s;
    int command = req->command;
    if (server_users == NULL)
        return NULL;
    if (user == NULL)
        return command == CMD_LOGIN || command == CMD_QUIT
                   ? NULL
                   : "error|login-required|log in first";
    int writes =
        command == CMD_PUT || command == CMD_DELETE || command == CMD_MKDIR;
    if (writes && user->read_only)
        return "error|denied|read-only account";
    return NULL;
}

/*** Logging in ***/

/* Sleep for `ms` milliseconds, even if a signal interrupts. */
static void
sleep_ms(long ms)
{
    struct timespec left = {ms / 1000, (ms % 1000) * 1000000L};
    int slept;
    do /* nanosleep() sets `left` to what is left when interrupted */
        slept = nanosleep(&left, &left);
    while (slept < 0 && errno == EINTR);
}

/* A failed login: wait, then reply. The wait doubles with each failure
 * (the server's -w, then twice, then four times that), and the third
 * failure closes the session. Guessing passwords through one
 * connection is then slow; through many at once, the server's session
 * limit (-m) bounds how many guesses run in parallel. The reply comes
 * only after the wait, so a client cannot learn the answer sooner. */
static int
login_failed(struct session *s)
{
    login_failures++;
    sleep_ms((long)login_delay_ms << (login_failures - 1));
    if (login_failures < MAX_LOGIN_FAILURES)
        return reply(s, "error|login-failed|wrong name or password");
    reply(s, "error|login-failed|too many failures; closing");
    return -1;
}

/* Make the user's home the session's root: open it beneath ROOT with
 * open_beneath() and put its descriptor where ROOT's was. All of part 1
 * then works unchanged inside the home: "/" in every reply is the home,
 * and resolve_path() and open_beneath() keep the session in it exactly
 * as they kept anonymous sessions in ROOT. ROOT's descriptor is closed:
 * from now on this process holds no way up to other users' homes. */
static int
enter_home(struct session *s, const struct user *who)
{
    int home_fd =
        open_beneath(s->root_fd, who->home, O_RDONLY | O_DIRECTORY, 0);
    int ledger = home_fd < 0 ? -1 : open_ledger(s->root_fd, who->name);
    if (ledger < 0) {
        int err = errno;
        if (home_fd >= 0)
            close(home_fd);
        fprintf(stderr, "%s error: home of %s: %s\n", s->peer, who->name,
                strerror(err));
        return reply(s, "error|io-error|cannot open your home: %s",
                     strerror(err));
    }
    close(s->root_fd);
    s->root_fd = home_fd;
    ledger_fd = ledger;
    user = who;
    return reply(s, "ok|welcome %s", who->name);
}

/* login|NAME|PASSWORD: "ok|welcome NAME", and the session moves into
 * NAME's home. A wrong name and a wrong password get the same answer,
 * after the same work (check_login() in users.c): a client cannot tell
 * which names exist. */
int
do_login(struct session *s, const char *name_and_password)
{
    if (server_users == NULL)
        return reply(s, "error|bad-request|this server has no users: no "
                        "login needed");
    if (user != NULL)
        return reply(s, "error|bad-request|already logged in as %s",
                     user->name);
    const char *bar = strchr(name_and_password, '|');
    if (bar == NULL)
        return reply(s, "error|bad-request|use login|NAME|PASSWORD");

    /* A name too long for any user is checked as "": no such user. */
    char name[USER_NAME_MAX + 1] = "";
    size_t len = (size_t)(bar - name_and_password);
    if (len < sizeof name) {
        memcpy(name, name_and_password, len);
        name[len] = '\0';
    }
    const struct user *who = check_login(server_users, name, bar + 1);
    if (who == NULL)
        return login_failed(s);
    return enter_home(s, who);
}

/* The log shows every request, but never a password: the one in
 * "login|NAME|PASSWORD" becomes "********". */
void
hide_password(char *request, size_t size)
{
    if (strncmp(request, "login|", 6) != 0)
        return;
    char *bar = strchr(request + 6, '|');
    char *password = bar != NULL ? bar + 1 : request + 6;
    snprintf(password, size - (size_t)(password - request), "********");
}

/*** Quotas ***/

/* quota: "ok|USED|LIMIT", in bytes. USED counts the files in the home
 * and the room the user's other sessions have reserved for uploads
 * still running (quota.c). */
int
do_quota(struct session *s)
{
    if (user == NULL)
        return reply(s, "error|bad-request|this server has no users, and "
                        "no quotas");
    off_t used;
    if (quota_used(ledger_fd, s->root_fd, &used) < 0)
        return reply_errno(s, errno);
    return reply(s, "ok|%lld|%lld", (long long)used, (long long)user->quota);
}

/* Before an upload of `need` more bytes: reserve room for them in the
 * user's quota, or refuse. Returns 1 to go on (room reserved, or no
 * quota at all), or what the refusal's reply() returned: 0, or -1 when
 * the connection is gone. */
int
reserve_room(struct session *s, off_t need)
{
    if (user == NULL)
        return 1;
    off_t used;
    int fits = quota_reserve(ledger_fd, s->root_fd, user->quota, need, &used);
    if (fits < 0)
        return reply_errno(s, errno);
    if (fits == 0)
        return reply(s,
                     "error|quota-exceeded|%lld bytes do not fit: %lld "
                     "of %lld bytes used",
                     (long long)need, (long long)used, (long long)user->quota);
    return 1;
}

/* Release the room reserve_room() reserved, once the upload is over:
 * its bytes are on disk, or never will be. Either way the disk, not the
 * reservation, counts them now. */
void
release_room(struct session *s)
{
    if (user != NULL && quota_release(ledger_fd) < 0)
        fprintf(stderr, "%s error: quota ledger: %s\n", s->peer,
                strerror(errno));
}
