/* The safetensors file format: an 8-byte little-endian header length N, N
 * bytes of JSON ({name: {"dtype", "shape", "data_offsets": [begin, end]},
 * "__metadata__": {key: string}}), then the raw little-endian tensor data.
 * The reader trusts nothing in the file: every length, offset, dtype and
 * shape is checked before use. */
#ifndef REEL_SAFETENSORS_H
#define REEL_SAFETENSORS_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "io/tensors.h"
#include "util/error.h"

/* Every file reel writes carries "checksum" in its metadata: 16 hex digits
 * of FNV-1a 64 over the whole file with those digits read as '0'. The
 * reader verifies it when present, and checks that the tensors tile the
 * data exactly (no overlap, gap or trailing bytes). */
uint64_t reel_safetensors_checksum(const unsigned char *buf, size_t len, size_t digits_at);
/* Fills in the checksum of a file image in place (fuzzing, tests); -1 when it has none. */
int reel_safetensors_seal(unsigned char *buf, size_t len);

/* Writes tensors and metadata (an object of strings) atomically to path. */
int reel_safetensors_write(const char *path, const reel_tensors *t, const cJSON *metadata, reel_error *err);
/* Parses a file image (buf, len); on success fills t and *metadata (an
 * object of strings; caller frees both). Errors are prefixed with `name`. */
int reel_safetensors_parse(const char *name, const unsigned char *buf, size_t len, reel_tensors *t,
                           cJSON **metadata, reel_error *err);
/* Reads and parses a file. */
int reel_safetensors_read(const char *path, reel_tensors *t, cJSON **metadata, reel_error *err);

#endif
