/* The MPI side of host/dist: rank 0 hands out items and collects results
 * on a coordinator thread while its own threads compute items too; then it
 * broadcasts every result (or the first failure) to all ranks.
 *
 * Faults: Open MPI stops the whole job when a rank dies, sending SIGTERM
 * to the others. Rank 0 then names the dead rank (a rank on its host that
 * no longer exists) and the items it held, and exits; outputs are written
 * only after the last map, so nothing partial is left. */
#include "dist/dist_internal.h"

#ifndef REEL_HAVE_MPI

int reel_dist_mpi_init(int *argc, char ***argv, int *rank, int *size)
{
    (void)argc;
    (void)argv;
    *rank = 0;
    *size = 1;
    return 0;
}
void reel_dist_mpi_finalize(int rc) { (void)rc; }
const char *reel_dist_mpi_library(void) { return NULL; }
int reel_dist_mpi_map(const reel_dist_job *job, int workers, int inner, reel_blob *results, double *item_s,
                      double *bcast_s, reel_error *err)
{
    (void)item_s;
    (void)bcast_s;
    (void)job;
    (void)workers;
    (void)inner;
    (void)results;
    return reel_fail(err, "internal: MPI map without MPI");
}
void reel_dist_mpi_share(reel_blob *b) { (void)b; }
void reel_dist_mpi_gather(const reel_blob *mine, reel_blob *all)
{
    (void)mine;
    (void)all;
}

#else

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mpi.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/interrupt.h"

enum { TAG_REQ = 701, TAG_ITEM, TAG_RES, TAG_DONE, TAG_ALONE, TAG_HEARD };
enum { LABEL_MAX = 480, ALONE_MAX = 1024 };

static int started, rank, size;
static char library[MPI_MAX_LIBRARY_VERSION_STRING + 1];
/* For the SIGTERM handler: each rank's pid and host, the items each rank
 * holds (labels, rebuilt by the coordinator), where fault messages go. */
static pid_t *pids;
static char (*hosts)[MPI_MAX_PROCESSOR_NAME];
static char (*held)[LABEL_MAX];
static volatile sig_atomic_t mapping;
static int err_fd = STDERR_FILENO;
/* A rank that failed on its own (outside a map, the others waiting on it)
 * sends rank 0 the last line it printed (its error; its error output is kept in a
 * temporary file, not shown); rank 0 names that rank and quotes the line
 * when the job is stopped. heard: alone_msg holds it. finished: rank 0 had
 * written its outputs. */
static char alone_msg[ALONE_MAX + 128];
static volatile sig_atomic_t alone_heard, finished;
static int errors_kept; /* this rank's error output goes to a temporary file (unbuffered) */
static pthread_mutex_t alone_mu = PTHREAD_MUTEX_INITIALIZER;

static void nap(long usec)
{
    struct timespec ts = {usec / 1000000, (usec % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* Rank 0: takes a failure notice from a rank that failed alone, if one
 * came, and answers that it was heard (probe and receive under one lock,
 * as the coordinator thread looks too). */
static void hear_alone(void)
{
    pthread_mutex_lock(&alone_mu);
    int flag = 0;
    MPI_Status st;
    MPI_Iprobe(MPI_ANY_SOURCE, TAG_ALONE, MPI_COMM_WORLD, &flag, &st);
    if (flag) {
        char text[ALONE_MAX] = "";
        MPI_Recv(text, ALONE_MAX, MPI_CHAR, st.MPI_SOURCE, TAG_ALONE, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        text[ALONE_MAX - 1] = '\0';
        if (!alone_heard) {
            snprintf(alone_msg, sizeof alone_msg, "reel: rank %d stopped with an error of its own: %s",
                     st.MPI_SOURCE, text);
            alone_heard = 1;
        }
        int yes = 1;
        MPI_Send(&yes, 1, MPI_INT, st.MPI_SOURCE, TAG_HEARD, MPI_COMM_WORLD);
    }
    pthread_mutex_unlock(&alone_mu);
}

/* Waits for a request without spinning a core (ranks share cores with
 * the work); rank 0 listens for a rank that failed alone meanwhile. */
static void wait_req(MPI_Request *r)
{
    for (;;) {
        int flag = 0;
        MPI_Test(r, &flag, MPI_STATUS_IGNORE);
        if (flag)
            return;
        if (rank == 0)
            hear_alone();
        nap(100);
    }
}

/* ---- the SIGTERM handler (async-signal-safe pieces only) ---- */

static size_t put(char *buf, size_t at, size_t cap, const char *s)
{
    while (*s && at + 1 < cap)
        buf[at++] = *s++;
    buf[at] = '\0';
    return at;
}

static size_t put_int(char *buf, size_t at, size_t cap, long v)
{
    char tmp[24];
    int k = 0;
    if (v < 0) {
        at = put(buf, at, cap, "-");
        v = -v;
    }
    do
        tmp[k++] = (char)('0' + v % 10);
    while ((v /= 10) && k < 23);
    while (k && at + 1 < cap)
        buf[at++] = tmp[--k];
    buf[at] = '\0';
    return at;
}

static int gone(int r)
{
    return strcmp(hosts[r], hosts[rank]) == 0 && kill(pids[r], 0) != 0 && errno == ESRCH;
}

static void on_term(int sig)
{
    (void)sig;
    char msg[4096];
    size_t at = 0;
    if (rank == 0 && alone_heard) { /* that rank's abort made mpirun stop the job */
        at = put(msg, at, sizeof msg, alone_msg);
        at = put(msg, at, sizeof msg, finished ? "; the job is stopped (rank 0 had written its outputs)\n"
                                               : "; the job is stopped and nothing was written\n");
        ssize_t w = write(err_fd, msg, at);
        (void)w;
        _exit(1);
    }
    if (rank == 0) {
        int found = 0;
        for (int r = 1; r < size; r++) {
            if (!gone(r))
                continue;
            at = put(msg, at, sizeof msg, found++ ? "; " : "reel: ");
            at = put(msg, at, sizeof msg, "rank ");
            at = put_int(msg, at, sizeof msg, r);
            at = put(msg, at, sizeof msg, " (pid ");
            at = put_int(msg, at, sizeof msg, pids[r]);
            at = put(msg, at, sizeof msg, ") died");
            at = put(msg, at, sizeof msg, held[r][0] ? " while working on " : (mapping ? " holding no item" : ""));
            at = put(msg, at, sizeof msg, held[r]);
        }
        if (!found) {
            at = put(msg, at, sizeof msg, reel_interrupted() ? "reel: interrupted" : "reel: stopped by mpirun");
            for (int r = 1; r < size; r++)
                if (held[r][0]) {
                    at = put(msg, at, sizeof msg, "; rank ");
                    at = put_int(msg, at, sizeof msg, r);
                    at = put(msg, at, sizeof msg, " was on ");
                    at = put(msg, at, sizeof msg, held[r]);
                }
        }
        at = put(msg, at, sizeof msg, "; the job is stopped and nothing was written\n");
        ssize_t w = write(err_fd, msg, at);
        (void)w;
        _exit(reel_interrupted() || !found ? 130 : 1);
    }
    /* Rank 0 speaks when it can; when it is the one gone, the lowest
     * living rank says so. */
    int speak = gone(0);
    for (int r = 1; r < rank && speak; r++)
        speak = gone(r);
    if (speak) {
        at = put(msg, at, sizeof msg, "reel: rank 0 (pid ");
        at = put_int(msg, at, sizeof msg, pids[0]);
        at = put(msg, at, sizeof msg, ") died; the job is stopped and nothing was written\n");
        ssize_t w = write(err_fd, msg, at);
        (void)w;
    }
    nap(500000); /* stay visible to rank 0's check a moment */
    _exit(1);
}

/* ---- start and stop ---- */

int reel_dist_mpi_init(int *argc, char ***argv, int *rank_out, int *size_out)
{
    *rank_out = 0;
    *size_out = 1;
    /* Only under a launcher: a plain `reel` never touches MPI. */
    if (!getenv("OMPI_COMM_WORLD_SIZE") && !getenv("PMIX_RANK") && !getenv("PMI_SIZE"))
        return 0;
    int provided;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &provided) != MPI_SUCCESS)
        return -1;
    started = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int len = 0;
    MPI_Get_library_version(library, &len);
    library[strcspn(library, "\n")] = '\0';
    if (provided < MPI_THREAD_SERIALIZED) {
        static const char msg[] = "reel: the MPI library gives no thread support (MPI_THREAD_SERIALIZED)\n";
        ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
        (void)w;
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    pids = calloc((size_t)size, sizeof *pids);
    hosts = calloc((size_t)size, sizeof *hosts);
    held = calloc((size_t)size, sizeof *held);
    pid_t me = getpid();
    char host[MPI_MAX_PROCESSOR_NAME] = {0};
    MPI_Get_processor_name(host, &len);
    if (size > 1) {
        MPI_Allgather(&me, (int)sizeof me, MPI_BYTE, pids, (int)sizeof me, MPI_BYTE, MPI_COMM_WORLD);
        MPI_Allgather(host, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, hosts, MPI_MAX_PROCESSOR_NAME, MPI_CHAR,
                      MPI_COMM_WORLD);
        /* The other ranks are silent: rank 0 prints. Their error output is
         * kept (err_fd) for the fault message of a dead rank 0. */
        err_fd = dup(STDERR_FILENO);
        if (rank != 0) {
            int null = open("/dev/null", O_WRONLY);
            if (null >= 0) {
                dup2(null, STDOUT_FILENO);
                close(null);
            }
            /* error output into an unlinked temporary file: its last line is the
             * rank's error should it fail alone (reel_dist_mpi_finalize) */
            FILE *t = getenv("REEL_RANK_STDERR") ? NULL : tmpfile();
            if (t) {
                errors_kept = dup2(fileno(t), STDERR_FILENO) >= 0;
                fclose(t);
            }
            if (!errors_kept && !getenv("REEL_RANK_STDERR") && (null = open("/dev/null", O_WRONLY)) >= 0) {
                dup2(null, STDERR_FILENO);
                close(null);
            }
        }
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_term;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
    }
    *rank_out = rank;
    *size_out = size;
    return 0;
}

/* The last line this rank wrote to its error output (the temporary file),
 * into buf: its own error message when it failed. */
static void last_line(char *buf, size_t cap)
{
    snprintf(buf, cap, "%s",
             errors_kept ? "(it printed no message)" : "(its message is printed above: REEL_RANK_STDERR is set)");
    if (!errors_kept)
        return;
    char tail[ALONE_MAX];
    off_t end = lseek(STDERR_FILENO, 0, SEEK_END);
    off_t from = end > (off_t)sizeof tail - 1 ? end - (off_t)sizeof tail + 1 : 0;
    ssize_t n = end > 0 ? pread(STDERR_FILENO, tail, (size_t)(end - from), from) : 0;
    if (n <= 0)
        return;
    while (n > 0 && (tail[n - 1] == '\n' || tail[n - 1] == '\r' || tail[n - 1] == ' '))
        n--;
    tail[n] = '\0';
    char *line = strrchr(tail, '\n');
    line = line ? line + 1 : tail;
    if (*line)
        snprintf(buf, cap, "%s", line);
}

/* A rank other than 0 that failed while the others wait on it: rank 0 is
 * told its message (to print when the job stops) or, when rank 0 does not
 * answer within 3 s (busy outside MPI), the rank prints it itself. */
static void tell_root(int rc)
{
    char text[ALONE_MAX];
    last_line(text, sizeof text);
    MPI_Request q[2];
    int heard = 0, flag = 0;
    MPI_Isend(text, (int)strlen(text) + 1, MPI_CHAR, 0, TAG_ALONE, MPI_COMM_WORLD, &q[0]);
    MPI_Irecv(&heard, 1, MPI_INT, 0, TAG_HEARD, MPI_COMM_WORLD, &q[1]);
    for (long waited = 0; waited < 3000000 && !flag; waited += 1000) {
        MPI_Test(&q[1], &flag, MPI_STATUS_IGNORE);
        nap(1000);
    }
    if (!flag) {
        char msg[ALONE_MAX + 160];
        int k = snprintf(msg, sizeof msg, "reel: rank %d stopped with an error of its own (exit %d): %s; the job "
                         "is stopped\n", rank, rc, text);
        ssize_t w = write(err_fd, msg, (size_t)k < sizeof msg ? (size_t)k : sizeof msg - 1);
        (void)w;
    }
}

void reel_dist_mpi_finalize(int rc)
{
    if (!started)
        return;
    if (rank == 0 && rc == 0)
        finished = 1;
    if (size > 1) {
        /* Every rank comes here after the same maps; one that failed on its
         * own (not in a map) may leave the others waiting for its items:
         * when they do not all arrive soon, stop the job. */
        MPI_Request r;
        MPI_Ibarrier(MPI_COMM_WORLD, &r);
        for (long waited = 0;; waited += 1000) {
            int flag = 0;
            MPI_Test(&r, &flag, MPI_STATUS_IGNORE);
            if (flag)
                break;
            if (rc && waited > 3000000) {
                if (rank != 0)
                    tell_root(rc);
                MPI_Abort(MPI_COMM_WORLD, rc);
            }
            if (rank == 0)
                hear_alone();
            nap(1000);
        }
    }
    MPI_Finalize();
    started = 0;
    free(pids);
    free(hosts);
    free(held);
}

const char *reel_dist_mpi_library(void)
{
    if (!library[0]) { /* allowed before MPI_Init */
        int len = 0;
        MPI_Get_library_version(library, &len);
        library[strcspn(library, "\n")] = '\0';
    }
    return library;
}

/* ---- the map ---- */

typedef struct {
    const reel_dist_job *job;
    reel_blob *res;
    pthread_mutex_t mu;
    size_t next, arrived;
    int stop;
    int fail_rank;
    size_t fail_item;
    reel_error fail;
    /* items each rank holds: held_item[r * slots + k], SIZE_MAX when empty */
    size_t *held_item;
    int slots;
    double *item_s; /* each item's seconds (may be NULL) */
} map_state;

static void label_of(const map_state *m, size_t i, char *buf, size_t len)
{
    if (m->job->label)
        m->job->label(m->job->ctx, i, buf, len);
    else
        snprintf(buf, len, "item %zu", i);
}

/* Rebuilds rank r's label of held items (under m->mu). */
static void relabel(map_state *m, int r)
{
    char buf[LABEL_MAX] = "", one[128];
    size_t at = 0;
    for (int k = 0; k < m->slots; k++) {
        size_t i = m->held_item[(size_t)r * (size_t)m->slots + (size_t)k];
        if (i == SIZE_MAX)
            continue;
        label_of(m, i, one, sizeof one);
        /* " and " between items: each label has commas of its own */
        at = put(buf, at, sizeof buf, at ? " and " : "");
        at = put(buf, at, sizeof buf, one);
    }
    memcpy(held[r], buf, sizeof buf);
}

static void hold(map_state *m, int r, size_t i, int on)
{
    size_t *s = m->held_item + (size_t)r * (size_t)m->slots;
    for (int k = 0; k < m->slots; k++)
        if (on ? s[k] == SIZE_MAX : s[k] == i) {
            s[k] = on ? i : SIZE_MAX;
            break;
        }
    relabel(m, r);
}

/* The next item for rank r, or SIZE_MAX when none is left (under m->mu). */
static size_t take(map_state *m, int r)
{
    if (m->stop || reel_interrupted() || m->next >= m->job->n)
        return SIZE_MAX;
    size_t i = m->next++;
    hold(m, r, i, 1);
    return i;
}

/* An item's outcome from rank r (under m->mu). rc != 0: *b holds the message. */
static void arrive(map_state *m, int r, size_t i, int rc, reel_blob *b, double seconds)
{
    hold(m, r, i, 0);
    if (m->item_s)
        m->item_s[i] = seconds;
    m->arrived++;
    if (rc) {
        if (!m->stop) {
            m->stop = 1;
            m->fail_rank = r;
            m->fail_item = i;
            snprintf(m->fail.msg, sizeof m->fail.msg, "%.*s", (int)(b->len < sizeof m->fail.msg ? b->len : 0),
                     b->data ? (const char *)b->data : "");
        }
        free(b->data);
        return;
    }
    m->res[i] = *b;
    if (m->job->done)
        m->job->done(m->job->ctx, i, &m->res[i]);
}

/* Rank 0's thread serving the other ranks until each has said it is done. */
static void *coordinate(void *arg)
{
    map_state *m = arg;
    int done = 0;
    while (done < size - 1) {
        int flag = 0;
        MPI_Status st;
        MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
        if (!flag) {
            nap(50);
            continue;
        }
        if (st.MPI_TAG == TAG_ALONE) { /* hear_alone receives it, under its lock */
            hear_alone();
            continue;
        }
        int src = st.MPI_SOURCE, count = 0;
        MPI_Get_count(&st, MPI_BYTE, &count);
        unsigned char *buf = malloc(count > 0 ? (size_t)count : 1);
        MPI_Recv(buf, count, MPI_BYTE, src, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        if (st.MPI_TAG == TAG_REQ) {
            pthread_mutex_lock(&m->mu);
            int64_t i = (int64_t)take(m, src);
            pthread_mutex_unlock(&m->mu);
            if ((size_t)i == SIZE_MAX)
                i = -1;
            MPI_Send(&i, 1, MPI_INT64_T, src, TAG_ITEM, MPI_COMM_WORLD);
        } else if (st.MPI_TAG == TAG_RES) {
            int64_t head[3];
            double seconds;
            memcpy(head, buf, sizeof head);
            memcpy(&seconds, &head[2], sizeof seconds);
            size_t len = (size_t)count - sizeof head;
            reel_blob b = {len ? malloc(len) : NULL, len};
            if (len)
                memcpy(b.data, buf + sizeof head, len);
            pthread_mutex_lock(&m->mu);
            arrive(m, src, (size_t)head[0], (int)head[1], &b, seconds);
            pthread_mutex_unlock(&m->mu);
        } else if (st.MPI_TAG == TAG_DONE) {
            done++;
        }
        free(buf);
    }
    return NULL;
}

/* For the fault tests: REEL_DIST_FAULT=kill:R or fail:R makes rank R
 * (not 0) die by SIGKILL, or fail, on the first item it takes; the other
 * ranks start 0.3 s late so that rank R surely gets one. */
static void fault_delay(void)
{
    const char *f = getenv("REEL_DIST_FAULT");
    if (f && strlen(f) > 5 && atoi(f + 5) != rank)
        nap(300000);
}

static int fault_now(reel_error *err)
{
    static int fired;
    const char *f = getenv("REEL_DIST_FAULT");
    if (!f || fired)
        return 0;
    int kill_it = strncmp(f, "kill:", 5) == 0, fail_it = strncmp(f, "fail:", 5) == 0;
    if ((!kill_it && !fail_it) || atoi(f + 5) != rank)
        return 0;
    fired = 1;
    if (kill_it)
        raise(SIGKILL);
    return reel_fail(err, "injected failure (REEL_DIST_FAULT)");
}

/* Rank 0's own threads: items straight from the shared counter. */
static void work_root(map_state *m, int workers, int inner)
{
    fault_delay();
#pragma omp parallel num_threads(workers)
    for (;;) {
        pthread_mutex_lock(&m->mu);
        size_t i = take(m, 0);
        pthread_mutex_unlock(&m->mu);
        if (i == SIZE_MAX)
            break;
        reel_error e;
        reel_blob b = {0};
        double t0 = MPI_Wtime();
        int rc = m->job->run(m->job->ctx, i, inner, &b, &e);
        double seconds = MPI_Wtime() - t0;
        if (rc) {
            free(b.data);
            size_t n = strlen(e.msg) + 1;
            b.data = malloc(n);
            memcpy(b.data, e.msg, n);
            b.len = n;
        }
        pthread_mutex_lock(&m->mu);
        arrive(m, 0, i, rc, &b, seconds);
        pthread_mutex_unlock(&m->mu);
    }
}

/* The other ranks: ask rank 0 for an item, compute it, send the result. */
static void work_remote(const reel_dist_job *job, int workers, int inner)
{
    fault_delay();
#pragma omp parallel num_threads(workers)
    for (;;) {
        int64_t i = -1;
#pragma omp critical(reel_dist_mpi)
        {
            MPI_Request r;
            MPI_Send(NULL, 0, MPI_BYTE, 0, TAG_REQ, MPI_COMM_WORLD);
            MPI_Irecv(&i, 1, MPI_INT64_T, 0, TAG_ITEM, MPI_COMM_WORLD, &r);
            wait_req(&r);
        }
        if (i < 0)
            break;
        reel_error e;
        reel_blob b = {0};
        int fault;
#pragma omp critical(reel_dist_mpi)
        fault = fault_now(&e);
        double t0 = MPI_Wtime();
        int64_t head[3] = {i, fault ? -1 : job->run(job->ctx, (size_t)i, inner, &b, &e), 0};
        double seconds = MPI_Wtime() - t0;
        memcpy(&head[2], &seconds, sizeof seconds);
        const void *body = b.data;
        size_t len = b.len;
        if (head[1]) {
            body = e.msg;
            len = strlen(e.msg) + 1;
        }
        unsigned char *msg = malloc(sizeof head + len);
        memcpy(msg, head, sizeof head);
        if (len)
            memcpy(msg + sizeof head, body, len);
        free(b.data);
#pragma omp critical(reel_dist_mpi)
        MPI_Send(msg, (int)(sizeof head + len), MPI_BYTE, 0, TAG_RES, MPI_COMM_WORLD);
        free(msg);
    }
    MPI_Send(NULL, 0, MPI_BYTE, 0, TAG_DONE, MPI_COMM_WORLD);
}

static void bcast(void *buf, size_t len)
{
    unsigned char *p = buf;
    while (len) {
        int chunk = len > (size_t)INT_MAX / 2 ? INT_MAX / 2 : (int)len;
        MPI_Request r;
        MPI_Ibcast(p, chunk, MPI_BYTE, 0, MPI_COMM_WORLD, &r);
        wait_req(&r);
        p += chunk;
        len -= (size_t)chunk;
    }
}

void reel_dist_mpi_share(reel_blob *b)
{
    int64_t len = (int64_t)b->len;
    bcast(&len, sizeof len);
    if (rank != 0) {
        b->len = (size_t)len;
        b->data = len ? malloc((size_t)len) : NULL;
    }
    if (len)
        bcast(b->data, (size_t)len);
}

/* Point to point, one rank at a time: a late rank is waited for (the
 * transfers are small: a task's description). */
void reel_dist_mpi_gather(const reel_blob *mine, reel_blob *all)
{
    enum { TAG_GATHER = 731 };
    if (rank != 0) {
        int64_t len = (int64_t)mine->len;
        MPI_Send(&len, 1, MPI_INT64_T, 0, TAG_GATHER, MPI_COMM_WORLD);
        if (len)
            MPI_Send(mine->data, (int)len, MPI_BYTE, 0, TAG_GATHER, MPI_COMM_WORLD);
        return;
    }
    all[0].len = mine->len;
    all[0].data = malloc(mine->len ? mine->len : 1);
    if (mine->len)
        memcpy(all[0].data, mine->data, mine->len);
    for (int r = 1; r < size; r++) {
        int64_t len = 0;
        MPI_Request q;
        MPI_Irecv(&len, 1, MPI_INT64_T, r, TAG_GATHER, MPI_COMM_WORLD, &q);
        wait_req(&q);
        all[r].len = (size_t)len;
        all[r].data = malloc(len ? (size_t)len : 1);
        if (len) {
            MPI_Irecv(all[r].data, (int)len, MPI_BYTE, r, TAG_GATHER, MPI_COMM_WORLD, &q);
            wait_req(&q);
        }
    }
}

int reel_dist_mpi_map(const reel_dist_job *job, int workers, int inner, reel_blob *results, double *item_s,
                      double *bcast_s, reel_error *err)
{
    size_t n = job->n;
    mapping = 1;
    if (rank == 0) {
        map_state m = {.job = job, .res = results, .slots = workers < 64 ? workers : 64, .item_s = item_s};
        pthread_mutex_init(&m.mu, NULL);
        m.held_item = malloc((size_t)size * (size_t)m.slots * sizeof *m.held_item);
        for (size_t k = 0; k < (size_t)size * (size_t)m.slots; k++)
            m.held_item[k] = SIZE_MAX;
        pthread_t th;
        pthread_create(&th, NULL, coordinate, &m);
        work_root(&m, workers, inner);
        pthread_join(th, NULL);
        pthread_mutex_destroy(&m.mu);
        double t_bcast = MPI_Wtime();
        free(m.held_item);
        /* status, then the first failure or every result */
        int64_t head[2] = {m.stop ? m.fail_rank : -1, (int64_t)m.fail_item};
        if (!m.stop && m.arrived < n) /* interrupted before every item ran */
            head[0] = -2;
        bcast(head, sizeof head);
        if (head[0] == -2) {
            reel_blobs_free(results, n);
            mapping = 0;
            return reel_fail(err, "interrupted: stopped before the next fit; nothing was written");
        }
        if (m.stop) {
            char label[128];
            label_of(&m, m.fail_item, label, sizeof label);
            reel_error e = m.fail;
            bcast(e.msg, sizeof e.msg);
            reel_blobs_free(results, n);
            mapping = 0;
            return reel_fail(err, "rank %d, %s: %s", m.fail_rank, label, e.msg);
        }
        int64_t *lens = malloc(n * sizeof *lens);
        for (size_t i = 0; i < n; i++)
            lens[i] = (int64_t)results[i].len;
        bcast(lens, n * sizeof *lens);
        free(lens);
        for (size_t i = 0; i < n; i++)
            if (results[i].len)
                bcast(results[i].data, results[i].len);
        *bcast_s = MPI_Wtime() - t_bcast;
        mapping = 0;
        return 0;
    }
    work_remote(job, workers, inner);
    int64_t head[2];
    bcast(head, sizeof head);
    mapping = 0;
    if (head[0] == -2)
        return reel_fail(err, "interrupted: stopped before the next fit; nothing was written");
    if (head[0] >= 0) {
        reel_error e;
        bcast(e.msg, sizeof e.msg);
        char label[128];
        if (job->label)
            job->label(job->ctx, (size_t)head[1], label, sizeof label);
        else
            snprintf(label, sizeof label, "item %zu", (size_t)head[1]);
        return reel_fail(err, "rank %d, %s: %s", (int)head[0], label, e.msg);
    }
    int64_t *lens = malloc(n * sizeof *lens);
    bcast(lens, n * sizeof *lens);
    for (size_t i = 0; i < n; i++) {
        results[i].len = (size_t)lens[i];
        results[i].data = lens[i] ? malloc((size_t)lens[i]) : NULL;
        if (lens[i])
            bcast(results[i].data, (size_t)lens[i]);
    }
    free(lens);
    return 0;
}

#endif
