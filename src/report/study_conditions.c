// study_conditions.c: a study's runs grouped by condition (conditions.h).
#include "study_conditions.h"

#include <math.h>
#include <string.h>

// The last epoch row with a test evaluation, -1 if none.
static int last_tested(const report_run *r) {
    for (int i = r->n_epochs - 1; i >= 0; i--)
        if (!isnan(r->epochs[i].test_acc)) return i;
    return -1;
}

static double best_acc(const report_run *r) {
    double best = NAN;
    for (int i = 0; i < r->n_epochs; i++)
        if (isfinite(r->epochs[i].test_acc) && !(best >= r->epochs[i].test_acc)) best = r->epochs[i].test_acc;
    return best;
}

void report_conditions_from_study(const report_study *s, report_condition **out, int *n_out) {
    report_condition *conds = lr_calloc((size_t)(s->n_runs > 0 ? s->n_runs : 1), sizeof *conds);
    int *of_run = lr_calloc((size_t)(s->n_runs > 0 ? s->n_runs : 1), sizeof *of_run); // condition of each run
    int *first = lr_calloc((size_t)(s->n_runs > 0 ? s->n_runs : 1), sizeof *first);    // its first run
    int n = 0;
    for (int i = 0; i < s->n_runs; i++) {
        int c = 0;
        while (c < n && strcmp(conds[c].name, s->runs[i].condition) != 0) c++;
        if (c == n) {
            snprintf(conds[n].name, sizeof conds[n].name, "%s", s->runs[i].condition);
            first[n++] = i;
        }
        of_run[i] = c;
        conds[c].n_runs++;
    }
    // The axes whose value differs between conditions (seeds are not axes).
    const knob *axes[8];
    int n_axes = 0;
    for (int a = 0; a < s->n_axes && n_axes < 8; a++) {
        if (!strcmp(s->axes[a]->name, "seed")) continue;
        int varies = 0;
        for (int c = 1; c < n && !varies; c++)
            varies = !knob_equal(s->axes[a], &s->runs[first[0]].config, &s->runs[first[c]].config);
        if (varies) axes[n_axes++] = s->axes[a];
    }
    if (n_axes == 0)
        for (int a = 0; a < s->n_axes && n_axes < 8; a++)
            if (strcmp(s->axes[a]->name, "seed") != 0) axes[n_axes++] = s->axes[a];

    for (int c = 0; c < n; c++) {
        report_condition *d = &conds[c];
        const run_config *cfg = &s->runs[first[c]].config;
        d->n_axes = n_axes;
        for (int a = 0; a < n_axes; a++) {
            const knob *k = axes[a];
            snprintf(d->axis_key[a], sizeof d->axis_key[a], "%s", k->name);
            knob_format(k, cfg, d->axis_text[a], sizeof d->axis_text[a], KNOB_TEXT_EXACT);
            const void *field = (const char *)cfg + k->offset;
            d->axis_num[a] = k->type == KNOB_DOUBLE ? *(const double *)field
                           : k->type == KNOB_INT ? *(const int *)field
                           : k->type == KNOB_UINT64 ? (double)*(const uint64_t *)field : NAN;
        }
        int m = d->n_runs;
        d->seeds = lr_calloc((size_t)m, sizeof *d->seeds);
        d->final_test_acc = lr_calloc((size_t)m, sizeof(double));
        d->final_test_f1 = lr_calloc((size_t)m, sizeof(double));
        d->best_test_acc = lr_calloc((size_t)m, sizeof(double));
        d->final_test_loss = lr_calloc((size_t)m, sizeof(double));
        d->seconds = lr_calloc((size_t)m, sizeof(double));
        int E = 0;
        for (int i = 0; i < s->n_runs; i++) {
            if (of_run[i] != c) continue;
            const report_run *r = &s->runs[i];
            if (r->planned_epochs > E) E = r->planned_epochs;
            for (int j = 0; j < r->n_epochs; j++)
                if (r->epochs[j].epoch > E) E = r->epochs[j].epoch;
        }
        d->n_epochs = E;
        size_t nc = (size_t)m * REPORT_N_CURVES * (size_t)(E > 0 ? E : 1);
        d->curves = lr_malloc(nc * sizeof *d->curves);
        for (size_t q = 0; q < nc; q++) d->curves[q] = NAN;
        int k = 0;
        for (int i = 0; i < s->n_runs; i++) {
            if (of_run[i] != c) continue;
            const report_run *r = &s->runs[i];
            d->seeds[k] = r->seed;
            int t = last_tested(r);
            int ok = t >= 0 && !r->diverged_epoch;
            d->final_test_acc[k] = ok ? r->epochs[t].test_acc : NAN;
            d->final_test_f1[k] = ok ? r->epochs[t].test_f1 : NAN;
            d->final_test_loss[k] = ok ? r->epochs[t].test_loss : NAN;
            d->best_test_acc[k] = r->diverged_epoch ? NAN : best_acc(r);
            d->seconds[k] = r->n_epochs > 0 ? r->seconds : NAN;
            for (int j = 0; j < r->n_epochs; j++) {
                const report_epoch *ep = &r->epochs[j];
                double v[REPORT_N_CURVES] = {ep->train_loss, ep->train_acc, ep->train_f1,
                                             ep->test_loss, ep->test_acc, ep->test_f1};
                for (int q = 0; q < REPORT_N_CURVES; q++)
                    d->curves[((size_t)k * REPORT_N_CURVES + (size_t)q) * (size_t)E + (size_t)(ep->epoch - 1)] =
                        isfinite(v[q]) ? v[q] : NAN;
            }
            k++;
        }
    }
    free(of_run);
    free(first);
    *out = conds;
    *n_out = n;
}

void report_conditions_free(report_condition *conds, int n) {
    for (int c = 0; c < n; c++) {
        free(conds[c].seeds);
        free(conds[c].final_test_acc);
        free(conds[c].final_test_f1);
        free(conds[c].best_test_acc);
        free(conds[c].final_test_loss);
        free(conds[c].seconds);
        free(conds[c].curves);
    }
    free(conds);
}
