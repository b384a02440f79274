/* Ctrl-C: the first SIGINT asks long work to stop at the next step boundary
 * (between models, trials, epochs); a second one ends the process at once.
 * Outputs are written atomically, so neither leaves a half-written file. */
#ifndef REEL_INTERRUPT_H
#define REEL_INTERRUPT_H

void reel_interrupt_install(void);
/* Non-zero once SIGINT was received. */
int reel_interrupted(void);
/* Forgets an interrupt and re-arms the handler (tests; a new run). */
void reel_interrupt_clear(void);

#endif
