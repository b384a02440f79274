/* Fuzz entry points: each takes arbitrary bytes and must never crash, leak
 * or read out of bounds, whatever the bytes. libFuzzer drives them
 * (fuzz/fuzz_main.c, scripts/fuzz.sh); tests/test_fuzz_corpus.c replays the
 * saved corpus and every crash found, as regression tests. */
#ifndef REEL_FUZZ_TARGETS_H
#define REEL_FUZZ_TARGETS_H

#include <stddef.h>
#include <stdint.h>

int reel_fuzz_csv(const uint8_t *data, size_t size);        /* CSV reader + dataset roles */
int reel_fuzz_params(const uint8_t *data, size_t size);     /* params / grid JSON */
int reel_fuzz_descriptor(const uint8_t *data, size_t size); /* dataset descriptor JSON */
int reel_fuzz_model_file(const uint8_t *data, size_t size); /* safetensors model loader */
int reel_fuzz_checkpoint(const uint8_t *data, size_t size); /* a net's training checkpoint */
int reel_fuzz_journal(const uint8_t *data, size_t size);    /* a search journal (--resume) */
int reel_fuzz_column_types(const uint8_t *data, size_t size); /* --column-type COL=TYPE,... */
int reel_fuzz_latin1(const uint8_t *data, size_t size);     /* a CSV read as Latin-1 */

typedef struct {
    const char *name;
    int (*run)(const uint8_t *data, size_t size);
} reel_fuzz_target;

extern const reel_fuzz_target reel_fuzz_targets[]; /* ends with {NULL, NULL} */

#endif
