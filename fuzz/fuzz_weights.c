// fuzz_weights.c: the weights file reader (weights_read in
// src/study/weights.c). The input is the file. A file that loads is saved
// again and must load back to the same parameters.
#include "fuzz_util.h"
#include "../src/study/weights.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
    const char *dir = fuzz_dir();
    fuzz_write(dir, "w.lrsw", data, n);
    char path[512], again[512];
    snprintf(path, sizeof path, "%s/w.lrsw", dir);
    snprintf(again, sizeof again, "%s/again.lrsw", dir);
    model_desc m, m2;
    float *params = NULL, *p2 = NULL;
    lr_err e;
    weights_meta meta;
    if (weights_read(path, NULL, &m, &params, &meta, &e) != 0) {
        LR_ASSERT(e.msg[0] != '\0');
        return 0;
    }
    LR_ASSERT(weights_save(again, &m, params, &meta, &e) == 0);
    weights_meta_free(&meta);
    LR_ASSERT(weights_load(again, &m2, &p2, &e) == 0);
    LR_ASSERT(m2.n_params == m.n_params && strcmp(m2.spec, m.spec) == 0);
    LR_ASSERT(memcmp(params, p2, m.n_params * sizeof(float)) == 0);
    free(params);
    free(p2);
    return 0;
}
