// fuzz_study_file.c: the YAML study file (study_file_read in
// src/study/study_file.c), then the grid it describes expanded into runs
// (spec_expand), as `lrscope run --study FILE` does. The input is the file.
#include "fuzz_util.h"
#include "../src/study/study_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
    const char *dir = fuzz_dir();
    fuzz_write(dir, "study.yaml", data, n);
    char path[512];
    snprintf(path, sizeof path, "%s/study.yaml", dir);
    study_spec sp;
    spec_init(&sp);
    lr_err e;
    if (study_file_read(path, &sp, &e) == 0) {
        run_config *runs = NULL;
        int n_runs = 0;
        if (spec_expand(&sp, &runs, &n_runs, &e) == 0) LR_ASSERT(n_runs >= 1);
        else LR_ASSERT(e.msg[0] != '\0');
        free(runs);
    } else {
        LR_ASSERT(e.msg[0] != '\0');
    }
    spec_free(&sp);
    return 0;
}
