/* A stand-in for NVIDIA's libnvidia-ml.so.1, for tests on machines without
 * a GPU: the agent dlopens it exactly as it would the driver's (put its
 * directory first in LD_LIBRARY_PATH). It exports the NVML calls the agent
 * uses, with NVML's return codes. Its GPUs and their energy are files the
 * test (or a task using "its" GPU) writes: HEARTH_FAKE_NVML_DIR/gpuN holds
 * GPU N's nvmlDeviceGetTotalEnergyConsumption counter in millijoules, as a
 * decimal number; the GPUs are gpu0, gpu1, ... up to the first missing file.
 * Built by the tests with `cc -shared -fPIC` (tests/integration/test_gpu). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { ok = 0, uninitialized = 1, invalid_argument = 2, not_found = 6, unknown = 999 };

static int inited;

static const char* dir(void) {
    return getenv("HEARTH_FAKE_NVML_DIR");
}

static FILE* open_gpu(unsigned i) {
    char path[4096];
    if (!dir() || snprintf(path, sizeof path, "%s/gpu%u", dir(), i) >= (int)sizeof path) return 0;
    return fopen(path, "r");
}

static unsigned count(void) {
    unsigned n = 0;
    for (FILE* f; n < 64 && (f = open_gpu(n)); ++n) fclose(f);
    return n;
}

int nvmlInit_v2(void) {
    if (!dir()) return unknown;
    inited = 1;
    return ok;
}

int nvmlShutdown(void) {
    inited = 0;
    return ok;
}

int nvmlDeviceGetCount_v2(unsigned* n) {
    if (!inited) return uninitialized;
    if (!n) return invalid_argument;
    *n = count();
    return ok;
}

int nvmlDeviceGetHandleByIndex_v2(unsigned i, void** dev) {
    if (!inited) return uninitialized;
    if (!dev || i >= count()) return invalid_argument;
    *dev = (void*)(uintptr_t)(i + 1);
    return ok;
}

int nvmlDeviceGetTotalEnergyConsumption(void* dev, unsigned long long* mj) {
    if (!inited) return uninitialized;
    if (!dev || !mj) return invalid_argument;
    FILE* f = open_gpu((unsigned)((uintptr_t)dev - 1));
    if (!f) return not_found;
    const int got = fscanf(f, "%llu", mj);
    fclose(f);
    return got == 1 ? ok : unknown;
}

const char* nvmlErrorString(int rc) {
    switch (rc) {
        case ok:
            return "Success";
        case uninitialized:
            return "Uninitialized";
        case invalid_argument:
            return "Invalid Argument";
        case not_found:
            return "Not Found";
        default:
            return "Unknown Error";
    }
}
