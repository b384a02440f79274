#include "helpers.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/fileio.h"

static const char *tmp_dir(void)
{
    static char dir[256];
    if (!dir[0]) {
        const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        /* a fresh folder each process: a leftover of an earlier run with
         * the same pid must not be reused */
        snprintf(dir, sizeof dir, "%s/reel-test-%ld-XXXXXX", base, (long)getpid());
        if (!mkdtemp(dir)) {
            perror("tests: mkdtemp");
            abort();
        }
    }
    return dir;
}

const char *tmp_path(const char *name)
{
    static char path[256][512]; /* a ring: a path stays valid for 256 calls */
    static int slot;
    slot = (slot + 1) % 256;
    snprintf(path[slot], sizeof path[slot], "%s/%s", tmp_dir(), name);
    return path[slot];
}

const char *tmp_write(const char *name, const char *text)
{
    const char *path = tmp_path(name);
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return NULL;
    fputs(text, fp);
    fclose(fp);
    return path;
}

static const char *env_or(const char *name, const char *built)
{
    const char *v = getenv(name);
    return v && *v ? v : built;
}

const char *test_reel_binary(void)
{
    return env_or("REEL_TEST_BINARY", REEL_BINARY);
}

static const char *joined(const char *dir, const char *rel)
{
    static char path[64][1024]; /* a ring, as tmp_path's */
    static int slot;
    slot = (slot + 1) % 64;
    snprintf(path[slot], sizeof path[slot], "%s/%s", dir, rel);
    return path[slot];
}

const char *test_fixture(const char *rel)
{
    return joined(env_or("REEL_TEST_FIXTURES", REEL_TEST_FIXTURES), rel);
}

const char *test_source_path(const char *rel)
{
    return joined(env_or("REEL_TEST_SOURCE_DIR", REEL_SOURCE_DIR), rel);
}

int run_reel(const char *args, char **out, char **err)
{
    const char *o = tmp_path("stdout.txt"), *e = tmp_path("stderr.txt");
    setenv("XDG_CONFIG_HOME", tmp_path("xdg"), 0); /* never the user's own model folder; a test may set its own */
    const char *reel = test_reel_binary();
    size_t len = strlen(args) + strlen(o) + strlen(e) + strlen(reel) + 32;
    char *cmd = malloc(len);
    snprintf(cmd, len, "%s %s >%s 2>%s", reel, args, o, e);
    int status = system(cmd);
    free(cmd);
    if (out)
        *out = reel_read_file(o, NULL, NULL);
    if (err)
        *err = reel_read_file(e, NULL, NULL);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

int run_reelf(char **out, char **err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *args = malloc((size_t)len + 1);
    va_start(ap, fmt);
    vsnprintf(args, (size_t)len + 1, fmt, ap);
    va_end(ap);
    int rc = run_reel(args, out, err);
    free(args);
    return rc;
}

int run_in_child(int (*fn)(void))
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(fn());
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return 97;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 98;
}

int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

int dir_entries(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

const char *tmp_write_two_features(const char *name, int rows, unsigned s)
{
    size_t cap = (size_t)rows * 40 + 64;
    char *csv = malloc(cap);
    if (!csv)
        return NULL;
    strcpy(csv, "name,a,b,A,B\n");
    size_t at = strlen(csv);
    for (int i = 0; i < rows; i++) {
        s = s * 1103515245u + 12345u;
        int a = (int)(s >> 16) % 100;
        s = s * 1103515245u + 12345u;
        int b = (int)(s >> 16) % 100;
        at += (size_t)snprintf(csv + at, cap - at, "f%d,%d,%d,%d,%d\n", i, a, b, a > 50, b > 40 || a <= 50);
    }
    const char *p = tmp_write(name, csv);
    free(csv);
    return p;
}
