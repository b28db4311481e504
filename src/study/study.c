// study.c: runs a study: checks the data and the output folder before any
// training, then trains each run, saving its files after every epoch.
#include "study.h"
#include "console.h"
#include "run_files.h"
#include "weights.h"
#include "../report/report.h"
#include "../util/fsutil.h"

#include <string.h>
#include <time.h>

void study_default_dir(char *out, size_t cap) {
    char stamp[32];
    time_t now = time(NULL);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&now));
    snprintf(out, cap, "results/study-%s", stamp);
    for (int k = 2; fs_exists(out); k++) snprintf(out, cap, "results/study-%s-%d", stamp, k);
}

typedef struct {
    console *con;
    const run_config *cfg;
    char *const *class_names;
    char run_dir[4096];
    int write_failed;
    lr_err err;
} epoch_saver;

static void on_batch(void *ctx, int epoch, int b, int nb, double loss, double ips) {
    epoch_saver *sv = ctx;
    console_batch(sv->con, epoch, b, nb, loss, ips);
}

// After every epoch: the metrics so far and a run.json saying "running".
static void on_epoch(void *ctx, const run_result *r) {
    epoch_saver *sv = ctx;
    console_epoch(sv->con, r);
    if (sv->write_failed) return;
    if (run_files_write_metrics(sv->run_dir, r, &sv->err) != 0 ||
        run_files_write_json(sv->run_dir, sv->cfg, r, sv->class_names, &sv->err) != 0)
        sv->write_failed = 1;
}

int study_execute(const study *s, lr_err *e) {
    const run_config *first = &s->runs[0];
    const dataset_info *info = dataset_find(first->dataset);
    if (!info) {
        lr_fail(e, "--dataset %s: unknown; expected one of %s", first->dataset, dataset_names());
        return EXIT_BAD_INPUT;
    }
    dataset train, test;
    if (dataset_load(info, first->data_dir, &train, &test, e) != 0) return EXIT_BAD_INPUT;
    // Settle the model and kernels before creating anything on disk.
    model_desc probe;
    if (model_build(&probe, first->model, train.c, train.h, train.w, train.num_classes, e) != 0 ||
        !kernels_select(first->isa, e)) {
        dataset_free(&train);
        dataset_free(&test);
        return EXIT_BAD_INPUT;
    }
    if (fs_dir_nonempty(s->out_dir)) {
        lr_fail(e, "--out %s: the folder already holds files; lrscope never overwrites a study. "
                   "Choose another folder or remove it", s->out_dir);
        dataset_free(&train);
        dataset_free(&test);
        return EXIT_BAD_INPUT;
    }
    if (fs_mkdirs(s->out_dir, e) != 0 || run_files_write_study(s->out_dir, s->runs, s->n_runs, e) != 0) {
        lr_fail(e, "--out %s: cannot write the study there: %s", s->out_dir, e->msg);
        dataset_free(&train);
        dataset_free(&test);
        return EXIT_BAD_INPUT;
    }

    console con;
    console_init(&con, s->quiet, s->n_runs, first->epochs);
    if (!s->quiet) {
        char desc[1024];
        model_describe(&probe, desc, sizeof desc);
        fprintf(stderr, "lrscope: %d run%s on %s (%d train, %d test images) -> %s\nmodel: %s\n",
                s->n_runs, s->n_runs == 1 ? "" : "s", info->name, train.n, test.n, s->out_dir, desc);
    }
    run_result *results = lr_calloc((size_t)s->n_runs, sizeof *results);
    const run_result **done = lr_calloc((size_t)s->n_runs, sizeof *done);
    int status = EXIT_OK;
    for (int i = 0; i < s->n_runs; i++) {
        const run_config *cfg = &s->runs[i];
        epoch_saver sv = {.con = &con, .cfg = cfg, .class_names = train.class_names};
        fs_join(sv.run_dir, sizeof sv.run_dir, s->out_dir, cfg->name);
        if (fs_mkdirs(sv.run_dir, e) != 0) {
            status = EXIT_RUN_FAILED;
            fprintf(stderr, "lrscope: %s\n", e->msg);
            break;
        }
        console_begin_run(&con, i, cfg->name);
        train_hooks hooks = {.on_batch = on_batch, .on_epoch = on_epoch, .ctx = &sv, .stop = s->stop};
        run_result *r = &results[i];
        if (train_run(cfg, &train, &test, info, &hooks, r, e) != 0) {
            fprintf(stderr, "lrscope: run %s: %s\n", cfg->name, e->msg);
            status = EXIT_RUN_FAILED;
            r->status = RUN_FAILED;
        }
        done[i] = r;
        console_end_run(&con, r);
        char path[4096];
        fs_join(path, sizeof path, sv.run_dir, "weights.lrsw");
        lr_err we;
        if (sv.write_failed ||
            run_files_write_metrics(sv.run_dir, r, &we) != 0 ||
            run_files_write_json(sv.run_dir, cfg, r, train.class_names, &we) != 0 ||
            (r->params && weights_save(path, &r->model, r->params, &we) != 0) ||
            run_files_write_summary(s->out_dir, s->runs, done, s->n_runs, &we) != 0) {
            fprintf(stderr, "lrscope: run %s: %s\n", cfg->name, sv.write_failed ? sv.err.msg : we.msg);
            status = EXIT_RUN_FAILED;
        }
        if (r->status != RUN_FINISHED) status = EXIT_RUN_FAILED;
        if (r->status == RUN_INTERRUPTED) break;
    }
    console_table(stdout, s->runs, done, s->n_runs);
    fflush(stdout);
    if (!s->no_report) {
        lr_err re;
        if (report_build(s->out_dir, &re) != 0) {
            fprintf(stderr, "lrscope: report: %s (the results are kept; retry with `lrscope report %s`)\n",
                    re.msg, s->out_dir);
            status = EXIT_RUN_FAILED;
        } else if (!s->quiet) {
            fprintf(stderr, "lrscope: report written to %s/report.html\n", s->out_dir);
        }
    }
    if (!s->quiet) fprintf(stderr, "lrscope: results in %s\n", s->out_dir);
    for (int i = 0; i < s->n_runs; i++) run_result_free(&results[i]);
    free(results);
    free(done);
    dataset_free(&train);
    dataset_free(&test);
    return status;
}
