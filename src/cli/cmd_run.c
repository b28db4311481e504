// cmd_run.c: `lrscope run`: parses the study's flags into one run_config per
// learning rate and hands them to study_execute.
#include "commands.h"
#include "../data/dataset.h"
#include "../fetch/fetch.h"
#include "../model/kernels.h"
#include "../study/study.h"
#include "../train/optim.h"
#include "../train/train.h"
#include "../util/fsutil.h"

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <math.h>
#include <signal.h>
#include <string.h>

static volatile sig_atomic_t g_stop; // set by Ctrl-C, SIGTERM or SIGHUP; the only way a signal can talk to us

static void on_stop_signal(int sig) {
    (void)sig;
    g_stop = 1; // SA_RESETHAND: a second Ctrl-C (or SIGTERM) ends at once
}

static void usage(FILE *out) {
    run_config d;
    config_defaults(&d);
    fprintf(out,
            "usage: lrscope run [options]\n"
            "\n"
            "Trains the model once per learning rate and records train/test loss,\n"
            "accuracy and macro-F1 every epoch, then writes figures and a report.\n"
            "Defaults reproduce the seed study: ConvNet on CIFAR-10, SGD momentum 0.9,\n"
            "batch 128, StepLR(5, 0.5), 30 epochs, learning rates 0.1, 0.01, 0.001.\n"
            "\n"
            "  --data DIR          data set folder (default data/<data set folder>, e.g.\n"
            "                      %s; fetched there when missing)\n"
            "  --dataset NAME      %s (default %s)\n"
            "  --out DIR           study folder; must not hold files (default\n"
            "                      results/study-YYYYmmdd-HHMMSS)\n"
            "  --lrs LIST          comma-separated learning rates (default 0.1,0.01,0.001)\n"
            "  --epochs N          epochs per run (default %d)\n"
            "  --batch-size N      images per step; the last partial batch is kept (default %d)\n"
            "  --momentum X        SGD momentum, PyTorch form (default %g)\n"
            "  --weight-decay X    L2 weight decay (default %g)\n"
            "  --schedule NAME     step or constant (default %s)\n"
            "  --step-size N       StepLR period in epochs (default %d)\n"
            "  --gamma X           StepLR factor (default %g)\n"
            "  --eval-interval N   test every N epochs and after the last (default %d)\n"
            "  --seed N            seed for initialisation, shuffling, augmentation (default %llu)\n"
            "  --model SPEC        layers, e.g. \"%s\"\n"
            "  --threads N         compute threads, 0 = all cores (default 0); results are\n"
            "                      identical for every N\n"
            "  --isa NAME          kernels: auto, scalar, avx2, avx512 (default auto)\n"
            "  --jobs N            runs trained side by side; 0 = auto: one run per core\n"
            "                      side by side when the runs fill the cores evenly, else\n"
            "                      one run at a time on all cores, so every run is timed\n"
            "                      under the same conditions (default 0)\n"
            "  --prefetch MODE     transform images on a separate loader thread: on, off,\n"
            "                      auto = when a core is spare (default auto)\n"
            "  --no-report         skip the figures and report at the end\n"
            "  --quiet             no progress output\n"
            "  -h, --help          this help\n"
            "\n"
            "Exit status: 0 all runs finished, 1 a run diverged, was interrupted or failed,\n"
            "2 bad input (nothing trained).\n",
            d.data_dir, dataset_names(), d.dataset, d.epochs, d.batch_size, d.momentum,
            d.weight_decay, d.schedule, d.step_size, d.gamma, d.eval_interval,
            (unsigned long long)d.seed, d.model);
}

// Copies a flag's text, refusing an empty value and what does not fit rather than cutting it.
static int copy_arg(char *dst, size_t cap, const char *flag, const char *text, lr_err *e) {
    if (!text[0]) return lr_fail(e, "%s is empty; expected a value (see `lrscope run --help`)", flag);
    if (strlen(text) >= cap) return lr_fail(e, "%s: longer than %zu characters", flag, cap - 1);
    memcpy(dst, text, strlen(text) + 1);
    return 0;
}

static int parse_double(const char *flag, const char *s, double lo, double hi, double *out, lr_err *e) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v) || v < lo || v > hi)
        return lr_fail(e, "%s %s: expected a number in [%g, %g]", flag, s, lo, hi);
    *out = v;
    return 0;
}

static int parse_int(const char *flag, const char *s, long lo, long hi, long *out, lr_err *e) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi)
        return lr_fail(e, "%s %s: expected a whole number in [%ld, %ld]", flag, s, lo, hi);
    *out = v;
    return 0;
}

static int parse_lrs(const char *s, double *lrs, int cap, int *n, lr_err *e) {
    *n = 0;
    char buf[1024];
    if (snprintf(buf, sizeof buf, "%s", s) >= (int)sizeof buf) return lr_fail(e, "--lrs: list too long");
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (*n == cap) return lr_fail(e, "--lrs: more than %d rates", cap);
        if (parse_double("--lrs", tok, 1e-12, 1e6, &lrs[*n], e) != 0) return -1;
        for (int i = 0; i < *n; i++)
            if (lrs[i] == lrs[*n]) return lr_fail(e, "--lrs: %s is listed twice", tok);
        (*n)++;
    }
    if (*n == 0) return lr_fail(e, "--lrs %s: expected comma-separated learning rates", s);
    return 0;
}

enum { OPT_DATA = 256, OPT_DATASET, OPT_OUT, OPT_LRS, OPT_EPOCHS, OPT_BATCH, OPT_MOMENTUM, OPT_WD,
       OPT_SCHEDULE, OPT_STEP, OPT_GAMMA, OPT_EVAL, OPT_SEED, OPT_MODEL, OPT_THREADS, OPT_ISA,
       OPT_NO_REPORT, OPT_QUIET, OPT_JOBS, OPT_PREFETCH };

static const struct option OPTIONS[] = {
    {"data", required_argument, 0, OPT_DATA}, {"dataset", required_argument, 0, OPT_DATASET},
    {"out", required_argument, 0, OPT_OUT}, {"lrs", required_argument, 0, OPT_LRS},
    {"epochs", required_argument, 0, OPT_EPOCHS}, {"batch-size", required_argument, 0, OPT_BATCH},
    {"momentum", required_argument, 0, OPT_MOMENTUM}, {"weight-decay", required_argument, 0, OPT_WD},
    {"schedule", required_argument, 0, OPT_SCHEDULE}, {"step-size", required_argument, 0, OPT_STEP},
    {"gamma", required_argument, 0, OPT_GAMMA}, {"eval-interval", required_argument, 0, OPT_EVAL},
    {"seed", required_argument, 0, OPT_SEED}, {"model", required_argument, 0, OPT_MODEL},
    {"threads", required_argument, 0, OPT_THREADS}, {"isa", required_argument, 0, OPT_ISA},
    {"jobs", required_argument, 0, OPT_JOBS}, {"prefetch", required_argument, 0, OPT_PREFETCH},
    {"no-report", no_argument, 0, OPT_NO_REPORT}, {"quiet", no_argument, 0, OPT_QUIET},
    {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
};

// Parses argv into base config + rates + study options; returns 1 for --help.
static int parse_args(int argc, char **argv, run_config *base, double *lrs, int *n_lrs,
                      study *s, int *data_given, lr_err *e) {
    long v = 0;
    double x = 0;
    optind = 1;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, ":h", OPTIONS, NULL)) != -1) {
        switch (opt) {
        case OPT_DATA:
            if (copy_arg(base->data_dir, sizeof base->data_dir, "--data", optarg, e) != 0) return -1;
            *data_given = 1;
            break;
        case OPT_DATASET:
            if (copy_arg(base->dataset, sizeof base->dataset, "--dataset", optarg, e) != 0) return -1;
            break;
        case OPT_OUT:
            if (copy_arg(s->out_dir, sizeof s->out_dir, "--out", optarg, e) != 0) return -1;
            break;
        case OPT_LRS: if (parse_lrs(optarg, lrs, 64, n_lrs, e) != 0) return -1; break;
        case OPT_EPOCHS:
            if (parse_int("--epochs", optarg, 1, 100000, &v, e) != 0) return -1;
            base->epochs = (int)v;
            break;
        case OPT_BATCH:
            if (parse_int("--batch-size", optarg, 1, 65536, &v, e) != 0) return -1;
            base->batch_size = (int)v;
            break;
        case OPT_MOMENTUM:
            if (parse_double("--momentum", optarg, 0, 1, &base->momentum, e) != 0) return -1;
            break;
        case OPT_WD:
            if (parse_double("--weight-decay", optarg, 0, 1, &base->weight_decay, e) != 0) return -1;
            break;
        case OPT_SCHEDULE:
            if (!schedule_known(optarg))
                return lr_fail(e, "--schedule %s: unknown; expected step or constant", optarg);
            snprintf(base->schedule, sizeof base->schedule, "%s", optarg);
            break;
        case OPT_STEP:
            if (parse_int("--step-size", optarg, 1, 100000, &v, e) != 0) return -1;
            base->step_size = (int)v;
            break;
        case OPT_GAMMA:
            if (parse_double("--gamma", optarg, 0, 10, &x, e) != 0) return -1;
            base->gamma = x;
            break;
        case OPT_EVAL:
            if (parse_int("--eval-interval", optarg, 1, 100000, &v, e) != 0) return -1;
            base->eval_interval = (int)v;
            break;
        case OPT_SEED:
            if (parse_int("--seed", optarg, 0, 2147483647L, &v, e) != 0) return -1;
            base->seed = (uint64_t)v;
            break;
        case OPT_MODEL:
            if (copy_arg(base->model, sizeof base->model, "--model", optarg, e) != 0) return -1;
            break;
        case OPT_THREADS:
            if (parse_int("--threads", optarg, 0, 256, &v, e) != 0) return -1;
            base->threads = (int)v;
            break;
        case OPT_ISA:
            if (copy_arg(base->isa, sizeof base->isa, "--isa", optarg, e) != 0) return -1;
            break;
        case OPT_JOBS:
            if (parse_int("--jobs", optarg, 0, 256, &v, e) != 0) return -1;
            s->jobs = (int)v;
            break;
        case OPT_PREFETCH:
            if (!strcmp(optarg, "on")) base->prefetch = 1;
            else if (!strcmp(optarg, "off")) base->prefetch = 0;
            else if (!strcmp(optarg, "auto")) base->prefetch = -1;
            else return lr_fail(e, "--prefetch %s: expected on, off or auto", optarg);
            break;
        case OPT_NO_REPORT: s->no_report = 1; break;
        case OPT_QUIET: s->quiet = 1; break;
        case 'h': return 1;
        case ':': return lr_fail(e, "%s: expects a value (see lrscope run --help)", argv[optind - 1]);
        default: return lr_fail(e, "%s: unknown option (see lrscope run --help)", argv[optind - 1]);
        }
    }
    if (optind < argc) return lr_fail(e, "unexpected argument \"%s\" (see lrscope run --help)", argv[optind]);
    return 0;
}

// The data folder is missing: fetch it when it is where a fetch would put it.
static int ensure_data(const run_config *base, int data_given, int quiet, lr_err *e) {
    if (dataset_check_dir(base->data_dir, e) != 0) return -1; // a FIFO, a file, too long
    if (fs_is_dir(base->data_dir)) return 0;
    const dataset_info *info = dataset_find(base->dataset);
    if (!info || !info->folder) return 0; // the loader reports it
    char copy[4096], copy2[4096];
    snprintf(copy, sizeof copy, "%s", base->data_dir);
    snprintf(copy2, sizeof copy2, "%s", base->data_dir);
    if (strcmp(basename(copy), info->folder) != 0) {
        return lr_fail(e, "--data %s: no such folder; expected the %s files there (or a folder named "
                          "%s, which lrscope fetches when missing)", base->data_dir, info->name, info->folder);
    }
    if (!quiet)
        fprintf(stderr, "lrscope: %s not found%s; fetching %s (lrscope fetch %s --dir %s)\n",
                base->data_dir, data_given ? "" : " (the default --data)", info->name, info->name,
                dirname(copy2));
    snprintf(copy2, sizeof copy2, "%s", base->data_dir);
    fetch_options opt = {NULL, NULL, quiet};
    if (fetch_dataset(info->name, dirname(copy2), &opt, e) != 0) {
        char msg[sizeof e->msg];
        snprintf(msg, sizeof msg, "%s", e->msg);
        return lr_fail(e, "%s\n(or point --data at a folder that holds the %s files)", msg, info->name);
    }
    return 0;
}

int cmd_run(int argc, char **argv) {
    run_config base;
    config_defaults(&base);
    double lrs[64] = {0.1, 0.01, 0.001};
    int n_lrs = 3, data_given = 0;
    study s;
    memset(&s, 0, sizeof s);
    lr_err e;
    int rc = parse_args(argc, argv, &base, lrs, &n_lrs, &s, &data_given, &e);
    if (rc == 1) {
        usage(stdout);
        return EXIT_OK;
    }
    if (rc != 0) {
        fprintf(stderr, "lrscope run: %s\n", e.msg);
        return EXIT_BAD_INPUT;
    }
    const dataset_info *info = dataset_find(base.dataset);
    if (!info) {
        fprintf(stderr, "lrscope run: --dataset %s: unknown; expected one of %s\n", base.dataset, dataset_names());
        return EXIT_BAD_INPUT;
    }
    if (!data_given && info->folder) snprintf(base.data_dir, sizeof base.data_dir, "data/%s", info->folder);
    if (!kernels_select(base.isa, &e)) {
        fprintf(stderr, "lrscope run: %s\n", e.msg);
        return EXIT_BAD_INPUT;
    }
    if (ensure_data(&base, data_given, s.quiet, &e) != 0) {
        fprintf(stderr, "lrscope run: %s\n", e.msg);
        return EXIT_BAD_INPUT;
    }
    if (!s.out_dir[0]) study_default_dir(s.out_dir, sizeof s.out_dir);
    run_config *runs = lr_calloc((size_t)n_lrs, sizeof *runs);
    for (int i = 0; i < n_lrs; i++) {
        runs[i] = base;
        runs[i].lr = lrs[i];
        snprintf(runs[i].name, sizeof runs[i].name, "lr-%g", lrs[i]);
        for (int j = 0; j < i; j++)
            if (strcmp(runs[i].name, runs[j].name) == 0) {
                fprintf(stderr, "lrscope run: --lrs: %.17g and %.17g both give the run folder %s; "
                                "use rates that differ in their first 6 digits\n", lrs[j], lrs[i], runs[i].name);
                free(runs);
                return EXIT_BAD_INPUT;
            }
    }
    s.runs = runs;
    s.n_runs = n_lrs;
    s.stop = &g_stop;
    // Ctrl-C, SIGTERM and SIGHUP (a closed terminal, a dropped ssh session)
    // all end the study the same way: the current run is marked interrupted
    // with its epochs kept, then summary.csv and the report are written and
    // the exit status is 1. A second Ctrl-C or SIGTERM ends at once; SIGHUP
    // stays caught, as a hangup often arrives twice (from the terminal, then
    // again from the shell as it exits).
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_flags = 0;
    sigaction(SIGHUP, &sa, NULL);
    int status = study_execute(&s, &e);
    if (status == EXIT_BAD_INPUT) fprintf(stderr, "lrscope run: %s\n", e.msg);
    if (g_stop) {
        fprintf(stderr, "lrscope: interrupted; finished runs keep their files in %s\n", s.out_dir);
        if (status == EXIT_OK) status = EXIT_RUN_FAILED;
    }
    free(runs);
    return status;
}
