#ifndef REEL_TIMER_H
#define REEL_TIMER_H
/* Wall-clock seconds from a monotonic clock. */
double reel_now(void);
#endif
