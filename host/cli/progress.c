#include "cli/progress.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_CHARS 511 /* cut to the terminal's width when drawn */

/* The open line's model and what the line shows. */
static struct {
    reel_show_mode mode;
    FILE *fp;
    int at_exit;           /* reel_cli_progress_end registered */
    char key[160];         /* the open line's model ("" none) */
    char line[LINE_MAX_CHARS + 1];
    size_t shown;          /* characters of the line on the terminal (0: none) */
    size_t width;          /* the terminal's columns (0: unknown) */
    struct member {
        int seen, ended; /* an epoch of it; its last */
        long epoch, total;
        double loss, f1; /* its latest */
    } *m;
    long members, members_done;
    double t0; /* when the model began (its first record's clock less its elapsed_s) */
    double best;        /* a search's or a round of candidates': the highest score so far */
    char best_what[96]; /* and its params or feature */
} st;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static FILE *out(void) { return st.fp ? st.fp : stderr; }

reel_show_mode reel_cli_progress_mode(int verbose)
{
    if (verbose)
        return REEL_SHOW_PLAIN;
    const char *env = getenv("REEL_PROGRESS");
    if (env && strcmp(env, "line") == 0)
        return REEL_SHOW_LINE;
    if (env && strcmp(env, "plain") == 0)
        return REEL_SHOW_PLAIN;
    return isatty(fileno(stderr)) ? REEL_SHOW_LINE : REEL_SHOW_PLAIN;
}

void reel_cli_progress_set(reel_show_mode mode, FILE *fp)
{
    reel_cli_progress_end();
    st.mode = mode;
    st.fp = fp;
    struct winsize ws;
    st.width = !fp && ioctl(fileno(stderr), TIOCGWINSZ, &ws) == 0 ? ws.ws_col : 0;
    if (mode == REEL_SHOW_LINE && !st.at_exit)
        st.at_exit = atexit(reel_cli_progress_end) == 0;
}

/* Writes `text` over the open line: \r, the text, and spaces over what is
 * left of a longer line before it (no terminal escapes needed). */
static void draw(const char *text)
{
    size_t n = strlen(text);
    if (n >= st.width && st.width > 1) /* a wrapped line cannot be rewritten with \r */
        n = st.width - 1;
    fprintf(out(), "\r%.*s%*s", (int)n, text, st.shown > n ? (int)(st.shown - n) : 0, "");
    if (st.shown > n) /* back to the text's end, so the next write follows it */
        fprintf(out(), "\r%.*s", (int)n, text);
    st.shown = n ? n : 1;
    fflush(out());
}

/* Blanks the open line and puts the cursor at its start. */
static void clear_line(void)
{
    if (st.shown)
        fprintf(out(), "\r%*s\r", (int)st.shown, "");
    st.shown = 0;
}

/* Ends the open line where it is: its last state becomes a line of its own. */
static void keep_line(void)
{
    if (st.shown)
        fputc('\n', out());
    st.shown = 0;
    st.key[0] = 0;
    free(st.m);
    st.m = NULL;
    st.members = st.members_done = 0;
    fflush(out());
}

static void format_eta(double s, char *buf, size_t n)
{
    if (!(s >= 0))
        snprintf(buf, n, "?");
    else if (s >= 3600)
        snprintf(buf, n, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
    else if (s >= 60)
        snprintf(buf, n, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
    else
        snprintf(buf, n, "%.0fs", s);
}

/* A new model's line (its key differs from the open line's): the old one
 * is kept as it was. */
static void start(const reel_progress *p)
{
    if (st.key[0] && strcmp(p->model ? p->model : "", st.key) == 0)
        return;
    keep_line();
    snprintf(st.key, sizeof st.key, "%s", p->model && p->model[0] ? p->model : "?");
    st.members = p->members > 0 ? p->members : 1;
    st.m = calloc((size_t)st.members, sizeof *st.m);
    st.t0 = now_s() - (p->elapsed_s >= 0 ? p->elapsed_s : 0);
    if (!st.m)
        st.members = 0;
}

/* An epoch: "reel: box  epoch 7/20  members 2/5 done  loss ...  val F1 ...
 * ETA 12s", loss and F1 the means of the members' latest. */
static void epoch_line(const reel_progress *p)
{
    int last = p->done >= p->total || p->eta_s == 0;
    long k = p->member >= 1 && p->member <= st.members ? p->member - 1 : -1;
    if (k >= 0) {
        st.members_done += last && !st.m[k].ended;
        st.m[k].ended |= last;
        st.m[k].seen = 1;
        st.m[k].loss = p->loss;
        st.m[k].f1 = p->valid_f1;
        st.m[k].epoch = p->done;
        st.m[k].total = p->total;
    }
    /* The ETA of the whole model: its time so far per epoch done, times
     * the epochs its members have left (members run at once, one after
     * another or in a few threads: this holds for each). */
    double loss = 0, f1 = 0, work = 0, left = 0;
    long n = 0;
    for (long i = 0; i < st.members; i++) {
        left += st.m[i].ended ? 0 : (double)(st.m[i].seen ? st.m[i].total - st.m[i].epoch : p->total);
        work += (double)st.m[i].epoch;
        if (st.m[i].seen) {
            loss += st.m[i].loss;
            f1 += st.m[i].f1;
            n++;
        }
    }
    double eta_s = work > 0 ? (now_s() - st.t0) / work * left : p->eta_s;
    if (n == 0) {
        loss = p->loss;
        f1 = p->valid_f1;
        n = 1;
    }
    char members[48] = "", f1s[32] = "", eta[24];
    if (st.members > 1)
        snprintf(members, sizeof members, "  members %ld/%ld done", st.members_done, st.members);
    if (!isnan(f1))
        snprintf(f1s, sizeof f1s, "  val F1 %.4f", f1 / (double)n);
    format_eta(eta_s, eta, sizeof eta);
    int finished = st.members > 0 ? st.members_done == st.members : last;
    if (finished)
        snprintf(st.line, sizeof st.line, "reel: %.100s  done: epoch %ld/%ld%s  loss %.4f%s  %.1f s", st.key, p->done,
                 p->total, members, loss / (double)n, f1s, now_s() - st.t0);
    else
        snprintf(st.line, sizeof st.line, "reel: %.100s  epoch %ld/%ld%s  loss %.4f%s  ETA %s", st.key, p->done,
                 p->total, members, loss / (double)n, f1s, eta);
    draw(st.line);
    if (finished)
        keep_line();
}

/* A search's trial: "reel: search box  trial 3/~12  best 0.6512  ETA 2m10s
 * last 0.6410 {...}"; a selection's candidate: "reel: select box
 * candidate 3/6  without x2 0.8417  best without kind 0.9583  ETA 5s". The
 * line is the search's (its total is an estimate: its end is the next
 * message, or the command's), or the round's, which stays as its summary
 * when its last candidate is in. */
static void tune_line(const reel_progress *p)
{
    int trial = p->kind == REEL_PROGRESS_TRIAL;
    char key[sizeof st.key], eta[24];
    snprintf(key, sizeof key, "%s %.100s", trial ? "search" : "select", p->model && p->model[0] ? p->model : "?");
    if (strcmp(key, st.key) != 0) {
        keep_line();
        snprintf(st.key, sizeof st.key, "%s", key);
        st.best = -INFINITY;
    }
    const char *what = p->what ? p->what : "";
    if (p->score > st.best) {
        st.best = p->score;
        snprintf(st.best_what, sizeof st.best_what, "%s", what);
    }
    format_eta(p->eta_s, eta, sizeof eta);
    int ended = !trial && p->done >= p->total;
    if (trial)
        snprintf(st.line, sizeof st.line, "reel: %s  trial %ld/~%ld  best %.4f  ETA %s  last %.4f %.200s", st.key,
                 p->done, p->total, st.best, eta, p->score, what);
    else if (!ended)
        snprintf(st.line, sizeof st.line, "reel: %s  candidate %ld/%ld  without %.60s %.4f  best without %.60s %.4f  "
                 "ETA %s", st.key, p->done, p->total, what, p->score, st.best_what, st.best, eta);
    else
        snprintf(st.line, sizeof st.line, "reel: %s  done: %ld candidates  best without %.60s %.4f  %.1f s", st.key,
                 p->total, st.best_what, st.best, p->elapsed_s);
    draw(st.line);
    if (ended)
        keep_line();
}

void reel_cli_progress_show(reel_log_level level, const char *message, const reel_progress *p)
{
    if (st.mode == REEL_SHOW_LINE && p && p->kind == REEL_PROGRESS_EPOCH) {
        start(p);
        epoch_line(p);
        return;
    }
    if (st.mode == REEL_SHOW_LINE && p && (p->kind == REEL_PROGRESS_TRIAL || p->kind == REEL_PROGRESS_FEATURE) &&
        p->total > 0) {
        tune_line(p);
        return;
    }
    /* A line of its own: a note goes above the open line, which is drawn
     * again below it; a warning, or a record without a known end (predict:
     * the command prints when it stops), ends it. */
    if (level == REEL_LOG_WARNING || p)
        keep_line();
    else
        clear_line();
    fprintf(out(), "reel: %s%s\n", level == REEL_LOG_WARNING ? "warning: " : "", message);
    if (st.key[0])
        draw(st.line);
    fflush(out());
}

void reel_cli_progress_end(void)
{
    keep_line(); /* not blanked: an error the command printed may follow it on its row */
    st.line[0] = 0;
}
