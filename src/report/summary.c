// summary.c: writes STUDY/summary.csv from the study's files read back
// (study.json, each run's metrics.csv and run.json), one row per run that
// has started: condition, the axes' values, seed, then SUMMARY_COLUMNS.
#include "report.h"
#include "../study/run_files.h"
#include "../util/fsutil.h"

#include <math.h>
#include <string.h>

// A CSV cell: quoted when it holds a comma, a quote or a line break.
static void put_cell(FILE *f, const char *v) {
    if (!strpbrk(v, ",\"\n\r")) {
        fputs(v, f);
        return;
    }
    fputc('"', f);
    for (; *v; v++) {
        if (*v == '"') fputc('"', f);
        fputc(*v, f);
    }
    fputc('"', f);
}

static void put_num(FILE *f, double v) {
    if (isnan(v)) fputs("nan", f);
    else if (isinf(v)) fputs(v > 0 ? "inf" : "-inf", f);
    else fprintf(f, "%.6f", v);
}

static void write_rows(FILE *f, const report_study *s) {
    fputs("condition,", f);
    for (int a = 0; a < s->n_axes; a++) fprintf(f, "%s,", s->axes[a]->name);
    fputs(SUMMARY_COLUMNS "\n", f);
    for (int i = 0; i < s->n_runs; i++) {
        const report_run *r = &s->runs[i];
        if (!r->has_metrics && !r->has_run_json) continue; // not started
        put_cell(f, r->condition);
        fputc(',', f);
        for (int a = 0; a < s->n_axes; a++) {
            char v[4200];
            knob_format(s->axes[a], &r->config, v, sizeof v, KNOB_TEXT_EXACT);
            put_cell(f, v);
            fputc(',', f);
        }
        int t = -1, b = -1;
        for (int j = 0; j < r->n_epochs; j++) {
            const report_epoch *ep = &r->epochs[j];
            if (!isnan(ep->test_acc)) t = j;
            if (isfinite(ep->test_acc) && isfinite(ep->test_loss) && (b < 0 || ep->test_acc > r->epochs[b].test_acc))
                b = j;
        }
        fprintf(f, "%llu,", (unsigned long long)r->seed);
        put_cell(f, r->status);
        fputc(',', f);
        if (t >= 0) {
            put_num(f, r->epochs[t].test_acc);
            fputc(',', f);
            put_num(f, r->epochs[t].test_f1);
        } else {
            fputc(',', f);
        }
        fputc(',', f);
        if (b >= 0) fprintf(f, "%.6f,%d", r->epochs[b].test_acc, r->epochs[b].epoch);
        else fputc(',', f);
        fputc(',', f);
        if (isfinite(r->seconds)) fprintf(f, "%.3f", r->seconds);
        fprintf(f, ",%d,", r->n_epochs);
        if (r->diverged_epoch) fprintf(f, "%d", r->diverged_epoch);
        fputc(',', f);
        if (r->n_epochs) put_num(f, r->epochs[r->n_epochs - 1].train_loss);
        fputc(',', f);
        if (t >= 0) put_num(f, r->epochs[t].test_loss);
        fputc(',', f);
        put_cell(f, r->name);
        fputc('\n', f);
    }
}

int report_summary_write(const char *study_dir, lr_err *e) {
    report_study s;
    if (report_study_read(study_dir, &s, e) != 0) {
        report_study_free(&s);
        return -1;
    }
    char path[4400];
    fs_join(path, sizeof path, study_dir, "summary.csv");
    fs_atomic_file af;
    int rc = fs_begin(&af, path, e);
    if (rc == 0) {
        write_rows(af.f, &s);
        rc = fs_commit(&af, e);
    }
    report_study_free(&s);
    return rc;
}
