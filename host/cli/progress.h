/* How the CLI shows the library's messages and progress records on stderr.
 * Plain: every message on its own line ("reel: ..."), as a log file wants.
 * Line (stderr a terminal): a net's epochs rewrite one line per model in
 * place with \r (epoch, members done, the members' mean loss and
 * validation F1, ETA), padded over a longer line it replaces and cut at
 * the terminal's width; when every member has ended it stays as the
 * model's summary line ("box  done: epoch 20/20 ..."). A note clears the
 * line, takes a line of its own and the line is drawn again below it; a
 * warning, or a predict record (whose end the library does not mark), ends
 * it where it is and takes a plain line. A search's trials rewrite one line
 * (trial i of ~n, the best score so far, ETA, the last trial), a
 * selection's candidates one line per round (candidate i of n, ETA), which
 * stays as the round's summary. An open line is ended with a newline when
 * a task of reel.h returns (cli/tasks.c) and at exit. */
#ifndef REEL_CLI_PROGRESS_H
#define REEL_CLI_PROGRESS_H

#include <stdio.h>

#include "reel.h"

typedef enum { REEL_SHOW_PLAIN, REEL_SHOW_LINE } reel_show_mode;

/* The mode for this run: plain with --verbose; else REEL_PROGRESS=line or
 * plain when set (tests, or a terminal that wants plain lines); else line
 * when stderr is a terminal. */
reel_show_mode reel_cli_progress_mode(int verbose);
/* Sets the mode (default plain) and where it writes (NULL: stderr). */
void reel_cli_progress_set(reel_show_mode mode, FILE *fp);
/* One message of the log, with its record (NULL: a plain message). */
void reel_cli_progress_show(reel_log_level level, const char *message, const reel_progress *p);
/* Ends an open line (a model still running when the command ends). */
void reel_cli_progress_end(void);

#endif
