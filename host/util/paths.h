/* Path names: joining, splitting, and what a name finally refers to once
 * its symbolic links are followed. Plain string and stat work; nothing is
 * created or removed here. */
#ifndef REEL_PATHS_H
#define REEL_PATHS_H

#include <stddef.h>
#include <sys/types.h>

/* dir + "/" + name, malloc'ed. */
char *reel_path_join(const char *dir, const char *name);
/* The folder part of a path ("." when none), malloc'ed. */
char *reel_path_parent(const char *path);
/* The last component without trailing slashes, malloc'ed. */
char *reel_path_base(const char *path);

/* Where a name leads: `path` with the symbolic links of its last component
 * followed (a link to a link too), as a malloc'ed path, and whether each
 * link followed could have been followed under the kernel's
 * protected_symlinks rule (a link in a sticky, world-writable folder is
 * followed only when the follower or the folder's owner owns it). NULL
 * when out of memory or the links loop (errno ELOOP). */
char *reel_path_follow(const char *path, int *protected_ok);

/* What identifies a file, existing or not: device and inode of the file
 * when it exists, else of its folder plus its last name. Two names with
 * the same key are the same file (hard links and symlinks included). */
typedef struct {
    dev_t dev;
    ino_t ino;
    int exists;
    char name[256]; /* the last component when the file does not exist */
} reel_file_key;

/* 0 when the key could be made (the file or its folder exists). */
int reel_file_key_of(const char *path, reel_file_key *k);
int reel_file_key_same(const reel_file_key *a, const reel_file_key *b);
/* 1 when the file named by k lies in folder (dev, ino) or one below it. */
int reel_file_key_inside(const char *path, dev_t dev, ino_t ino);

#endif
