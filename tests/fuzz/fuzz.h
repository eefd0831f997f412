/*
 * fuzz.h - what every harness in tests/fuzz shares (tests/fuzz/README.md).
 *
 * A harness defines LLVMFuzzerTestOneInput (and nothing else with external
 * linkage); it is linked either with libFuzzer (make fuzz: clang, ASan and
 * UBSan) or with replay.c (make test: every committed input once, in every
 * build).  A broken property is a crash: FUZZ_ASSERT prints what did not
 * hold and aborts, which libFuzzer keeps as a finding and the replay reports
 * as a failure.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond, ...)                                                                     \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: property does not hold: %s: ", __FILE__, __LINE__, #cond);     \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
