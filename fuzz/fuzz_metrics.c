// fuzz_metrics.c: metrics.csv reading (report_metrics_read in
// src/report/study_read.c). The input is the file.
#include "fuzz_util.h"
#include "../src/report/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
    const char *dir = fuzz_dir();
    fuzz_write(dir, "metrics.csv", data, n);
    char path[512];
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    report_run r;
    memset(&r, 0, sizeof r);
    lr_err e;
    if (report_metrics_read(path, &r, &e) == 0) {
        LR_ASSERT(r.has_metrics && r.n_epochs >= 0);
        for (int i = 1; i < r.n_epochs; i++) LR_ASSERT(r.epochs[i].epoch > r.epochs[i - 1].epoch);
    } else {
        LR_ASSERT(e.msg[0] != '\0');
    }
    free(r.epochs);
    return 0;
}
