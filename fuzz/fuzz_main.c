/* libFuzzer entry: REEL_FUZZ_TARGET names one of fuzz/targets.c's functions. */
#include "targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return REEL_FUZZ_TARGET(data, size); }
