/*
 * tests/failonce.c - a test-only LD_PRELOAD library that makes one
 * pthread_create() or one fork() fail, as they do when the system runs
 * out of processes, threads or memory (EAGAIN). A server that starts a
 * thread or a process per client must survive it: log it, close that
 * client's socket, free what it meant for the thread, and go on
 * serving the others. Nothing on a test machine makes these calls fail
 * on their own, so the tests need this library to see that.
 *
 * What it does, with FAILONCE=pthread_create (or FAILONCE=fork) in the
 * environment: the first call of that function returns EAGAIN (fork():
 * -1 with errno EAGAIN) without starting anything, and says so on
 * stderr:
 *     failonce: pthread_create() fails with EAGAIN
 * For pthread_create() it remembers the argument the thread would have
 * got; when the program free()s that very pointer, it says so too:
 *     failonce: the failed thread's argument is freed
 * and it fills the failed call's thread ID with a poison value, which
 * no real thread has: a pthread_detach() of it (the ID of a thread that
 * never started) is not passed on, and says
 *     failonce: pthread_detach() of the thread that failed to start
 * Every other call passes through, with two more checks that say so on
 * stderr (as long as FAILONCE is set):
 *     failonce: close() of a descriptor not open (EBADF): closed twice?
 *     failonce: pthread_create() got attributes never initialised
 * (the last: attributes at an address no pthread_attr_init() gave, or
 * given back to pthread_attr_destroy() since), and, from an atexit()
 * handler it registers before main(), which a forked child inherits:
 *     failonce: a child process ended with exit(), not _exit()
 * (exit() in a child runs the parent's atexit() handlers, this one
 * among them, and flushes the stdio buffers it copied a second time).
 * And it runs each signal handler the program installs (sigaction(),
 * signal()) from a handler of its own, so that it knows when one runs:
 * a stdio call from inside it (printf(), fprintf(), perror()...), which
 * may deadlock on the stream's lock or corrupt its buffer when the
 * signal interrupts the same call, says once
 *     failonce: fprintf() called in a signal handler: stdio is not
 *     async-signal-safe
 * (on one line). FAILONCE=none turns on these checks and fails nothing.
 *
 * Build and use (make test builds it):
 *     make tests/failonce.so
 *     FAILONCE=fork LD_PRELOAD=$PWD/tests/failonce.so ./server_fork 0
 */
#define _GNU_SOURCE    /* RTLD_NEXT, from dlfcn.h */
#undef _FORTIFY_SOURCE /* its inline printf() would clash with ours */
#include <sys/types.h>
#include <sys/uio.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *fail_what = ""; /* FAILONCE: the function to fail */
static atomic_int failed_once;     /* 1 once the one failure happened */
static _Atomic(void *) failed_arg; /* the thread's argument, until freed */
static void (*real_free)(void *);  /* set before main() */
static int (*real_close)(int);     /* set before main() */

/* The thread ID a failed pthread_create() leaves: a pattern of bytes. */
#define POISON_BYTE 0xA5

/* The addresses of the pthread_attr_t objects set up by
 * pthread_attr_init() and not destroyed since: a few are plenty. */
#define MAX_ATTRS 16
static const void *live_attrs[MAX_ATTRS];
static pthread_mutex_t attrs_lock = PTHREAD_MUTEX_INITIALIZER;

/* say(MESSAGE): one line on stderr, in one write(). */
#define say(message) say_text((message), sizeof(message) - 1)

static void
say_text(const char *text, size_t len)
{
    int saved_errno = errno;
    ssize_t ignored = write(STDERR_FILENO, text, len);
    (void)ignored; /* a log line lost is no reason to change the test */
    errno = saved_errno;
}

/* dlsym() returns a void *, which POSIX (not ISO C) lets us turn into a
 * function pointer: memcpy does that without a cast the compiler warns
 * about. */
static void
find_real(void *real, const char *name)
{
    void *sym = dlsym(RTLD_NEXT, name);
    if (sym == NULL)
        abort(); /* no such function: nothing sensible to fall back to */
    memcpy(real, &sym, sizeof sym);
}

/* The process the library was loaded in; a forked child has another
 * PID, and inherits the atexit() handler below. */
static pid_t main_pid;

/* Runs at exit(), never at _exit(). */
static void
exit_in_child(void)
{
    if (getpid() != main_pid)
        say("failonce: a child process ended with exit(), not _exit()\n");
}

/* Runs when the library is loaded, before main() and any thread. */
__attribute__((constructor)) static void
failonce_init(void)
{
    find_real(&real_free, "free");
    find_real(&real_close, "close");
    const char *what = getenv("FAILONCE");
    if (what != NULL) {
        fail_what = what;
        main_pid = getpid();
        atexit(exit_in_child);
    }
}

/* Is this the call of `name` to fail? Only the first, and only if
 * FAILONCE names it. */
static int
fail_now(const char *name)
{
    return strcmp(fail_what, name) == 0 &&
           atomic_exchange(&failed_once, 1) == 0;
}

/* Is attr among live_attrs? With `forget`, take it out. */
static int
attr_is_live_or_forget(const void *attr, int forget)
{
    int found = 0;
    pthread_mutex_lock(&attrs_lock);
    for (int k = 0; k < MAX_ATTRS && !found; k++) {
        if (live_attrs[k] == attr) {
            found = 1;
            if (forget)
                live_attrs[k] = NULL;
        }
    }
    pthread_mutex_unlock(&attrs_lock);
    return found;
}

static int
attr_is_live(const void *attr)
{
    return attr_is_live_or_forget(attr, 0);
}

int
pthread_attr_init(pthread_attr_t *attr)
{
    static int (*real_init)(pthread_attr_t *);
    if (real_init == NULL)
        find_real(&real_init, "pthread_attr_init");
    int err = real_init(attr);
    if (err == 0 && !attr_is_live(attr)) {
        pthread_mutex_lock(&attrs_lock);
        for (int k = 0; k < MAX_ATTRS; k++) {
            if (live_attrs[k] == NULL) {
                live_attrs[k] = attr;
                break;
            }
        }
        pthread_mutex_unlock(&attrs_lock);
    }
    return err;
}

int
pthread_attr_destroy(pthread_attr_t *attr)
{
    static int (*real_destroy)(pthread_attr_t *);
    if (real_destroy == NULL)
        find_real(&real_destroy, "pthread_attr_destroy");
    attr_is_live_or_forget(attr, 1);
    return real_destroy(attr);
}

int
pthread_detach(pthread_t th)
{
    static int (*real_detach)(pthread_t);
    pthread_t poison;
    memset(&poison, POISON_BYTE, sizeof poison);
    if (memcmp(&th, &poison, sizeof th) == 0) {
        say("failonce: pthread_detach() of the thread that failed to"
            " start\n");
        return ESRCH; /* glibc would read through it, and crash */
    }
    if (real_detach == NULL)
        find_real(&real_detach, "pthread_detach");
    return real_detach(th);
}

int
close(int fd)
{
    if (real_close == NULL)
        find_real(&real_close, "close");
    int result = real_close(fd);
    if (result < 0 && errno == EBADF && *fail_what != '\0')
        say("failonce: close() of a descriptor not open (EBADF): closed"
            " twice?\n");
    return result;
}

int
pthread_create(pthread_t *restrict newthread,
               const pthread_attr_t *restrict attr,
               void *(*start_routine)(void *), void *restrict arg)
{
    static int (*real_create)(pthread_t *restrict,
                              const pthread_attr_t *restrict, void *(*)(void *),
                              void *restrict);
    if (attr != NULL && *fail_what != '\0' && !attr_is_live(attr))
        say("failonce: pthread_create() got attributes never initialised\n");
    if (fail_now("pthread_create")) {
        atomic_store(&failed_arg, arg);
        memset(newthread, POISON_BYTE, sizeof *newthread);
        say("failonce: pthread_create() fails with EAGAIN\n");
        return EAGAIN; /* pthread functions return the error number */
    }
    if (real_create == NULL)
        find_real(&real_create, "pthread_create");
    return real_create(newthread, attr, start_routine, arg);
}

pid_t
fork(void)
{
    static pid_t (*real_fork)(void);
    if (fail_now("fork")) {
        say("failonce: fork() fails with EAGAIN\n");
        errno = EAGAIN;
        return -1;
    }
    if (real_fork == NULL)
        find_real(&real_fork, "fork");
    return real_fork();
}

void
free(void *ptr)
{
    if (ptr != NULL && atomic_load(&failed_arg) == ptr &&
        atomic_exchange(&failed_arg, NULL) == ptr)
        say("failonce: the failed thread's argument is freed\n");
    if (real_free != NULL)
        real_free(ptr);
    /* else: a free() from dlsym(), before we know the real one. Its
     * memory stays allocated: harmless, and only at start-up. */
}

/*** Signal handlers: a stdio call inside one is reported ***/

static void (*user_handler[NSIG])(int);
static void (*user_action[NSIG])(int, siginfo_t *, void *);
static _Thread_local int in_handler; /* > 0 while a handler runs */
static atomic_int said_unsafe;       /* 1 once said: one line is enough */

static void
run_handler(int sig)
{
    in_handler++;
    user_handler[sig](sig);
    in_handler--;
}

static void
run_action(int sig, siginfo_t *info, void *context)
{
    in_handler++;
    user_action[sig](sig, info, context);
    in_handler--;
}

/* The C library declares the functions below with parameter names
 * such as __sig, reserved for it: ours differ on purpose. */
// NOLINTBEGIN(readability-inconsistent-declaration-parameter-name)

/* Install the program's handler behind run_handler() (run_action());
 * a handler that is already ours (from an oldact given back) stays. */
int
sigaction(int sig, const struct sigaction *restrict act,
          struct sigaction *restrict oldact)
{
    static int (*real_sigaction)(int, const struct sigaction *restrict,
                                 struct sigaction *restrict);
    if (real_sigaction == NULL)
        find_real(&real_sigaction, "sigaction");
    if (act == NULL || *fail_what == '\0' || sig <= 0 || sig >= NSIG)
        return real_sigaction(sig, act, oldact);
    struct sigaction ours = *act;
    if (act->sa_flags & SA_SIGINFO) {
        if (act->sa_sigaction != run_action) {
            user_action[sig] = act->sa_sigaction;
            ours.sa_sigaction = run_action;
        }
    } else if (act->sa_handler != SIG_DFL && act->sa_handler != SIG_IGN &&
               act->sa_handler != run_handler) {
        user_handler[sig] = act->sa_handler;
        ours.sa_handler = run_handler;
    }
    return real_sigaction(sig, &ours, oldact);
}

/* glibc's signal() calls its own sigaction(), not ours: the same, with
 * its semantics (SA_RESTART, the signal blocked while it runs). */
void (*signal(int sig, void (*handler)(int)))(int)
{
    struct sigaction act, old;
    memset(&act, 0, sizeof act);
    act.sa_handler = handler;
    sigemptyset(&act.sa_mask);
    act.sa_flags = SA_RESTART;
    if (sigaction(sig, &act, &old) < 0)
        return SIG_ERR;
    if (old.sa_handler == run_handler)
        return user_handler[sig];
    return old.sa_handler;
}

/* Called first by each stdio function below: one line, in one
 * writev(), which is async-signal-safe. */
static void
check_not_in_handler(const char *name)
{
    static char head[] = "failonce: ";
    static char rest[] = "() called in a signal handler: stdio is not "
                         "async-signal-safe\n";
    if (in_handler == 0 || atomic_exchange(&said_unsafe, 1) != 0)
        return;
    struct iovec line[] = {
        {head, sizeof head - 1},
        {(char *)name, strlen(name)},
        {rest, sizeof rest - 1},
    };
    int saved_errno = errno;
    ssize_t ignored = writev(STDERR_FILENO, line, 3);
    (void)ignored; /* as in say_text() */
    errno = saved_errno;
}

/* real(NAME): real_NAME, the next NAME in the search order, found once. */
#define real(name)                                                             \
    static __typeof__(name) *real_##name;                                      \
    if (real_##name == NULL)                                                   \
    find_real(&real_##name, #name)

/* vfprintf(), saying `name` if it is called from a handler. */
static int
named_vfprintf(const char *name, FILE *restrict stream,
               const char *restrict format, va_list ap)
{
    real(vfprintf);
    check_not_in_handler(name);
    return real_vfprintf(stream, format, ap);
}

int
vfprintf(FILE *restrict stream, const char *restrict format, va_list ap)
{
    return named_vfprintf("vfprintf", stream, format, ap);
}

int
fprintf(FILE *restrict stream, const char *restrict format, ...)
{
    va_list ap;
    va_start(ap, format);
    int result = named_vfprintf("fprintf", stream, format, ap);
    va_end(ap);
    return result;
}

int
printf(const char *restrict format, ...)
{
    va_list ap;
    va_start(ap, format);
    int result = named_vfprintf("printf", stdout, format, ap);
    va_end(ap);
    return result;
}

/* These names are the C library's, reserved: we stand in for them. */
// NOLINTBEGIN(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp)

/* What gcc makes of printf("text\n"), fprintf(f, "text"), and the
 * fortified versions (-D_FORTIFY_SOURCE). */
int __vfprintf_chk(FILE *stream, int flag, const char *format, va_list ap);
int __fprintf_chk(FILE *stream, int flag, const char *format, ...);
int __printf_chk(int flag, const char *format, ...);
int __vprintf_chk(int flag, const char *format, va_list ap);

/* __vfprintf_chk(), saying `name` if it is called from a handler. */
static int
named_vfprintf_chk(const char *name, FILE *stream, int flag, const char *format,
                   va_list ap)
{
    real(__vfprintf_chk);
    check_not_in_handler(name);
    return real___vfprintf_chk(stream, flag, format, ap);
}

int
__vfprintf_chk(FILE *stream, int flag, const char *format, va_list ap)
{
    return named_vfprintf_chk("vfprintf", stream, flag, format, ap);
}

int
__vprintf_chk(int flag, const char *format, va_list ap)
{
    return named_vfprintf_chk("vprintf", stdout, flag, format, ap);
}

int
__fprintf_chk(FILE *stream, int flag, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    int result = named_vfprintf_chk("fprintf", stream, flag, format, ap);
    va_end(ap);
    return result;
}

int
__printf_chk(int flag, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    int result = named_vfprintf_chk("printf", stdout, flag, format, ap);
    va_end(ap);
    return result;
}

// NOLINTEND(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp)

int
fputs(const char *restrict text, FILE *restrict stream)
{
    real(fputs);
    check_not_in_handler("fputs");
    return real_fputs(text, stream);
}

int
puts(const char *text)
{
    real(puts);
    check_not_in_handler("puts");
    return real_puts(text);
}

int
fputc(int c, FILE *stream)
{
    real(fputc);
    check_not_in_handler("fputc");
    return real_fputc(c, stream);
}

size_t
fwrite(const void *restrict data, size_t size, size_t count,
       FILE *restrict stream)
{
    real(fwrite);
    check_not_in_handler("fwrite");
    return real_fwrite(data, size, count, stream);
}

void
perror(const char *text)
{
    real(perror);
    check_not_in_handler("perror");
    real_perror(text);
}

int
fflush(FILE *stream)
{
    real(fflush);
    check_not_in_handler("fflush");
    return real_fflush(stream);
}
// NOLINTEND(readability-inconsistent-declaration-parameter-name)
