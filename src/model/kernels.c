// kernels.c: picks the kernel table for this CPU once, at start-up.
#include "kernels.h"

#include <string.h>

static int cpu_has(const char *isa) {
    __builtin_cpu_init();
    if (strcmp(isa, "avx512") == 0)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
    if (strcmp(isa, "avx2") == 0)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return strcmp(isa, "scalar") == 0;
}

const kernel_table *kernels_select(const char *isa, lr_err *e) {
    if (!isa || strcmp(isa, "auto") == 0) {
        if (cpu_has("avx512")) return &kernels_avx512;
        if (cpu_has("avx2")) return &kernels_avx2;
        return &kernels_scalar;
    }
    const kernel_table *t = strcmp(isa, "avx512") == 0 ? &kernels_avx512
                          : strcmp(isa, "avx2") == 0   ? &kernels_avx2
                          : strcmp(isa, "scalar") == 0 ? &kernels_scalar
                                                       : NULL;
    if (!t) {
        lr_fail(e, "--isa %s: unknown; expected auto, scalar, avx2 or avx512", isa);
        return NULL;
    }
    if (!cpu_has(isa)) {
        lr_fail(e, "--isa %s: this CPU lacks it; available: %s", isa, kernels_available());
        return NULL;
    }
    return t;
}

const char *kernels_available(void) {
    if (cpu_has("avx512")) return "scalar, avx2, avx512";
    if (cpu_has("avx2")) return "scalar, avx2";
    return "scalar";
}
