/* Ctrl-C, SIGTERM and SIGHUP: the first asks long work to stop at the next
 * step (between models, trials, epochs, trees, and before any output is
 * committed: util/outfile.h), so the run ends having written nothing, and
 * the process exits 128 + the signal's number. A second one ends the
 * process at once, after removing the temporary files and stage folders of
 * the outputs being written. A signal the parent set to be ignored (nohup,
 * a background job) stays ignored. SIGXFSZ (past `ulimit -f`) is ignored:
 * the write then fails with "File too large", named and cleaned up like
 * any other write error. */
#ifndef REEL_INTERRUPT_H
#define REEL_INTERRUPT_H

void reel_interrupt_install(void);
/* The signal received (SIGINT, SIGTERM, SIGHUP), or 0. */
int reel_interrupted(void);
/* "interrupted" (Ctrl-C) or "stopped by SIGTERM", for messages. */
const char *reel_interrupt_name(void);
/* The exit status after an interrupt: 128 + the signal's number. */
int reel_interrupt_exit_code(void);
/* Forgets an interrupt and re-arms the handlers (tests; a new run). */
void reel_interrupt_clear(void);
/* What a second signal runs before the process ends; it may call only
 * async-signal-safe functions. One function (util/outfile.c's). */
void reel_interrupt_on_abort(void (*fn)(void));

#endif
