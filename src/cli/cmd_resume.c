// cmd_resume.c: `lrscope resume STUDY_DIR`: continues a study that was
// interrupted (Ctrl-C), killed or stopped by a power cut. The runs come from
// study.json (every run's whole configuration); study_execute keeps the runs
// that ended, continues each partial run from its last good checkpoint and
// starts the others, then writes summary.csv and the report as `lrscope run`
// does. The result is the uninterrupted study's, bit for bit, except the
// timing fields.
#include "commands.h"
#include "../study/search_run.h"
#include "../study/study.h"
#include "../train/knobs.h"
#include "../util/fsutil.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <string.h>

static void usage(FILE *out) {
    fprintf(out,
            "usage: lrscope resume STUDY_DIR [options]\n"
            "\n"
            "Continues the study in STUDY_DIR after Ctrl-C, kill -9 or a power cut: runs\n"
            "that ended (finished, diverged, pruned) are kept as they are; a run that\n"
            "stopped part-way continues from its last good checkpoint (each run writes\n"
            "checkpoint.lrsc after every epoch and keeps the one before); runs never\n"
            "started are started. Then summary.csv and the report are written as at the\n"
            "end of `lrscope run`. Every file comes out as the uninterrupted study's, bit\n"
            "for bit, except the timing fields (seconds, images/s, dates), whatever\n"
            "--jobs. Only one lrscope at a time may own a study folder.\n"
            "\n"
            "Options:\n"
            "  --jobs N            runs trained side by side; 0 = auto (default 0)\n"
            "  --threads N         compute threads per run, 0 = all cores (default: as the\n"
            "                      study was run; results do not depend on it)\n"
            "  --no-report         skip the figures and report at the end\n"
            "  --quiet             no progress output\n"
            "  -h, --help          this help\n"
            "\n"
            "Exit status: 0 all runs finished, 1 a run diverged, was interrupted or failed,\n"
            "2 bad input (not a study folder, or another lrscope owns it).\n");
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

static int folder_ok(const char *name) {
    if (!name[0] || name[0] == '/') return 0;
    for (const char *p = name;;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) return 0;
        if (!slash) return 1;
        p = slash + 1;
    }
}

// A search's resume: the spec, its base configuration and seeds (study.json
// "search"), and room for every trial's runs.
typedef struct {
    search_spec spec;
    run_config base;
    uint64_t seeds[SEARCH_MAX_SEEDS];
    run_trial *trials;
} resume_search;

// Reads study.json's name, axes and runs into s (s->runs allocated); a
// search's spec into rs, s->runs then with room for all its trials.
static int read_study(const char *dir, study *s, resume_search *rs, lr_err *e) {
    char path[FS_PATH_MAX];
    if (fs_path(path, sizeof path, dir, "study.json", e) != 0) return -1;
    if (!fs_is_dir(dir))
        return lr_fail(e, "%s: no such folder; expected a study folder written by `lrscope run` (with its study.json)",
                       dir);
    char *text;
    size_t len;
    lr_err re;
    if (fs_read_all_max(path, 64u << 20, &text, &len, &re) != 0)
        return lr_fail(e, "%s (is %s a study folder written by `lrscope run`?)", re.msg, dir);
    json_error_t je;
    json_t *root = json_loadb(text, len, 0, &je);
    free(text);
    if (!json_is_object(root)) {
        json_decref(root);
        return lr_fail(e, "%s: not a JSON object (line %d: %s)", path, je.line, je.text);
    }
    int rc = -1;
    json_t *name = json_object_get(root, STUDY_KEY_NAME), *axes = json_object_get(root, STUDY_KEY_AXES),
           *runs = json_object_get(root, STUDY_KEY_RUNS);
    if (json_is_string(name)) snprintf(s->name, sizeof s->name, "%s", json_string_value(name));
    // Where the first process put the event files, and whether it made ensembles.
    json_t *tb = json_object_get(root, STUDY_KEY_TENSORBOARD);
    if (json_is_string(tb) && strlen(json_string_value(tb)) < sizeof s->tensorboard)
        snprintf(s->tensorboard, sizeof s->tensorboard, "%s", json_string_value(tb));
    s->no_ensemble = json_is_true(json_object_get(root, STUDY_KEY_NO_ENSEMBLE));
    json_t *search = json_object_get(root, STUDY_KEY_SEARCH);
    if (search) {
        int k = 0;
        search_spec_init(&rs->spec);
        if (search_spec_from_json(search, &rs->spec, &rs->base, rs->seeds, &k, path, e) != 0) goto done;
        char where[4200];
        snprintf(where, sizeof where, "%s: %s", path, STUDY_KEY_SEARCH);
        if (search_spec_check(&rs->spec, rs->base.epochs, where, e) != 0) goto done;
        rs->spec.n_seeds = k;
        s->search = &rs->spec;
        s->search_base = &rs->base;
        s->search_seeds = rs->seeds;
        s->n_search_seeds = k;
    }
    if (!json_is_array(runs) || (json_array_size(runs) == 0 && !search) || json_array_size(runs) > 1000000) {
        lr_fail(e, "%s: expected a non-empty array \"%s\"", path, STUDY_KEY_RUNS);
        goto done;
    }
    for (size_t a = 0; json_is_array(axes) && a < json_array_size(axes) && s->n_axes < STUDY_MAX_AXES; a++) {
        json_t *k = json_object_get(json_array_get(axes, a), STUDY_KEY_AXIS_KEY);
        const knob *kn = json_is_string(k) ? knob_find(json_string_value(k)) : NULL;
        if (!kn) {
            lr_fail(e, "%s: %s[%zu]: expected a knob's name as \"%s\"", path, STUDY_KEY_AXES, a, STUDY_KEY_AXIS_KEY);
            goto done;
        }
        s->axes[s->n_axes++] = kn;
    }
    size_t n = json_array_size(runs), cap = n;
    if (search) {
        cap = (size_t)rs->spec.n_trials * (size_t)s->n_search_seeds;
        if (n > cap) {
            lr_fail(e, "%s: %zu runs listed, more than the search's %d trials x %d seeds", path, n,
                    rs->spec.n_trials, s->n_search_seeds);
            goto done;
        }
    }
    s->runs = lr_calloc(cap > 0 ? cap : 1, sizeof *s->runs);
    for (size_t i = 0; i < n; i++) {
        json_t *run = json_array_get(runs, i);
        json_t *folder = json_object_get(run, RUN_KEY_FOLDER), *cond = json_object_get(run, RUN_KEY_CONDITION),
               *config = json_object_get(run, RUN_KEY_CONFIG);
        if (!json_is_string(folder) || !json_is_string(cond) || !json_is_object(config) ||
            !folder_ok(json_string_value(folder)) ||
            strlen(json_string_value(folder)) >= sizeof s->runs[0].name ||
            strlen(json_string_value(cond)) >= sizeof s->runs[0].condition) {
            lr_fail(e, "%s: %s[%zu]: expected a folder inside the study, a condition and a config", path,
                    STUDY_KEY_RUNS, i);
            goto done;
        }
        run_config *c = &s->runs[i];
        config_defaults(c);
        char where[4400];
        snprintf(where, sizeof where, "%s: %s[%zu].%s", path, STUDY_KEY_RUNS, i, RUN_KEY_CONFIG);
        if (knobs_from_json(config, c, where, e) != 0) goto done;
        snprintf(c->name, sizeof c->name, "%s", json_string_value(folder));
        snprintf(c->condition, sizeof c->condition, "%s", json_string_value(cond));
        for (size_t j = 0; j < i; j++)
            if (!strcmp(s->runs[j].name, c->name)) {
                lr_fail(e, "%s: %s[%zu]: folder %s is listed twice", path, STUDY_KEY_RUNS, i, c->name);
                goto done;
            }
        s->n_runs = (int)i + 1;
    }
    if (search) { // the slots of the trials to come hold the base configuration (search_run.h)
        s->search_recorded = s->n_runs;
        for (size_t i = n; i < cap; i++) {
            s->runs[i] = rs->base;
            s->runs[i].seed = rs->seeds[i % (size_t)s->n_search_seeds];
        }
        s->n_runs = (int)cap;
        rs->trials = lr_calloc(cap, sizeof *rs->trials);
        s->run_trials = rs->trials;
    }
    rc = 0;
done:
    json_decref(root);
    return rc;
}

int cmd_resume(int argc, char **argv) {
    study s;
    memset(&s, 0, sizeof s);
    lr_err e;
    const char *dir = NULL;
    int threads = -1;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *eq = strchr(arg, '=');
        char name[32] = "";
        const char *value = NULL;
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            usage(stdout);
            return EXIT_OK;
        }
        if (arg[0] != '-' || !arg[1]) {
            if (!arg[0]) {
                fprintf(stderr, "lrscope resume: STUDY_DIR is empty; expected a study folder\n");
                return EXIT_BAD_INPUT;
            }
            if (dir) {
                fprintf(stderr, "lrscope resume: expected one STUDY_DIR, got '%s' and '%s'\n", dir, arg);
                return EXIT_BAD_INPUT;
            }
            dir = arg;
            continue;
        }
        size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
        if (len < sizeof name) {
            memcpy(name, arg, len);
            name[len] = '\0';
        }
        if (!strcmp(name, "--quiet") || !strcmp(name, "--no-report")) {
            if (eq) {
                fprintf(stderr, "lrscope resume: %s takes no value\n", name);
                return EXIT_BAD_INPUT;
            }
            if (!strcmp(name, "--quiet")) s.quiet = 1;
            else s.no_report = 1;
            continue;
        }
        if (strcmp(name, "--jobs") != 0 && strcmp(name, "--threads") != 0) {
            fprintf(stderr, "lrscope resume: unknown option '%s' (expected --jobs, --threads, --quiet, "
                            "--no-report or --help)\n", arg);
            return EXIT_BAD_INPUT;
        }
        if (eq) value = eq + 1;
        else if (i + 1 < argc) value = argv[++i];
        else {
            fprintf(stderr, "lrscope resume: %s: expects a value\n", name);
            return EXIT_BAD_INPUT;
        }
        int *dst = !strcmp(name, "--jobs") ? &s.jobs : &threads;
        if (parse_count(name, value, 0, 256, dst, &e) != 0) {
            fprintf(stderr, "lrscope resume: %s\n", e.msg);
            return EXIT_BAD_INPUT;
        }
    }
    if (!dir) {
        fprintf(stderr, "lrscope resume: expected a STUDY_DIR (see `lrscope resume --help`)\n");
        return EXIT_BAD_INPUT;
    }
    if (strlen(dir) >= sizeof s.out_dir) {
        fprintf(stderr, "lrscope resume: %.200s: path too long\n", dir);
        return EXIT_BAD_INPUT;
    }
    snprintf(s.out_dir, sizeof s.out_dir, "%s", dir);
    resume_search *rs = lr_calloc(1, sizeof *rs);
    if (read_study(dir, &s, rs, &e) != 0) {
        fprintf(stderr, "lrscope resume: %s\n", e.msg);
        free(s.runs);
        free(rs->trials);
        free(rs);
        return EXIT_BAD_INPUT;
    }
    if (threads >= 0)
        for (int i = 0; i < s.n_runs; i++) s.runs[i].threads = threads;
    s.resume = 1;
    s.stop = &cli_stop;
    cli_catch_stop_signals();
    int status = study_execute(&s, &e);
    if (status == EXIT_BAD_INPUT) fprintf(stderr, "lrscope resume: %s\n", e.msg);
    if (cli_stop) {
        fprintf(stderr, "lrscope: interrupted; `lrscope resume %s` continues it\n", s.out_dir);
        if (status == EXIT_OK) status = EXIT_RUN_FAILED;
    }
    free(s.runs);
    free(rs->trials);
    free(rs);
    return status;
}
