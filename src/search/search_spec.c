// search_spec.c: a search's specification (search.h): defaults, the flags,
// the single-value parsers shared with the study file, and the final check.
#include "search.h"

#include <errno.h>
#include <math.h>
#include <string.h>

static const char *const METHODS[] = {"random", "tpe", "grid", NULL};
static const char *const METRICS[] = {"test_acc", "test_loss", "test_f1", "train_acc",
                                      "train_loss", "train_f1", "best_test_acc", NULL};
static const char *const PRUNERS[] = {"none", "asha", "median", NULL};

const char *const SEARCH_FLAGS[] = {"search", "trials", "space", "metric", "direction", "pruner",
                                    "search-seed", "search-seeds", "grid-points", "search-lag", NULL};

void search_spec_init(search_spec *sp) {
    memset(sp, 0, sizeof *sp);
    sp->method = SEARCH_TPE;
    sp->metric = METRIC_TEST_ACC;
    sp->maximize = 1;
    sp->seed = 1;
    sp->n_seeds = 1;
    sp->grid_points = SEARCH_DEFAULT_GRID_POINTS;
    sp->lag = SEARCH_DEFAULT_LAG;
    prune_defaults(&sp->pruner, PRUNER_NONE);
}

const char *search_method_name(search_method m) { return METHODS[m]; }
const char *search_metric_name(search_metric m) { return METRICS[m]; }

// The index of text in names, or -1 with a message suggesting the closest.
static int pick(const char *text, const char *const *names, const char *what, const char *where, lr_err *e) {
    for (int i = 0; names[i]; i++)
        if (!strcmp(text, names[i])) return i;
    char list[300];
    size_t n = 0;
    for (int i = 0; names[i]; i++) n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "", names[i]);
    const char *near = knob_closest(text, names);
    lr_fail(e, "%s %s: unknown %s; expected one of %s%s%s%s", where, text, what, list, near ? " (did you mean " : "",
            near ? near : "", near ? "?)" : "");
    return -1;
}

static int parse_int(const char *text, long lo, long hi, int *out, const char *where, const char *what, lr_err *e) {
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (!text[0] || *end || errno || v < lo || v > hi)
        return lr_fail(e, "%s %s: expected %s, a whole number in [%ld, %ld]", where, text, what, lo, hi);
    *out = (int)v;
    return 0;
}

int search_method_parse(const char *text, search_method *m, const char *where, lr_err *e) {
    int i = pick(text, METHODS, "search method", where, e);
    if (i < 0) return -1;
    *m = (search_method)i;
    return 0;
}

int search_metric_parse(const char *text, search_metric *m, int *maximize, const char *where, lr_err *e) {
    int i = pick(text, METRICS, "metric", where, e);
    if (i < 0) return -1;
    *m = (search_metric)i;
    if (maximize) *maximize = strstr(text, "loss") == NULL;
    return 0;
}

int search_direction_parse(const char *text, int *maximize, const char *where, lr_err *e) {
    static const char *const DIRS[] = {"minimize", "maximize", NULL};
    int i = pick(text, DIRS, "direction", where, e);
    if (i < 0) return -1;
    *maximize = i;
    return 0;
}

int search_pruner_set(prune_cfg *cfg, const char *key, const char *value, const char *where, lr_err *e) {
    char w[600];
    snprintf(w, sizeof w, "%s: %s", where, key);
    static const char *const KEYS[] = {"grace", "eta", "max_epochs", "startup", "warmup", NULL};
    int i = pick(key, KEYS, "pruner setting", where, e);
    if (i < 0) return -1;
    if ((i <= 2 && cfg->type != PRUNER_ASHA) || (i >= 3 && cfg->type != PRUNER_MEDIAN))
        return lr_fail(e, "%s: %s is a setting of the %s pruner, not of %s", where, key, i <= 2 ? "asha" : "median",
                       prune_type_name(cfg->type));
    switch (i) {
    case 0: return parse_int(value, 1, 100000, &cfg->grace, w, "the grace period in epochs", e);
    case 1: return parse_int(value, 2, 1000, &cfg->eta, w, "the reduction factor", e);
    case 2: return parse_int(value, 1, 100000, &cfg->max_epochs, w, "the maximum epochs", e);
    case 3: return parse_int(value, 0, SEARCH_MAX_TRIALS, &cfg->n_startup, w, "the startup trials", e);
    default: return parse_int(value, 0, 100000, &cfg->n_warmup, w, "the warm-up epochs", e);
    }
}

int search_pruner_parse(const char *text, prune_cfg *cfg, const char *where, lr_err *e) {
    char buf[512];
    if (strlen(text) >= sizeof buf) return lr_fail(e, "%s: longer than %zu characters", where, sizeof buf - 1);
    snprintf(buf, sizeof buf, "%s", text);
    char *rest = strchr(buf, ':');
    if (rest) *rest++ = '\0';
    int i = pick(buf, PRUNERS, "pruner", where, e);
    if (i < 0) return -1;
    prune_defaults(cfg, (pruner_type)i);
    if (!rest) return 0;
    if (i == PRUNER_NONE) return lr_fail(e, "%s %s: the none pruner has no settings", where, text);
    for (char *tok = rest; tok;) {
        char *next = strchr(tok, ',');
        if (next) *next++ = '\0';
        char *eq = strchr(tok, '=');
        if (!eq) return lr_fail(e, "%s %s: expected KEY=VALUE settings, e.g. asha:grace=1,eta=3", where, text);
        *eq = '\0';
        if (search_pruner_set(cfg, tok, eq + 1, where, e) != 0) return -1;
        tok = next;
    }
    return 0;
}

int search_spec_parse_flag(search_spec *sp, const char *flag, const char *value, lr_err *e) {
    const char *f = strncmp(flag, "--", 2) == 0 ? flag + 2 : flag;
    int i = pick(f, SEARCH_FLAGS, "search flag", flag, e);
    if (i < 0) return -1;
    char where[80];
    snprintf(where, sizeof where, "--%s", f);
    if (!value) return lr_fail(e, "%s: expected a value", where);
    switch (i) {
    case 0: return search_method_parse(value, &sp->method, where, e);
    case 1: return parse_int(value, 1, SEARCH_MAX_TRIALS, &sp->n_trials, where, "the number of trials", e);
    case 2: return space_add_flag(&sp->space, value, where, e);
    case 3: {
        int maximize;
        if (search_metric_parse(value, &sp->metric, &maximize, where, e) != 0) return -1;
        if (!sp->direction_set) sp->maximize = maximize;
        return 0;
    }
    case 4:
        sp->direction_set = 1;
        return search_direction_parse(value, &sp->maximize, where, e);
    case 5: return search_pruner_parse(value, &sp->pruner, where, e);
    case 6: {
        int s = 0;
        if (parse_int(value, 0, 2147483647L, &s, where, "the search seed", e) != 0) return -1;
        sp->seed = (uint64_t)s;
        return 0;
    }
    case 7: return parse_int(value, 1, SEARCH_MAX_SEEDS, &sp->n_seeds, where, "the seeds per point", e);
    case 8: return parse_int(value, 2, 1000, &sp->grid_points, where, "the points per continuous axis", e);
    default: return parse_int(value, 0, 1000, &sp->lag, where, "the trials read as running", e);
    }
}

int search_spec_check(search_spec *sp, int run_epochs, const char *where, lr_err *e) {
    if (sp->space.n == 0)
        return lr_fail(e, "%s: no space; expected at least one parameter (e.g. --space lr=loguniform:1e-4:1)", where);
    if (sp->method == SEARCH_GRID) {
        long size = search_grid_size(sp);
        if (size <= 0 || size > SEARCH_MAX_TRIALS)
            return lr_fail(e, "%s: the grid has more than %d points; fewer grid_points or parameters", where,
                           SEARCH_MAX_TRIALS);
        if (sp->n_trials == 0) sp->n_trials = (int)size;
    }
    if (sp->n_trials == 0) return lr_fail(e, "%s: expected the number of trials (--trials N, trials: N)", where);
    prune_cfg *p = &sp->pruner;
    if (p->type == PRUNER_ASHA) {
        if (p->max_epochs == 0) p->max_epochs = run_epochs;
        if (p->max_epochs < 1) return lr_fail(e, "%s: pruner: expected max_epochs >= 1", where);
        if (p->grace >= p->max_epochs)
            return lr_fail(e, "%s: pruner: grace %d is not below max_epochs %d, so there is no rung", where, p->grace,
                           p->max_epochs);
    }
    return 0;
}
