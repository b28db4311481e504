// cmd_lrfind.c: `lrscope lrfind [STUDY.yaml] [options]`: the learning-rate
// range test (src/train/lrfind.h) on the run's model, data and optimiser:
// writes lrfind.csv and its figure, prints the suggestions and, with
// --seeds N, how far they move from seed to seed. Also the range test that
// `lrscope run --lrs auto` starts with (lrfind_for_study).
#include "commands.h"
#include "../data/dataset.h"
#include "../model/kernels.h"
#include "../model/model.h"
#include "../report/report_parts.h"
#include "../study/grid.h"
#include "../study/study_file.h"
#include "../train/knobs.h"
#include "../train/lrfind.h"
#include "../util/fsutil.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <time.h>

enum { LRFIND_MAX_SEEDS = 100 };

static void usage(FILE *out) {
    fprintf(out,
            "usage: lrscope lrfind [STUDY.yaml] [options]\n"
            "\n"
            "The learning-rate range test: trains the run's model, data and optimiser on\n"
            "the training set for up to --steps optimiser steps while the rate rises\n"
            "exponentially from --start-lr to --end-lr, smooths the loss (beta 0.98, bias-\n"
            "corrected) and stops once the smoothed loss exceeds 4x its best. Writes\n"
            "lrfind.csv (step,lr,loss,smoothed_loss) and lrfind.png/.svg and prints three\n"
            "suggestions: valley (fastai's default), steepest (steepest descent of the\n"
            "smoothed loss against log lr) and minimum/10. A STUDY.yaml gives its base:\n"
            "settings (its grid is not used); flags override them.\n"
            "\n"
            "  --steps N           at most N optimiser steps (default 100; 2..100000)\n"
            "  --start-lr X        first rate (default 1e-07)\n"
            "  --end-lr X          the rate the test heads to (default 10)\n"
            "  --seeds N           repeat with seeds 1..N and show each suggestion's spread\n"
            "                      (min, median, max, max/min); files per seed\n"
            "                      lrfind-seed-K.csv/.png/.svg (default: --seed alone)\n"
            "  --out DIR           folder for the files; must not hold files (default\n"
            "                      results/lrfind-YYYYmmdd-HHMMSS)\n"
            "  --quiet             only the suggestions\n"
            "  -h, --help          this help\n"
            "\n"
            "Knobs (as lrscope run; the schedule and evaluation knobs are not used):\n");
    knobs_help(out);
    fprintf(out, "\nExit status: 0 suggestions printed, 1 interrupted or too few points to suggest, "
                 "2 bad input.\n");
}

static const char *const LRFIND_FLAGS[] = {"steps", "start-lr", "end-lr", "seeds", "out", "quiet", "help"};
enum { N_LRFIND_FLAGS = (int)(sizeof LRFIND_FLAGS / sizeof LRFIND_FLAGS[0]) };

static int unknown_flag(const char *name, lr_err *e) {
    return knobs_unknown_flag(name, LRFIND_FLAGS, N_LRFIND_FLAGS, "lrfind", e);
}

static int parse_real(const char *flag, const char *s, double lo, double hi, double *out, lr_err *e) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v) || v < lo || v > hi)
        return lr_fail(e, "%s %s: expected a number in [%g, %g]", flag, s, lo, hi);
    *out = v;
    return 0;
}

static int parse_whole(const char *flag, const char *s, long lo, long hi, int *out, lr_err *e) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi)
        return lr_fail(e, "%s %s: expected a whole number in [%ld, %ld]", flag, s, lo, hi);
    *out = (int)v;
    return 0;
}

typedef struct {
    const char *file;
    lrfind_opts o;
    int seeds;       // 0: the configuration's seed alone
    int seed_flag;   // --seed given
    int quiet;
    char out_dir[4096];
} lrfind_args;

// Reads argv into a and cfg (defaults, then the study file's base, then the
// knob flags in order). Returns 1 for --help.
static int parse_args(int argc, char **argv, lrfind_args *a, run_config *cfg, lr_err *e) {
    // the file first, so flags override it wherever they stand
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) return 1;
        if (!strncmp(arg, "--", 2)) { // a flag: its value is the next argument unless it has '=' or none
            const knob *k = knob_find_flag(arg);
            if (!strchr(arg, '=') && !(k && k->type == KNOB_BOOL) && strcmp(arg, "--quiet") != 0) i++;
            continue;
        }
        if (a->file) return lr_fail(e, "unexpected argument \"%s\" (a study file, %s, is already given)", arg, a->file);
        a->file = arg;
    }
    config_defaults(cfg);
    if (a->file) {
        study_spec *sp = lr_malloc(sizeof *sp);
        spec_init(sp);
        int rc = study_file_read(a->file, sp, e);
        *cfg = sp->base; // lr: auto leaves base.lr at its default: the test does not use it
        spec_free(sp);
        free(sp);
        if (rc != 0) return -1;
    }
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (arg == a->file) continue;
        if (strncmp(arg, "--", 2) != 0 || !arg[2])
            return lr_fail(e, "unexpected argument \"%s\" (see lrscope lrfind --help)", arg);
        char name[64];
        const char *eq = strchr(arg, '='), *value = eq ? eq + 1 : NULL;
        size_t len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
        if (len >= sizeof name) return unknown_flag(arg + 2, e);
        memcpy(name, arg + 2, len);
        name[len] = '\0';
        const knob *k = knob_find_flag(name);
        int own = 0;
        for (int j = 0; j < N_LRFIND_FLAGS; j++) own |= !strcmp(name, LRFIND_FLAGS[j]);
        if (!k && !own) return unknown_flag(name, e);
        if (!strcmp(name, "quiet")) {
            if (value) return lr_fail(e, "--quiet takes no value");
            a->quiet = 1;
            continue;
        }
        if (!value) {
            if (k && k->type == KNOB_BOOL) value = "true";
            else if (i + 1 < argc) value = argv[++i];
            else return lr_fail(e, "--%s: expects a value (see lrscope lrfind --help)", name);
        }
        if (k) {
            char flag[64];
            knob_flag(k, flag, sizeof flag);
            if (!strcmp(k->name, "lr") && !strcmp(value, "auto")) continue; // lr plays no part here
            if (knob_parse(k, value, cfg, flag, e) != 0) return -1;
            if (!strcmp(k->name, "seed")) a->seed_flag = 1;
        } else if (!strcmp(name, "steps")) {
            if (parse_whole("--steps", value, 2, 100000, &a->o.steps, e) != 0) return -1;
        } else if (!strcmp(name, "start-lr")) {
            if (parse_real("--start-lr", value, 1e-12, 1e6, &a->o.start_lr, e) != 0) return -1;
        } else if (!strcmp(name, "end-lr")) {
            if (parse_real("--end-lr", value, 1e-12, 1e6, &a->o.end_lr, e) != 0) return -1;
        } else if (!strcmp(name, "seeds")) {
            if (parse_whole("--seeds", value, 1, LRFIND_MAX_SEEDS, &a->seeds, e) != 0) return -1;
        } else if (!strcmp(name, "out")) {
            if (!value[0]) return lr_fail(e, "--out: empty value; expected a folder");
            if (strlen(value) >= sizeof a->out_dir) return lr_fail(e, "--out: longer than %zu characters",
                                                                  sizeof a->out_dir - 1);
            snprintf(a->out_dir, sizeof a->out_dir, "%s", value);
        }
    }
    if (!(a->o.end_lr > a->o.start_lr))
        return lr_fail(e, "--end-lr %g: expected a rate above --start-lr %g", a->o.end_lr, a->o.start_lr);
    if (a->seeds && a->seed_flag) return lr_fail(e, "--seed: give either --seed N (one seed) or --seeds N");
    return 0;
}

// The checks and data loading both commands need; the data set is loaded
// into train (test freed at once). Returns 0, or -1 with e (bad input).
static int prepare(run_config *cfg, int data_given, int quiet, dataset *train, lr_err *e) {
    const dataset_info *info = dataset_find(cfg->dataset);
    if (!info) return lr_fail(e, "--dataset %s: unknown; expected one of %s", cfg->dataset, dataset_names());
    if (!cfg->data_dir[0] && info->folder) snprintf(cfg->data_dir, sizeof cfg->data_dir, "data/%s", info->folder);
    if (!kernels_select(cfg->isa, e)) return -1;
    if (cli_ensure_data(cfg, data_given, quiet, e) != 0) return -1;
    dataset test;
    if (dataset_load(info, cfg->data_dir, train, &test, e) != 0) return -1;
    dataset_free(&test);
    model_desc probe;
    if (model_build(&probe, cfg->model, train->c, train->h, train->w, train->num_classes, e) != 0) {
        dataset_free(train);
        return -1;
    }
    // the optimiser's knobs; the schedule is the test's own
    run_config chk = *cfg;
    snprintf(chk.schedule, sizeof chk.schedule, "constant");
    chk.warmup_epochs = chk.warmup_steps = 0;
    if (config_check_optim(&chk, (train->n + cfg->batch_size - 1) / cfg->batch_size, e) != 0) {
        dataset_free(train);
        return -1;
    }
    return 0;
}

int lrfind_for_study(const run_config *base, int quiet, volatile sig_atomic_t *stop, lrfind_curve *c,
                     lrfind_suggestions *s, lr_err *e) {
    run_config cfg = *base;
    dataset train;
    lrfind_curve_init(c);
    if (prepare(&cfg, base->data_dir[0] != '\0', quiet, &train, e) != 0) return EXIT_BAD_INPUT;
    lrfind_opts o;
    lrfind_defaults(&o);
    if (!quiet)
        fprintf(stderr, "lrscope: lr auto: range test, %d steps, lr %g -> %g, seed %llu\n", o.steps, o.start_lr,
                o.end_lr, (unsigned long long)cfg.seed);
    int rc = lrfind_run(&cfg, &o, &train, dataset_find(cfg.dataset), stop, c, e);
    dataset_free(&train);
    if (rc != 0) return EXIT_BAD_INPUT;
    if (stop && *stop) return lr_fail(e, "interrupted during the range test"), EXIT_RUN_FAILED;
    if (lrfind_suggest(c, o.steps, s) != 0)
        return lr_fail(e, "the range test recorded %ld finite loss%s: too few to suggest a rate; give --lrs", c->n,
                       c->n == 1 ? "" : "es"), EXIT_RUN_FAILED;
    return 0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int cmd_lrfind(int argc, char **argv) {
    lrfind_args a;
    memset(&a, 0, sizeof a);
    lrfind_defaults(&a.o);
    run_config cfg;
    lr_err e;
    int rc = parse_args(argc, argv, &a, &cfg, &e);
    if (rc == 1) {
        usage(stdout);
        return EXIT_OK;
    }
    if (rc != 0) goto bad;
    if (!a.out_dir[0]) { // results/lrfind-YYYYmmdd-HHMMSS, made unique
        char stamp[32];
        time_t t = time(NULL);
        strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&t));
        snprintf(a.out_dir, sizeof a.out_dir, "results/lrfind-%s", stamp);
        for (int k = 2; fs_exists(a.out_dir); k++) snprintf(a.out_dir, sizeof a.out_dir, "results/lrfind-%s-%d", stamp, k);
    }
    if (fs_check_room(a.out_dir, 32, "--out", &e) != 0) goto bad;
    if (fs_dir_nonempty(a.out_dir)) {
        lr_fail(&e, "--out %s: the folder already holds files; lrscope never overwrites them. Choose another "
                    "folder or remove it", a.out_dir);
        goto bad;
    }
    dataset train;
    if (prepare(&cfg, cfg.data_dir[0] != '\0', a.quiet, &train, &e) != 0) goto bad;
    if (fs_mkdirs(a.out_dir, &e) != 0) {
        dataset_free(&train);
        goto bad;
    }
    cli_catch_stop_signals();

    const int n_seeds = a.seeds ? a.seeds : 1;
    double (*sug)[3] = lr_calloc((size_t)n_seeds, sizeof *sug);
    int n_ok = 0, status = EXIT_OK;
    if (!a.quiet)
        fprintf(stderr, "lrscope lrfind: %s, %d training images, batch %d, %s; up to %d steps, lr %g -> %g -> %s\n",
                cfg.dataset, train.n, cfg.batch_size, cfg.optimizer, a.o.steps, a.o.start_lr, a.o.end_lr, a.out_dir);
    for (int k = 0; k < n_seeds && !cli_stop; k++) {
        if (a.seeds) cfg.seed = (uint64_t)(k + 1);
        lrfind_curve c;
        if (lrfind_run(&cfg, &a.o, &train, dataset_find(cfg.dataset), &cli_stop, &c, &e) != 0) {
            dataset_free(&train);
            free(sug);
            goto bad;
        }
        if (cli_stop) {
            lrfind_curve_free(&c);
            break;
        }
        char stem[64], file[80], path[4200], title[160];
        snprintf(stem, sizeof stem, a.seeds ? "lrfind-seed-%d" : "lrfind", k + 1);
        snprintf(file, sizeof file, "%s.csv", stem);
        fs_join(path, sizeof path, a.out_dir, file);
        lrfind_suggestions s;
        int have = lrfind_suggest(&c, a.o.steps, &s) == 0;
        snprintf(title, sizeof title, "LR range test, seed %llu, %ld steps%s", (unsigned long long)cfg.seed, c.n,
                 c.stopped ? " (stopped at 4x)" : "");
        if (lrfind_write_csv(path, &c, &e) != 0 || plot_lrfind(a.out_dir, stem, &c, have ? &s : NULL, title, &e) != 0) {
            lrfind_curve_free(&c);
            dataset_free(&train);
            free(sug);
            fprintf(stderr, "lrscope lrfind: %s\n", e.msg);
            return EXIT_RUN_FAILED;
        }
        if (have) {
            printf("seed %llu: valley %.3g, steepest %.3g, minimum/10 %.3g (%ld steps%s)\n",
                   (unsigned long long)cfg.seed, s.valley, s.steepest, s.minimum, c.n,
                   c.stopped ? ", stopped: smoothed loss above 4x its best" : "");
            sug[n_ok][0] = s.valley;
            sug[n_ok][1] = s.steepest;
            sug[n_ok][2] = s.minimum;
            n_ok++;
        } else {
            printf("seed %llu: no suggestion: %ld finite losses are too few\n", (unsigned long long)cfg.seed, c.n);
            status = EXIT_RUN_FAILED;
        }
        lrfind_curve_free(&c);
    }
    dataset_free(&train);
    if (cli_stop) {
        fprintf(stderr, "lrscope lrfind: interrupted\n");
        status = EXIT_RUN_FAILED;
    }
    if (a.seeds && n_ok > 1) {
        static const char *const names[3] = {"valley", "steepest", "minimum/10"};
        printf("spread over %d seeds:   min        median     max        max/min\n", n_ok);
        int wide[3] = {0};
        double ratio[3];
        for (int j = 0; j < 3; j++) {
            double *v = lr_malloc((size_t)n_ok * sizeof *v);
            for (int k = 0; k < n_ok; k++) v[k] = sug[k][j];
            double med = median(v, n_ok);
            ratio[j] = v[n_ok - 1] / v[0];
            wide[j] = ratio[j] > 3.0;
            printf("  %-20s %-10.3g %-10.3g %-10.3g %.3g\n", names[j], v[0], med, v[n_ok - 1], ratio[j]);
            free(v);
        }
        for (int j = 0; j < 3; j++) {
            if (wide[j])
                printf("%s: the suggestion moves by a factor of %.3g between seeds, wider than 3: one range "
                       "test does not pin this rate down; prefer the median or a grid around it\n", names[j],
                       ratio[j]);
            else
                printf("%s: within a factor of 3 across seeds (%.3g)\n", names[j], ratio[j]);
        }
    }
    free(sug);
    return status;
bad:
    fprintf(stderr, "lrscope lrfind: %s\n", e.msg);
    return EXIT_BAD_INPUT;
}
