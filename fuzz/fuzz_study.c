// fuzz_study.c: reading a study folder back (report_study_read in
// src/report/study_read.c): study.json, and run.json and metrics.csv of the
// run folder "runs/lr=0.1/seed-1". Input: study.json FUZZ_SEP run.json FUZZ_SEP
// metrics.csv.
#include "fuzz_util.h"
#include "../src/report/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
    static const char *const names[] = {"study.json", "runs/lr=0.1/seed-1/run.json",
                                        "runs/lr=0.1/seed-1/metrics.csv"};
    const char *dir = fuzz_dir();
    fuzz_write_parts(dir, names, 3, data, n);
    report_study s;
    lr_err e;
    if (report_study_read(dir, &s, &e) == 0) {
        for (int i = 0; i < s.n_runs; i++) {
            const report_run *r = &s.runs[i];
            LR_ASSERT(r->n_classes == 0 || (r->classes && r->confusion));
            LR_ASSERT(r->status[0] != '\0');
        }
    } else {
        LR_ASSERT(e.msg[0] != '\0');
    }
    report_study_free(&s);
    return 0;
}
