#include "util/interrupt.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t flag;

static void on_sigint(int sig)
{
    (void)sig;
    static const char msg[] = "\nreel: interrupted: stopping at the next step (Ctrl-C again to abort now)\n";
    flag = 1;
    ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)w;
    signal(SIGINT, SIG_DFL); /* the second Ctrl-C ends the process */
}

void reel_interrupt_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
}

int reel_interrupted(void) { return flag != 0; }

void reel_interrupt_clear(void)
{
    flag = 0;
    reel_interrupt_install();
}
