// knobs.c: the table of a run's knobs and the few functions every user of
// it shares: parse a value (type and range checked), format it, compare it,
// write and read it as JSON, list it in --help.
#include "knobs.h"
#include "../data/dataset.h"
#include "../model/model.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#define FIELD(f) offsetof(run_config, f), sizeof(((run_config *)0)->f)

static const char *check_dataset(const char *v) {
    static char expected[320];
    if (dataset_find(v)) return NULL;
    snprintf(expected, sizeof expected, "one of %s", dataset_names());
    return expected;
}

// A model name or description whose layers are all of known kinds (the
// shapes are checked when the model is built for its data). Models with
// batch norm or dropout are refused for now: they train through
// model_batch.h, which the training loop does not call yet (issue 13).
static const char *check_model(const char *v) {
    static const char *const KINDS[] = {"conv", "linear", "relu", "bn", "maxpool", "avgpool",
                                        "gap", "flatten", "dropout", "add"};
    static char expected[300];
    char *full = lr_calloc(MODEL_SPEC_MAX, 1);
    const char *why = NULL;
    snprintf(expected, sizeof expected, "a model name (%s) or a description of layers conv, linear, relu, "
                                        "bn, maxpool, avgpool, gap, flatten, dropout, add (docs/models.md)",
             MODEL_NAMES);
    if (!*v || model_spec_expand(v, full, MODEL_SPEC_MAX, NULL) != 0) why = expected;
    for (const char *s = full; *s && !why;) {
        size_t len = strcspn(s, ",");
        const char *kind = s;
        while (kind < s + len && (*kind == ' ' || *kind == '\t')) kind++;
        size_t eq = strcspn(kind, "=:,");
        if (kind[eq] == '=') kind += eq + 1; // NAME=LAYER
        size_t kl = strcspn(kind, ":, \t");
        int known = -1;
        for (size_t i = 0; i < sizeof KINDS / sizeof KINDS[0]; i++)
            if (strlen(KINDS[i]) == kl && !strncmp(kind, KINDS[i], kl)) known = (int)i;
        if (known < 0) why = expected;
        s += len + (s[len] == ',');
    }
    free(full);
    return why;
}

// The rows, in the order --help, run.json and the report show them.
const knob KNOBS[] = {
    {"dataset", KNOB_STRING, FIELD(dataset), 0, 0, NULL, "cifar10", "NAME",
     "data set", 1, check_dataset},
    {"data", KNOB_STRING, FIELD(data_dir), 0, 0, NULL, "", "DIR",
     "data set folder; empty = data/<the data set's folder>, fetched there when missing", 1, NULL},
    {"model", KNOB_STRING, FIELD(model), 0, 0, NULL, MODEL_SEED_SPEC, "SPEC",
     "a model name (" MODEL_NAMES ") or layers, e.g. conv:4:3,relu,maxpool:2,linear:32,relu,linear "
     "(docs/models.md)", 1, check_model},
    {"lr", KNOB_DOUBLE, FIELD(lr), 1e-12, 1e6, NULL, "0.01", "X",
     "base learning rate (the seed study's axis: 0.1, 0.01, 0.001)", 1, NULL},
    {"momentum", KNOB_DOUBLE, FIELD(momentum), 0, 1, NULL, "0.9", "X",
     "SGD momentum, PyTorch form", 1, NULL},
    {"weight_decay", KNOB_DOUBLE, FIELD(weight_decay), 0, 1, NULL, "0", "X",
     "L2 weight decay, added to the gradient", 1, NULL},
    {"epochs", KNOB_INT, FIELD(epochs), 1, 100000, NULL, "30", "N",
     "epochs per run", 1, NULL},
    {"batch_size", KNOB_INT, FIELD(batch_size), 1, 65536, NULL, "128", "N",
     "images per step; the last partial batch is kept", 1, NULL},
    {"schedule", KNOB_ENUM, FIELD(schedule), 0, 0,
     "step|constant|multistep|exponential|cosine|cosine-restarts|onecycle|plateau", "step", "NAME",
     "learning-rate schedule, PyTorch's: StepLR, constant, MultiStepLR, ExponentialLR, CosineAnnealingLR, "
     "CosineAnnealingWarmRestarts, OneCycleLR, ReduceLROnPlateau (README: each with its knobs)", 1, NULL},
    {"step_size", KNOB_INT, FIELD(step_size), 1, 100000, NULL, "5", "N",
     "step: StepLR period in epochs", 1, NULL},
    {"gamma", KNOB_DOUBLE, FIELD(gamma), 0, 10, NULL, "0.5", "X",
     "step, multistep, exponential: the rate's factor, > 0", 1, NULL},
    {"eval_interval", KNOB_INT, FIELD(eval_interval), 1, 100000, NULL, "1", "N",
     "test every N epochs and after the last", 1, NULL},
    {"seed", KNOB_UINT64, FIELD(seed), 0, 2147483647.0, NULL, "1", "N",
     "initialisation, shuffling and augmentation (an axis: same as --seeds)", 1, NULL},
    {"threads", KNOB_INT, FIELD(threads), 0, 256, NULL, "0", "N",
     "compute threads per run, 0 = all cores; results are identical for every N", 0, NULL},
    {"isa", KNOB_ENUM, FIELD(isa), 0, 0, "auto|scalar|avx2|avx512", "auto", "NAME",
     "kernels", 0, NULL},
    {"prefetch", KNOB_ENUM, FIELD(prefetch), 0, 0, "auto|on|off", "auto", "MODE",
     "transform images on a separate loader thread (auto: when a core is spare)", 0, NULL},
    // ---- optimiser and schedule knobs (issue 10): PyTorch 1.13's names and defaults ----
    {"optimizer", KNOB_ENUM, FIELD(optimizer), 0, 0, "sgd|adam|adamw", "sgd", "NAME",
     "optimiser: SGD (momentum, dampening, nesterov, weight_decay), Adam or AdamW (beta1, beta2, eps, "
     "weight_decay, amsgrad)", 1, NULL},
    {"nesterov", KNOB_BOOL, FIELD(nesterov), 0, 0, NULL, "false", "BOOL",
     "sgd: Nesterov momentum (needs momentum > 0 and dampening 0)", 1, NULL},
    {"dampening", KNOB_DOUBLE, FIELD(dampening), 0, 1, NULL, "0", "X",
     "sgd: dampening of the momentum", 1, NULL},
    {"beta1", KNOB_DOUBLE, FIELD(beta1), 0, 1, NULL, "0.9", "X",
     "adam, adamw: first-moment decay, below 1", 1, NULL},
    {"beta2", KNOB_DOUBLE, FIELD(beta2), 0, 1, NULL, "0.999", "X",
     "adam, adamw: second-moment decay, below 1", 1, NULL},
    {"eps", KNOB_DOUBLE, FIELD(eps), 0, 1, NULL, "1e-08", "X",
     "adam, adamw: term added to the denominator", 1, NULL},
    {"amsgrad", KNOB_BOOL, FIELD(amsgrad), 0, 0, NULL, "false", "BOOL",
     "adam, adamw: the AMSGrad variant", 1, NULL},
    {"milestones", KNOB_INT_LIST, FIELD(milestones), 1, 1000000000, NULL, "", "N,N,...",
     "multistep: epochs (or steps, --milestone-unit) at which the rate is multiplied by gamma, increasing "
     "(required by multistep)", 1, NULL},
    {"milestone_unit", KNOB_ENUM, FIELD(milestone_unit), 0, 0, "epochs|steps", "epochs", "UNIT",
     "multistep: milestones in epochs (MultiStepLR stepped per epoch) or in optimiser steps (stepped per "
     "batch: He et al.'s 32000,48000)", 1, NULL},
    {"max_steps", KNOB_INT, FIELD(max_steps), 0, 1000000000, NULL, "0", "N",
     "end the run after N optimiser steps, inside its last epoch, and evaluate there; 0 = all its epochs "
     "(schedules still span the epochs)", 1, NULL},
    {"t_max", KNOB_INT, FIELD(t_max), -1, 100000, NULL, "-1", "N",
     "cosine: T_max, the half-period in epochs; -1 = the run's epochs after any warm-up", 1, NULL},
    {"eta_min", KNOB_DOUBLE, FIELD(eta_min), 0, 1e6, NULL, "0", "X",
     "cosine, cosine-restarts: the lowest rate", 1, NULL},
    {"t_0", KNOB_INT, FIELD(t_0), 1, 100000, NULL, "10", "N",
     "cosine-restarts: T_0, the first period in epochs", 1, NULL},
    {"t_mult", KNOB_INT, FIELD(t_mult), 1, 1000, NULL, "1", "N",
     "cosine-restarts: T_mult, each period's growth factor", 1, NULL},
    {"max_lr", KNOB_DOUBLE, FIELD(max_lr), -1, 1e6, NULL, "-1", "X",
     "onecycle: the peak rate; -1 = the run's lr (so an lr axis is a max_lr axis)", 1, NULL},
    {"pct_start", KNOB_DOUBLE, FIELD(pct_start), 0, 1, NULL, "0.3", "X",
     "onecycle: share of the steps spent rising, in (0, 1)", 1, NULL},
    {"div_factor", KNOB_DOUBLE, FIELD(div_factor), 0, 1e9, NULL, "25", "X",
     "onecycle: initial rate = max_lr / div_factor, > 0", 1, NULL},
    {"final_div_factor", KNOB_DOUBLE, FIELD(final_div_factor), 0, 1e12, NULL, "10000", "X",
     "onecycle: final rate = initial rate / final_div_factor, > 0", 1, NULL},
    {"anneal", KNOB_ENUM, FIELD(anneal), 0, 0, "cos|linear", "cos", "NAME",
     "onecycle: anneal_strategy", 1, NULL},
    {"three_phase", KNOB_BOOL, FIELD(three_phase), 0, 0, NULL, "false", "BOOL",
     "onecycle: rise, fall back symmetrically, then anneal (fastai's shape when false)", 1, NULL},
    {"cycle_momentum", KNOB_BOOL, FIELD(cycle_momentum), 0, 0, NULL, "true", "BOOL",
     "onecycle: cycle sgd's momentum (adam's beta1) inversely to the rate", 1, NULL},
    {"base_momentum", KNOB_DOUBLE, FIELD(base_momentum), 0, 1, NULL, "0.85", "X",
     "onecycle: momentum at the peak rate, below 1 and at most max_momentum", 1, NULL},
    {"max_momentum", KNOB_DOUBLE, FIELD(max_momentum), 0, 1, NULL, "0.95", "X",
     "onecycle: momentum at the lowest rates, below 1", 1, NULL},
    {"warmup_start_factor", KNOB_DOUBLE, FIELD(warmup_start_factor), 0, 1, NULL, "0.3333333333333333", "X",
     "warm-up (LinearLR, chained before the schedule as SequentialLR): first rate = lr x this, in (0, 1]", 1,
     NULL},
    {"warmup_epochs", KNOB_INT, FIELD(warmup_epochs), 0, 100000, NULL, "0", "N",
     "warm-up length in epochs, stepped per epoch; 0 = none", 1, NULL},
    {"warmup_steps", KNOB_INT, FIELD(warmup_steps), 0, 1000000000, NULL, "0", "N",
     "warm-up length in optimiser steps, stepped per batch; 0 = none (give epochs or steps, not both)", 1, NULL},
    {"plateau_mode", KNOB_ENUM, FIELD(plateau_mode), 0, 0, "min|max", "min", "MODE",
     "plateau: min for test_loss, max for test_acc", 1, NULL},
    {"plateau_metric", KNOB_ENUM, FIELD(plateau_metric), 0, 0, "test_loss|test_acc", "test_loss", "NAME",
     "plateau: the monitored metric, fed after each evaluation", 1, NULL},
    {"plateau_factor", KNOB_DOUBLE, FIELD(plateau_factor), 0, 1, NULL, "0.1", "X",
     "plateau: rate *= factor at each cut, in (0, 1)", 1, NULL},
    {"plateau_patience", KNOB_INT, FIELD(plateau_patience), 0, 100000, NULL, "10", "N",
     "plateau: evaluations without improvement before a cut", 1, NULL},
    {"plateau_threshold", KNOB_DOUBLE, FIELD(plateau_threshold), 0, 1e6, NULL, "0.0001", "X",
     "plateau: the smallest change that counts as an improvement", 1, NULL},
    {"plateau_threshold_mode", KNOB_ENUM, FIELD(plateau_threshold_mode), 0, 0, "rel|abs", "rel", "MODE",
     "plateau: threshold relative to the best or absolute", 1, NULL},
    {"plateau_cooldown", KNOB_INT, FIELD(plateau_cooldown), 0, 100000, NULL, "0", "N",
     "plateau: evaluations ignored after a cut", 1, NULL},
    {"plateau_min_lr", KNOB_DOUBLE, FIELD(plateau_min_lr), 0, 1e6, NULL, "0", "X",
     "plateau: the rate's floor", 1, NULL},
    {"plateau_eps", KNOB_DOUBLE, FIELD(plateau_eps), 0, 1e6, NULL, "1e-08", "X",
     "plateau: cuts smaller than this are skipped", 1, NULL},
};
const int N_KNOBS = (int)(sizeof KNOBS / sizeof KNOBS[0]);

void config_defaults(run_config *c) {
    memset(c, 0, sizeof *c);
    for (int i = 0; i < N_KNOBS; i++) {
        lr_err e;
        int rc = knob_parse(&KNOBS[i], KNOBS[i].def, c, "default", &e);
        if (rc != 0) fprintf(stderr, "lrscope: knob %s: %s\n", KNOBS[i].name, e.msg);
        LR_ASSERT(rc == 0); // a default outside its own range is a bug in the table
    }
}

const knob *knob_find(const char *name) {
    for (int i = 0; i < N_KNOBS; i++)
        if (strcmp(KNOBS[i].name, name) == 0) return &KNOBS[i];
    return NULL;
}

const knob *knob_find_flag(const char *flag) {
    if (strncmp(flag, "--", 2) == 0) flag += 2;
    char name[64];
    size_t n = strlen(flag);
    if (n >= sizeof name) return NULL;
    for (size_t i = 0; i <= n; i++) {
        if (flag[i] == '_') return NULL; // flags spell words with '-'
        name[i] = flag[i] == '-' ? '_' : flag[i];
    }
    return knob_find(name);
}

void knob_flag(const knob *k, char *out, size_t cap) {
    size_t n = (size_t)snprintf(out, cap, "--%s", k->name);
    for (size_t i = 2; i < n && i < cap; i++)
        if (out[i] == '_') out[i] = '-';
}

int knob_edit_distance(const char *a, const char *b) {
    enum { MAX = 64 };
    size_t n = strlen(a), m = strlen(b);
    if (n >= MAX || m >= MAX) return (int)(n > m ? n : m);
    int d[MAX][MAX];
    for (size_t i = 0; i <= n; i++) d[i][0] = (int)i;
    for (size_t j = 0; j <= m; j++) d[0][j] = (int)j;
    for (size_t i = 1; i <= n; i++)
        for (size_t j = 1; j <= m; j++) {
            int cost = a[i - 1] != b[j - 1];
            int v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v) v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < v) v = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1; // a swap of two neighbours counts once
            d[i][j] = v;
        }
    return d[n][m];
}

const char *knob_closest(const char *word, const char *const *candidates) {
    const char *best = NULL;
    int best_d = 1 << 30;
    for (int i = 0; candidates[i]; i++) {
        int d = knob_edit_distance(word, candidates[i]);
        if (d < best_d) {
            best_d = d;
            best = candidates[i];
        }
    }
    if (!best) return NULL;
    size_t longer = strlen(word) > strlen(best) ? strlen(word) : strlen(best);
    int allowed = (int)(longer / 3) > 2 ? (int)(longer / 3) : 2;
    return best_d <= allowed ? best : NULL;
}

void knob_range_text(const knob *k, char *out, size_t cap) {
    switch (k->type) {
    case KNOB_DOUBLE: snprintf(out, cap, "a number in [%g, %g]", k->lo, k->hi); break;
    case KNOB_INT:
    case KNOB_UINT64: snprintf(out, cap, "a whole number in [%.0f, %.0f]", k->lo, k->hi); break;
    case KNOB_INT_LIST:
        snprintf(out, cap, "comma-separated whole numbers in [%.0f, %.0f] (at most %d)", k->lo, k->hi,
                 CONFIG_LIST_MAX);
        break;
    case KNOB_BOOL: snprintf(out, cap, "true or false"); break;
    case KNOB_ENUM: {
        size_t n = (size_t)snprintf(out, cap, "one of ");
        for (const char *p = k->values; *p && n + 2 < cap; p++) {
            if (*p == '|') n += (size_t)snprintf(out + n, cap - n, ", ");
            else out[n++] = *p;
            out[n < cap ? n : cap - 1] = '\0';
        }
        break;
    }
    case KNOB_STRING: {
        const char *why = k->check ? k->check("") : NULL; // "" is never valid for a checked string
        if (why) snprintf(out, cap, "%s", why);
        else snprintf(out, cap, "text of at most %zu characters", k->size - 1);
        break;
    }
    }
}

static int enum_has(const char *values, const char *v) {
    size_t n = strlen(v);
    for (const char *p = values; *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, v, n) == 0) return 1;
        if (!bar) break;
        p = bar + 1;
    }
    return 0;
}

static int parse_whole(const char *s, double lo, double hi, long long *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end || errno || (double)v < lo || (double)v > hi) return -1;
    *out = v;
    return 0;
}

int knob_parse(const knob *k, const char *text, run_config *c, const char *where, lr_err *e) {
    void *field = (char *)c + k->offset;
    char range[400];
    knob_range_text(k, range, sizeof range);
    // An empty default stands for "derived" (data: data/<folder>) or "none"
    // (milestones: the empty list); only the
    // table itself may give it: an empty value from a user is refused.
    if (text[0] == '\0' &&
        !((k->type == KNOB_STRING || k->type == KNOB_INT_LIST) && k->def[0] == '\0' && !strcmp(where, "default")))
        return lr_fail(e, "%s: empty value; expected %s", where, range);
    switch (k->type) {
    case KNOB_DOUBLE: {
        char *end;
        errno = 0;
        double v = strtod(text, &end);
        if (end == text || *end || errno || !isfinite(v) || v < k->lo || v > k->hi)
            return lr_fail(e, "%s %s: expected %s", where, text, range);
        *(double *)field = v;
        return 0;
    }
    case KNOB_INT:
    case KNOB_UINT64: {
        long long v;
        if (parse_whole(text, k->lo, k->hi, &v) != 0) return lr_fail(e, "%s %s: expected %s", where, text, range);
        if (k->type == KNOB_INT) *(int *)field = (int)v;
        else *(uint64_t *)field = (uint64_t)v;
        return 0;
    }
    case KNOB_BOOL: {
        int v;
        if (!strcmp(text, "true") || !strcmp(text, "1") || !strcmp(text, "yes") || !strcmp(text, "on")) v = 1;
        else if (!strcmp(text, "false") || !strcmp(text, "0") || !strcmp(text, "no") || !strcmp(text, "off")) v = 0;
        else return lr_fail(e, "%s %s: expected %s", where, text, range);
        *(int *)field = v;
        return 0;
    }
    case KNOB_ENUM:
        if (!enum_has(k->values, text)) {
            // a misspelling gets the closest value
            char values[512], *cands[64 + 1];
            int n = 0;
            snprintf(values, sizeof values, "%s", k->values);
            for (char *tok = values; tok && n < 64; n++) {
                cands[n] = tok;
                tok = strchr(tok, '|');
                if (tok) *tok++ = '\0';
            }
            cands[n] = NULL;
            const char *near = knob_closest(text, (const char *const *)cands);
            return lr_fail(e, "%s %s: unknown; expected %s%s%s%s", where, text, range, near ? "; did you mean \"" : "",
                           near ? near : "", near ? "\"?" : "");
        }
        LR_ASSERT(strlen(text) < k->size);
        memcpy(field, text, strlen(text) + 1);
        return 0;
    case KNOB_STRING: {
        if (strlen(text) >= k->size)
            return lr_fail(e, "%s: longer than %zu characters", where, k->size - 1);
        const char *why = k->check && text[0] ? k->check(text) : NULL;
        if (why) return lr_fail(e, "%s %s: unknown; expected %s", where, text, why);
        memcpy(field, text, strlen(text) + 1);
        return 0;
    }
    case KNOB_INT_LIST: {
        int_list l = {0};
        const char *p = text;
        while (text[0]) { // "" (only from the table): the empty list
            const char *comma = strchr(p, ',');
            size_t len = comma ? (size_t)(comma - p) : strlen(p);
            char item[32];
            long long v;
            if (len == 0 || len >= sizeof item || l.n == CONFIG_LIST_MAX)
                return lr_fail(e, "%s %s: expected %s", where, text, range);
            memcpy(item, p, len);
            item[len] = '\0';
            if (parse_whole(item, k->lo, k->hi, &v) != 0)
                return lr_fail(e, "%s %s: %s: expected %s", where, text, item, range);
            l.v[l.n++] = (int)v;
            if (!comma) break;
            p = comma + 1;
        }
        *(int_list *)field = l;
        return 0;
    }
    }
    LR_ASSERT(0);
    return -1;
}

void knob_format(const knob *k, const run_config *c, char *out, size_t cap, int style) {
    const void *field = (const char *)c + k->offset;
    switch (k->type) {
    case KNOB_DOUBLE: {
        double v = *(const double *)field;
        if (style == KNOB_TEXT_SHORT) {
            snprintf(out, cap, "%g", v);
            return;
        }
        for (int digits = 15; digits <= 17; digits++) { // the shortest text that reads back exactly
            snprintf(out, cap, "%.*g", digits, v);
            if (strtod(out, NULL) == v) return;
        }
        return;
    }
    case KNOB_INT: snprintf(out, cap, "%d", *(const int *)field); return;
    case KNOB_UINT64: snprintf(out, cap, "%llu", (unsigned long long)*(const uint64_t *)field); return;
    case KNOB_BOOL: snprintf(out, cap, "%s", *(const int *)field ? "true" : "false"); return;
    case KNOB_ENUM:
    case KNOB_STRING: snprintf(out, cap, "%s", (const char *)field); return;
    case KNOB_INT_LIST: {
        const int_list *l = field;
        size_t n = 0;
        out[0] = '\0';
        for (int i = 0; i < l->n && n < cap; i++)
            n += (size_t)snprintf(out + n, cap - n, "%s%d", i ? "," : "", l->v[i]);
        return;
    }
    }
}

int knob_equal(const knob *k, const run_config *a, const run_config *b) {
    const void *x = (const char *)a + k->offset, *y = (const char *)b + k->offset;
    switch (k->type) {
    case KNOB_DOUBLE: return *(const double *)x == *(const double *)y;
    case KNOB_INT:
    case KNOB_BOOL: return *(const int *)x == *(const int *)y;
    case KNOB_UINT64: return *(const uint64_t *)x == *(const uint64_t *)y;
    case KNOB_ENUM:
    case KNOB_STRING: return strcmp(x, y) == 0;
    case KNOB_INT_LIST: {
        const int_list *p = x, *q = y;
        return p->n == q->n && memcmp(p->v, q->v, (size_t)p->n * sizeof p->v[0]) == 0;
    }
    }
    return 0;
}

// A JSON string of s; bytes that are not UTF-8 (a path in another encoding)
// become '?', so the field is never silently dropped.
static json_t *json_text(const char *s) {
    json_t *j = json_string(s);
    if (j) return j;
    size_t n = strlen(s);
    char *clean = lr_malloc(n + 1);
    for (size_t i = 0; i <= n; i++) clean[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
    j = json_string(clean);
    free(clean);
    LR_ASSERT(j != NULL);
    return j;
}

json_t *knobs_to_json(const run_config *c) {
    json_t *o = json_object();
    LR_ASSERT(o != NULL);
    for (int i = 0; i < N_KNOBS; i++) {
        const knob *k = &KNOBS[i];
        const void *field = (const char *)c + k->offset;
        json_t *v = NULL;
        switch (k->type) {
        case KNOB_DOUBLE: v = json_real(*(const double *)field); break;
        case KNOB_INT: v = json_integer(*(const int *)field); break;
        case KNOB_UINT64: v = json_integer((json_int_t)*(const uint64_t *)field); break;
        case KNOB_BOOL: v = json_boolean(*(const int *)field); break;
        case KNOB_ENUM:
        case KNOB_STRING: v = json_text(field); break;
        case KNOB_INT_LIST: {
            const int_list *l = field;
            v = json_array();
            for (int j = 0; j < l->n; j++) json_array_append_new(v, json_integer(l->v[j]));
            break;
        }
        }
        LR_ASSERT(v != NULL);
        json_object_set_new(o, k->name, v);
    }
    return o;
}

// A JSON value as the text a flag would give for k; -1 if the JSON type is wrong.
static int json_as_text(const knob *k, json_t *v, char *out, size_t cap) {
    switch (k->type) {
    case KNOB_DOUBLE:
        if (!json_is_number(v)) return -1;
        snprintf(out, cap, "%.17g", json_number_value(v));
        return 0;
    case KNOB_INT:
    case KNOB_UINT64:
        if (!json_is_integer(v)) return -1;
        snprintf(out, cap, "%lld", (long long)json_integer_value(v));
        return 0;
    case KNOB_BOOL:
        if (!json_is_boolean(v)) return -1;
        snprintf(out, cap, "%s", json_is_true(v) ? "true" : "false");
        return 0;
    case KNOB_ENUM:
    case KNOB_STRING:
        if (!json_is_string(v)) return -1;
        if (snprintf(out, cap, "%s", json_string_value(v)) >= (int)cap) return -1;
        return 0;
    case KNOB_INT_LIST: {
        if (!json_is_array(v) || json_array_size(v) == 0) return -1;
        size_t n = 0;
        for (size_t i = 0; i < json_array_size(v) && n < cap; i++) {
            json_t *x = json_array_get(v, i);
            if (!json_is_integer(x)) return -1;
            n += (size_t)snprintf(out + n, cap - n, "%s%lld", i ? "," : "", (long long)json_integer_value(x));
        }
        return n < cap ? 0 : -1;
    }
    }
    return -1;
}

static const char *KIND[] = {"a number", "a whole number", "a whole number", "a string", "a string",
                             "true or false", "an array of whole numbers"};

int knobs_from_json(json_t *obj, run_config *c, const char *where, lr_err *e) {
    if (!json_is_object(obj)) return lr_fail(e, "%s: expected an object of knobs", where);
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        const knob *k = knob_find(key);
        if (!k) {
            const char *names[128 + 1];
            int n = 0;
            for (; n < N_KNOBS && n < 128; n++) names[n] = KNOBS[n].name;
            names[n] = NULL;
            const char *near = knob_closest(key, names);
            return lr_fail(e, "%s: unknown key \"%s\"%s%s%s", where, key, near ? "; did you mean \"" : "",
                           near ? near : "", near ? "\"?" : "");
        }
        char text[4200], at[4400];
        snprintf(at, sizeof at, "%s: %s", where, key);
        if (k->type == KNOB_INT_LIST && k->def[0] == '\0' && json_is_array(v) && json_array_size(v) == 0) {
            ((int_list *)((char *)c + k->offset))->n = 0; // the default's empty list, as written
            continue;
        }
        if (json_as_text(k, v, text, sizeof text) != 0)
            return lr_fail(e, "%s: expected %s", at, KIND[k->type]);
        if (knob_parse(k, text, c, at, e) != 0) return -1;
    }
    return 0;
}

// Writes text from column `indent`, wrapping at 79 columns.
static void wrap(FILE *out, const char *text, int col, int indent) {
    const char *p = text;
    while (*p) {
        const char *sp = strchr(p, ' ');
        int len = sp ? (int)(sp - p) : (int)strlen(p);
        if (col > indent && col + 1 + len > 79) {
            fprintf(out, "\n%*s", indent, "");
            col = indent;
        } else if (col > indent) {
            fputc(' ', out);
            col++;
        }
        fprintf(out, "%.*s", len, p);
        col += len;
        p += len;
        while (*p == ' ') p++;
    }
    fputc('\n', out);
}

void knobs_help(FILE *out) {
    enum { INDENT = 24 };
    for (int i = 0; i < N_KNOBS; i++) {
        const knob *k = &KNOBS[i];
        char flag[64], head[96], range[400], text[1400];
        knob_flag(k, flag, sizeof flag);
        if (k->type == KNOB_BOOL) snprintf(head, sizeof head, "  %s[=BOOL]", flag);
        else snprintf(head, sizeof head, "  %s %s", flag, k->meta);
        knob_range_text(k, range, sizeof range);
        snprintf(text, sizeof text, "%s (default %s%s%s; %s)%s", k->help, k->def[0] ? "" : "\"",
                 k->def, k->def[0] ? "" : "\"", range, k->axis ? "" : " [not an axis]");
        int col = (int)strlen(head);
        fputs(head, out);
        if (col + 1 >= INDENT) {
            fprintf(out, "\n%*s", INDENT, "");
            col = INDENT;
        } else {
            fprintf(out, "%*s", INDENT - col, "");
            col = INDENT;
        }
        wrap(out, text, col, INDENT);
    }
}

int knobs_unknown_flag(const char *name, const char *const *extra, int n_extra, const char *command,
                       lr_err *e) {
    enum { CAP = 256 };
    const char *cands[CAP + 1];
    char flags[CAP][64];
    int n = 0;
    for (int i = 0; i < N_KNOBS && n < CAP; i++, n++) {
        knob_flag(&KNOBS[i], flags[n], sizeof flags[n]);
        cands[n] = flags[n] + 2;
    }
    for (int i = 0; i < n_extra && n < CAP; i++) cands[n++] = extra[i];
    cands[n] = NULL;
    const char *near = knob_closest(name, cands);
    if (near)
        return lr_fail(e, "--%s: unknown option; did you mean --%s? (see lrscope %s --help)", name, near, command);
    return lr_fail(e, "--%s: unknown option (see lrscope %s --help)", name, command);
}
