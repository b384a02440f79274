/* Interns strings: each distinct string gets a dense code 0, 1, 2, ... in
 * order of first appearance. Used for text columns and label names. */
#ifndef REEL_STRDICT_H
#define REEL_STRDICT_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char **strs;  /* code -> string */
    size_t n, cap;
    int32_t *slot; /* open-addressing hash table of codes, -1 = empty */
    size_t nslots;
} reel_strdict;

void reel_strdict_init(reel_strdict *d);
void reel_strdict_free(reel_strdict *d);
/* Code of s, adding it when new; -1 when out of memory. */
int32_t reel_strdict_intern(reel_strdict *d, const char *s);
/* Code of s or -1 when absent. */
int32_t reel_strdict_find(const reel_strdict *d, const char *s);

#endif
