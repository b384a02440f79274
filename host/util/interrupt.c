#include "util/interrupt.h"

#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t g_sig;
static void (*volatile g_on_abort)(void);
static const int g_handled[] = {SIGINT, SIGTERM, SIGHUP};
static int g_ignored[3]; /* by the parent: left so */
static atomic_int g_installed;

static void say(const char *s)
{
    ssize_t w = write(STDERR_FILENO, s, strlen(s));
    (void)w;
}

static void on_signal(int sig)
{
    if (g_sig) { /* the second: clean up and end now */
        void (*fn)(void) = g_on_abort;
        if (fn)
            fn();
        say("\nreel: stopped; nothing was written\n");
        _exit(128 + sig);
    }
    g_sig = sig;
    say(sig == SIGINT ? "\nreel: interrupted: stopping at the next step (Ctrl-C again to stop now)\n"
        : sig == SIGTERM ? "\nreel: SIGTERM: stopping at the next step (again to stop now)\n"
                         : "\nreel: SIGHUP: stopping at the next step (again to stop now)\n");
}

void reel_interrupt_install(void)
{
    int first = !atomic_exchange(&g_installed, 1);
    for (int i = 0; i < 3; i++) {
        struct sigaction old;
        if (first && sigaction(g_handled[i], NULL, &old) == 0)
            g_ignored[i] = old.sa_handler == SIG_IGN;
        if (g_ignored[i])
            continue;
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(g_handled[i], &sa, NULL);
    }
    signal(SIGXFSZ, SIG_IGN);
}

int reel_interrupted(void) { return g_sig; }

const char *reel_interrupt_name(void)
{
    switch (g_sig) {
    case SIGTERM:
        return "stopped by SIGTERM";
    case SIGHUP:
        return "stopped by SIGHUP";
    default:
        return "interrupted";
    }
}

int reel_interrupt_exit_code(void) { return 128 + (g_sig ? g_sig : SIGINT); }

void reel_interrupt_clear(void)
{
    g_sig = 0;
    reel_interrupt_install();
}

void reel_interrupt_on_abort(void (*fn)(void)) { g_on_abort = fn; }
