// cmd_run.c: `lrscope run [STUDY.yaml]`: reads the study file and the flags
// (knob flags come from the knob table) into a study design, expands it into
// runs and hands them to study_execute.
#include "commands.h"
#include "../data/dataset.h"
#include "../fetch/fetch.h"
#include "../model/kernels.h"
#include "../report/tfevents.h"
#include "../study/search_run.h"
#include "../study/study.h"
#include "../study/study_file.h"
#include "../train/knobs.h"
#include "../train/optim.h"
#include "../train/train.h"
#include "../util/fsutil.h"

#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <signal.h>
#include <string.h>

static void usage(FILE *out) {
    fprintf(out,
            "usage: lrscope run [STUDY.yaml] [options]\n"
            "\n"
            "Trains the model once per condition of the grid and seed, records train/test\n"
            "loss, accuracy and macro-F1 every epoch, then writes figures and a report.\n"
            "Without a grid it is the seed study: ConvNet on CIFAR-10, SGD momentum 0.9,\n"
            "batch 128, StepLR(5, 0.5), 30 epochs, learning rates 0.1, 0.01, 0.001, seed 1.\n"
            "A study file (YAML: name, seeds, base:, grid:, see the README) sets the same\n"
            "things; flags given with it override its settings.\n"
            "\n"
            "Study:\n"
            "  --grid KEY=V1,V2,...\n"
            "                      an axis: the conditions are the product of the axes, in\n"
            "                      order (repeatable); also KEY=logspace:A:B:N and\n"
            "                      KEY=linspace:A:B:N. Every knob below can be an axis\n"
            "                      unless marked [not an axis]\n"
            "  --lrs LIST          shorthand for --grid lr=LIST (default 0.1,0.01,0.001)\n"
            "  --lrs auto          run the range test first (lrscope lrfind, default settings,\n"
            "                      the study's seed) and take the valley suggestion x 1/10,\n"
            "                      1/3, 1 and 3 (also --grid lr=auto, lr: auto in a file)\n"
            "  --seeds N|LIST      repeat every condition with seeds 1..N, or the seeds listed\n"
            "                      (e.g. 1,2,7); default: --seed alone\n"
            "  --out DIR           study folder; must not hold files (default\n"
            "                      results/study-YYYYmmdd-HHMMSS)\n"
            "  --jobs N            runs trained side by side; 0 = auto: one run per core\n"
            "                      side by side when the runs fill the cores evenly, else\n"
            "                      one run at a time on all cores, so every run is timed\n"
            "                      under the same conditions (default 0)\n"
            "  --no-report         skip the figures and report at the end\n"
            "  --no-ensemble       skip the study's ensembles at the end (ensemble.csv: each\n"
            "                      condition's seeds, or all runs of a one-seed study)\n"
            "  --tensorboard DIR   TensorBoard event files under DIR/<study name>/ (the\n"
            "                      run folders' tree) instead of in the study folder\n"
            "  --quiet             no progress output\n"
            "  -h, --help          this help\n"
            "\n"
            "Search (instead of a grid; docs/search.md; also a study file's search: section):\n"
            "  --search random|tpe|grid\n"
            "                      search the space: trial n's point is suggested from the\n"
            "                      trials before it; runs/trial-NNN/seed-S per run\n"
            "  --trials N          the number of trials (grid: default the grid's size)\n"
            "  --space KEY=SPEC    a searched knob (repeatable): loguniform:A:B, uniform:A:B,\n"
            "                      int:A:B[:log], categorical:V1,V2,...\n"
            "  --metric NAME       the objective: test_acc (default), test_loss, test_f1,\n"
            "                      train_acc, train_loss, train_f1, best_test_acc\n"
            "  --direction maximize|minimize\n"
            "                      default: minimize for a loss, else maximize\n"
            "  --pruner none|asha[:grace=G,eta=E,max_epochs=R]|median[:startup=S,warmup=W]\n"
            "                      early stopping of the trials (default none); with a\n"
            "                      pruner the runs must evaluate every epoch (--eval-interval 1)\n"
            "                      and ASHA's max_epochs is the runs' epochs\n"
            "  --search-seed N     the search's own seed (default 1)\n"
            "  --search-seeds K    every point on seeds 1..K, their mean optimised (default 1;\n"
            "                      or the seeds of --seeds)\n"
            "  --grid-points N     grid: values per continuous knob (default 5)\n"
            "  --search-lag N      trials read as still running when the next is suggested\n"
            "                      (default 3): at most N + 1 trials run at once, and the\n"
            "                      result does not depend on --jobs\n"
            "\n"
            "Knobs (each also a study file key, with '_' for '-'):\n");
    knobs_help(out);
    fprintf(out,
            "\n"
            "Exit status: 0 all runs finished, 1 a run diverged, was interrupted or failed,\n"
            "2 bad input (nothing trained).\n");
}

// The flags that are not knobs.
static const char *const STUDY_FLAGS[] = {"out", "jobs", "quiet", "no-report", "no-ensemble", "seeds", "grid", "lrs",
                                          "tensorboard", "help"};
enum { N_STUDY_FLAGS = (int)(sizeof STUDY_FLAGS / sizeof STUDY_FLAGS[0]) };

typedef struct {
    const knob *k;
    const char *text;
    char flag[64];
} knob_flag_value;

// What the command line says, before it is combined with a study file.
typedef struct {
    const char *file;           // STUDY.yaml, or NULL
    knob_flag_value *knobs;     // (n_knobs) in order; the last of a knob wins
    int n_knobs;
    const char **grids;         // (n_grids) --grid arguments
    int n_grids;
    const char *seeds, *lrs;    // NULL when not given
    const char **search_flags;  // (n_search) "--name" then its value, in order
    int n_search;
} cli_args;

static int is_search_flag(const char *name) {
    for (int i = 0; SEARCH_FLAGS[i]; i++)
        if (!strcmp(name, SEARCH_FLAGS[i])) return 1;
    return 0;
}

static int unknown_flag(const char *name, lr_err *e) {
    const char *all[N_STUDY_FLAGS + 16];
    int n = 0;
    for (int i = 0; i < N_STUDY_FLAGS; i++) all[n++] = STUDY_FLAGS[i];
    for (int i = 0; SEARCH_FLAGS[i] && n < N_STUDY_FLAGS + 16; i++) all[n++] = SEARCH_FLAGS[i];
    return knobs_unknown_flag(name, all, n, "run", e);
}

static int parse_count(const char *flag, const char *s, long lo, long hi, int *out, lr_err *e) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi)
        return lr_fail(e, "%s %s: expected a whole number in [%ld, %ld]", flag, s, lo, hi);
    *out = (int)v;
    return 0;
}

// Parses argv into a and the study options; every knob value is checked as
// it is read. Returns 1 for --help.
static int parse_args(int argc, char **argv, cli_args *a, study *s, lr_err *e) {
    run_config scratch;
    config_defaults(&scratch);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) return 1;
        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
            if (a->file) return lr_fail(e, "unexpected argument \"%s\" (a study file, %s, is already given; "
                                           "see lrscope run --help)", arg, a->file);
            a->file = arg;
            continue;
        }
        char name[64];
        const char *eq = strchr(arg, '='), *value = NULL;
        size_t len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
        if (len >= sizeof name) return unknown_flag(arg + 2, e);
        memcpy(name, arg + 2, len);
        name[len] = '\0';
        if (eq) value = eq + 1;
        int is_switch = !strcmp(name, "quiet") || !strcmp(name, "no-report") || !strcmp(name, "no-ensemble");
        const knob *k = knob_find_flag(name);
        int known = k != NULL;
        for (int j = 0; j < N_STUDY_FLAGS && !known; j++) known = !strcmp(name, STUDY_FLAGS[j]);
        int search_flag = !known && is_search_flag(name);
        if (!known && !search_flag) return unknown_flag(name, e);
        if (is_switch) {
            if (value) return lr_fail(e, "--%s takes no value", name);
            if (!strcmp(name, "quiet")) s->quiet = 1;
            else if (!strcmp(name, "no-ensemble")) s->no_ensemble = 1;
            else s->no_report = 1;
            continue;
        }
        if (!value) {
            if (k && k->type == KNOB_BOOL) value = "true"; // --nesterov alone means true
            else if (i + 1 < argc) value = argv[++i];
            else return lr_fail(e, "--%s: expects a value (see lrscope run --help)", name);
        }
        if (search_flag) {
            a->search_flags[a->n_search++] = arg; // "--name" or "--name=value": the name is cut below
            a->search_flags[a->n_search++] = value;
        } else if (k) {
            char flag[64];
            knob_flag(k, flag, sizeof flag);
            if (knob_parse(k, value, &scratch, flag, e) != 0) return -1;
            knob_flag_value *kv = &a->knobs[a->n_knobs++];
            kv->k = k;
            kv->text = value;
            snprintf(kv->flag, sizeof kv->flag, "%s", flag);
        } else if (!strcmp(name, "out")) {
            if (value[0] == '\0') return lr_fail(e, "--out: empty value; expected a folder");
            if (strlen(value) >= sizeof s->out_dir)
                return lr_fail(e, "--out: longer than %zu characters", sizeof s->out_dir - 1);
            snprintf(s->out_dir, sizeof s->out_dir, "%s", value);
        } else if (!strcmp(name, "tensorboard")) {
            if (value[0] == '\0') return lr_fail(e, "--tensorboard: empty value; expected a folder");
            if (strlen(value) >= sizeof s->tensorboard)
                return lr_fail(e, "--tensorboard: longer than %zu characters", sizeof s->tensorboard - 1);
            snprintf(s->tensorboard, sizeof s->tensorboard, "%s", value);
        } else if (!strcmp(name, "jobs")) {
            if (parse_count("--jobs", value, 0, 256, &s->jobs, e) != 0) return -1;
        } else if (!strcmp(name, "grid")) {
            a->grids[a->n_grids++] = value;
        } else if (!strcmp(name, "seeds")) {
            a->seeds = value;
        } else if (!strcmp(name, "lrs")) {
            a->lrs = value;
        }
    }
    return 0;
}

// Combines the study file (if any) and the flags into sp. Precedence: the
// defaults, then the file, then the flags; a knob flag may not set a knob the
// grid varies (use --grid KEY=... to replace that axis).
static int build_spec(const cli_args *a, study_spec *sp, search_spec *search, int *has_search, lr_err *e) {
    if (a->file && study_file_read_search(a->file, sp, search, has_search, e) != 0) return -1;
    for (int i = 0; i < a->n_search; i += 2) {
        char flag[64];
        const char *arg = a->search_flags[i], *eq = strchr(arg, '=');
        size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
        snprintf(flag, sizeof flag, "%.*s", (int)len, arg);
        if (search_spec_parse_flag(search, flag, a->search_flags[i + 1], e) != 0) return -1;
        *has_search = 1;
    }
    int seed_flag = 0, seeds_flag = a->seeds != NULL;
    for (int i = 0; i < a->n_knobs; i++) seed_flag |= !strcmp(a->knobs[i].k->name, "seed");
    for (int i = 0; i < a->n_grids; i++) seeds_flag |= !strncmp(a->grids[i], "seed=", 5);
    if (seed_flag && seeds_flag) return lr_fail(e, "--seed: give either --seed N (one seed) or --seeds / --grid seed=...");
    for (int i = 0; i < a->n_grids; i++) {
        if (!strcmp(a->grids[i], "lr=auto")) { // the range test picks the axis
            sp->lr_auto = 1;
            continue;
        }
        if (!strncmp(a->grids[i], "lr=", 3)) sp->lr_auto = 0; // a flag's rates replace a file's lr: auto
        if (spec_parse_grid_flag(sp, a->grids[i], e) != 0) return -1;
    }
    if (a->lrs && !strcmp(a->lrs, "auto")) {
        sp->lr_auto = 1;
    } else if (a->lrs) {
        sp->lr_auto = 0; // the rates given replace a file's lr: auto
        char arg[4200];
        if (snprintf(arg, sizeof arg, "lr=%s", a->lrs) >= (int)sizeof arg) return lr_fail(e, "--lrs: too long");
        if (spec_parse_grid_flag(sp, arg, e) != 0) {
            char msg[sizeof e->msg];
            snprintf(msg, sizeof msg, "%s", e->msg);
            return lr_fail(e, "--lrs: %s", msg);
        }
    }
    for (int i = 0; i < a->n_knobs; i++) {
        const knob_flag_value *kv = &a->knobs[i];
        if (spec_axis(sp, kv->k))
            return lr_fail(e, "%s: %s is an axis of the grid%s%s; use --grid %s=... to replace the axis",
                           kv->flag, kv->k->name, a->file ? " in " : "", a->file ? a->file : "", kv->k->name);
        lr_err ok;
        LR_ASSERT(knob_parse(kv->k, kv->text, &sp->base, kv->flag, &ok) == 0); // checked in parse_args
        if (!strcmp(kv->k->name, "seed")) sp->n_seeds = 0; // --seed N: that seed alone
        if (!strcmp(kv->k->name, "lr")) sp->lr_set = 1;    // --lr X: that rate alone
    }
    if (a->seeds && spec_set_seeds(sp, a->seeds, "--seeds", e) != 0) return -1;
    if (sp->lr_auto && sp->lr_set)
        return lr_fail(e, "--lr: lr auto picks the rates with the range test; give one or the other");
    return 0;
}

// A search: refuses a grid beside it, checks the spec against the runs'
// settings, and makes the study's run slots (trials x seeds, each the base
// configuration until its trial is suggested). The caller frees *runs,
// *trials and *seeds.
static int setup_search(const cli_args *a, study_spec *sp, search_spec *search, study *s, run_config *base,
                        run_config **runs, run_trial **trials, uint64_t **seeds, int *n_runs, lr_err *e) {
    const char *where = a->file ? a->file : "--search";
    char w[4200];
    snprintf(w, sizeof w, "%s%s", where, a->file ? ": search" : "");
    if (sp->n_axes > 0 || sp->lr_auto || a->lrs)
        return lr_fail(e, "%s: a search and a grid (%s) at once are not supported; give the searched knobs as "
                          "--space KEY=SPEC (search: space:) and drop the grid", w,
                       a->lrs ? "--lrs" : sp->lr_auto ? "lr auto" : "--grid or grid:");
    *base = sp->base;
    if (search_spec_check(search, base->epochs, w, e) != 0) return -1;
    for (int i = 0; i < search->space.n; i++) {
        const char *name = search->space.p[i].k->name;
        if (!strcmp(name, "dataset") || !strcmp(name, "data_dir"))
            return lr_fail(e, "%s: space: %s: a search runs on one data set; set it as a knob, not a searched one",
                           w, name);
    }
    int test_metric = search->metric == METRIC_TEST_ACC || search->metric == METRIC_TEST_LOSS ||
                      search->metric == METRIC_TEST_F1 || search->metric == METRIC_BEST_TEST_ACC;
    if (search->pruner.type != PRUNER_NONE && test_metric && base->eval_interval != 1)
        return lr_fail(e, "--eval-interval %d: the %s pruner decides on %s after every rung, so the runs must be "
                          "evaluated every epoch; use --eval-interval 1 (or a train_ metric)",
                       base->eval_interval, prune_type_name(search->pruner.type), search_metric_name(search->metric));
    if (search->pruner.type == PRUNER_ASHA) base->epochs = search->pruner.max_epochs; // the runs go to R at most
    int k;
    if (sp->n_seeds > 0) {
        if (search->n_seeds > 1)
            return lr_fail(e, "%s: seeds: given both for the study (%d seeds) and the search (%d); give one", w,
                           sp->n_seeds, search->n_seeds);
        k = sp->n_seeds;
        if (k > SEARCH_MAX_SEEDS) return lr_fail(e, "--seeds: a search takes at most %d seeds", SEARCH_MAX_SEEDS);
        *seeds = lr_calloc((size_t)k, sizeof **seeds);
        for (int i = 0; i < k; i++) (*seeds)[i] = sp->seeds[i];
    } else {
        k = search->n_seeds;
        *seeds = lr_calloc((size_t)k, sizeof **seeds);
        for (int i = 0; i < k; i++) (*seeds)[i] = k == 1 ? base->seed : (uint64_t)(i + 1);
    }
    search->n_seeds = k;
    *n_runs = search->n_trials * k;
    *runs = lr_calloc((size_t)*n_runs, sizeof **runs);
    *trials = lr_calloc((size_t)*n_runs, sizeof **trials);
    for (int i = 0; i < *n_runs; i++) {
        (*runs)[i] = *base;
        (*runs)[i].seed = (*seeds)[i % k];
        (*trials)[i].trial = -1;
    }
    s->search = search;
    s->search_base = base;
    s->search_seeds = *seeds;
    s->n_search_seeds = k;
    s->run_trials = *trials;
    s->no_ensemble = 1; // a search's trials are not conditions to average (ensemble.csv is not made)
    for (int i = 0; i < search->space.n; i++) s->axes[s->n_axes++] = search->space.p[i].k;
    return 0;
}

// lr: auto: runs the range test on the base configuration (its seed, or the
// first of the study's seeds) and sets the lr axis to the valley suggestion
// x 1/10, 1/3, 1, 3; fills f and c for the study folder. Returns 0 or the
// exit status.
static int pick_lrs(study_spec *sp, int quiet, study_lrfind *f, lrfind_curve *c, lr_err *e) {
    run_config base = sp->base;
    if (sp->n_seeds > 0) base.seed = sp->seeds[0];
    grid_axis *seed_axis = spec_axis(sp, knob_find("seed"));
    if (seed_axis) {
        lr_err ok;
        LR_ASSERT(knob_parse(knob_find("seed"), seed_axis->values[0], &base, "seed", &ok) == 0);
    }
    lrfind_suggestions s;
    int rc = lrfind_for_study(&base, quiet, &cli_stop, c, &s, e);
    if (rc != 0) return rc;
    lrfind_opts o;
    lrfind_defaults(&o);
    static const double factor[4] = {0.1, 1.0 / 3.0, 1.0, 3.0};
    char text[4][32];
    const char *values[4];
    run_config scratch = sp->base;
    for (int i = 0; i < 4; i++) {
        snprintf(text[i], sizeof text[i], "%.3g", s.valley * factor[i]);
        values[i] = text[i];
        lr_err ok;
        if (knob_parse(knob_find("lr"), text[i], &scratch, "lr", &ok) != 0)
            return lr_fail(e, "lr auto: the range test's valley %g gives a rate out of range (%s)", s.valley, ok.msg),
                   EXIT_RUN_FAILED;
        f->lrs[i] = scratch.lr;
    }
    if (spec_set_axis(sp, knob_find("lr"), values, 4, "lr auto", e) != 0) return EXIT_RUN_FAILED;
    *f = (study_lrfind){base.seed, o.steps, o.start_lr, o.end_lr, c->n, s.valley, s.steepest, s.minimum,
                        {f->lrs[0], f->lrs[1], f->lrs[2], f->lrs[3]}};
    if (!quiet)
        fprintf(stderr, "lrscope: lr auto: valley %.3g (steepest %.3g, minimum/10 %.3g); rates %s, %s, %s, %s\n",
                s.valley, s.steepest, s.minimum, text[0], text[1], text[2], text[3]);
    return 0;
}

// The data folder is missing: fetch it when it is where a fetch would put it.
int cli_ensure_data(const run_config *base, int data_given, int quiet, lr_err *e) {
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
    study s;
    memset(&s, 0, sizeof s);
    lr_err e;
    cli_args a;
    memset(&a, 0, sizeof a);
    a.knobs = lr_calloc((size_t)argc, sizeof *a.knobs);
    a.grids = lr_calloc((size_t)argc, sizeof *a.grids);
    a.search_flags = lr_calloc((size_t)argc * 2, sizeof *a.search_flags);
    search_spec *search = lr_malloc(sizeof *search);
    search_spec_init(search);
    int has_search = 0;
    run_config search_base;
    run_trial *run_trials = NULL;
    uint64_t *search_seeds = NULL;
    study_spec *sp = lr_malloc(sizeof *sp);
    spec_init(sp);
    run_config *runs = NULL;
    int n_runs = 0, status = EXIT_BAD_INPUT;
    study_lrfind finder;
    lrfind_curve finder_curve;
    lrfind_curve_init(&finder_curve);
    int rc = parse_args(argc, argv, &a, &s, &e);
    if (rc == 1) {
        usage(stdout);
        status = EXIT_OK;
        goto done;
    }
    if (rc != 0 || build_spec(&a, sp, search, &has_search, &e) != 0) goto bad;
    if (has_search) {
        if (setup_search(&a, sp, search, &s, &search_base, &runs, &run_trials, &search_seeds, &n_runs, &e) != 0)
            goto bad;
        snprintf(s.name, sizeof s.name, "%s", sp->name);
    } else if (sp->lr_auto) {
        int st = pick_lrs(sp, s.quiet, &finder, &finder_curve, &e);
        if (st != 0) {
            fprintf(stderr, "lrscope run: %s\n", e.msg);
            status = st;
            goto done;
        }
        s.lrfind = &finder;
        s.lrfind_curve = &finder_curve;
    }
    if (!has_search) {
        if (spec_expand(sp, &runs, &n_runs, &e) != 0) goto bad;
        snprintf(s.name, sizeof s.name, "%s", sp->name);
        for (int i = 0; i < sp->n_axes; i++) s.axes[s.n_axes++] = sp->axes[i].k;
        if (sp->n_axes == 0) s.axes[s.n_axes++] = knob_find("lr"); // spec_expand's default axis: study.json lists it
    }
    for (int i = 0; i < n_runs; i++)
        if (!kernels_select(runs[i].isa, &e)) goto bad;
    // Fetch each data set that is missing, once.
    for (int i = 0; i < n_runs; i++) {
        int seen = 0;
        for (int j = 0; j < i && !seen; j++)
            seen = !strcmp(runs[i].dataset, runs[j].dataset) && !strcmp(runs[i].data_dir, runs[j].data_dir);
        if (!seen && cli_ensure_data(&runs[i], sp->base.data_dir[0] != '\0', s.quiet, &e) != 0) goto bad;
    }
    if (!s.out_dir[0]) study_default_dir(s.out_dir, sizeof s.out_dir);
    if (s.tensorboard[0]) { // like --out, a study's TensorBoard folder is never overwritten
        char tb[4200];
        if (tfevents_study_dir(tb, sizeof tb, s.out_dir, s.tensorboard, s.name, &e) != 0 ||
            fs_check_room(tb, FS_STUDY_NAME_MAX, "--tensorboard", &e) != 0)
            goto bad;
        if (fs_dir_nonempty(tb)) {
            lr_fail(&e, "--tensorboard %s: %s already holds files; lrscope never overwrites a study's event files. "
                        "Give the study another name or --tensorboard folder", s.tensorboard, tb);
            goto bad;
        }
    }
    s.runs = runs;
    s.n_runs = n_runs;
    // A stop signal ends the study the same way as a failed run: the current
    // run is marked interrupted with its epochs kept, then summary.csv and the
    // report are written and the exit status is 1.
    s.stop = &cli_stop;
    cli_catch_stop_signals();
    status = study_execute(&s, &e);
    if (status == EXIT_BAD_INPUT) fprintf(stderr, "lrscope run: %s\n", e.msg);
    if (cli_stop) {
        fprintf(stderr, "lrscope: interrupted; finished runs keep their files in %s\n", s.out_dir);
        if (status == EXIT_OK) status = EXIT_RUN_FAILED;
    }
    goto done;
bad:
    fprintf(stderr, "lrscope run: %s\n", e.msg);
    status = EXIT_BAD_INPUT;
done:
    lrfind_curve_free(&finder_curve);
    free(runs);
    free(run_trials);
    free(search_seeds);
    free(search);
    free(a.search_flags);
    spec_free(sp);
    free(sp);
    free(a.knobs);
    free(a.grids);
    return status;
}
