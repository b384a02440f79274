/* FNV-1a 64: a checksum for telling whether bytes changed (journal
 * records, the contents of a run's input files). Not cryptographic. */
#ifndef REEL_HASH_H
#define REEL_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

#define REEL_FNV_START 0xcbf29ce484222325ULL

uint64_t reel_fnv1a(uint64_t h, const void *p, size_t n);
/* The hash of a whole file's bytes, read in blocks. */
int reel_hash_file(const char *path, uint64_t *h, reel_error *err);

#endif
