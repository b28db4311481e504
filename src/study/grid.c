// grid.c: a study's design (base, axes, seeds) and its expansion into runs.
#include "grid.h"
#include "../data/dataset.h"

#include <errno.h>
#include <math.h>
#include <string.h>

void spec_init(study_spec *sp) {
    memset(sp, 0, sizeof *sp);
    config_defaults(&sp->base);
}

static void axis_clear(grid_axis *a) {
    for (int i = 0; i < a->n; i++) free(a->values[i]);
    free(a->values);
    memset(a, 0, sizeof *a);
}

void spec_free(study_spec *sp) {
    for (int i = 0; i < sp->n_axes; i++) axis_clear(&sp->axes[i]);
    sp->n_axes = 0;
}

grid_axis *spec_axis(study_spec *sp, const knob *k) {
    for (int i = 0; i < sp->n_axes; i++)
        if (sp->axes[i].k == k) return &sp->axes[i];
    return NULL;
}

static int seeds_from_values(study_spec *sp, const knob *k, const char *const *values, int n,
                             const char *where, lr_err *e) {
    if (n > GRID_MAX_SEEDS) return lr_fail(e, "%s: seed: more than %d seeds", where, GRID_MAX_SEEDS);
    for (int i = 0; i < n; i++) {
        run_config scratch = sp->base;
        char at[200];
        snprintf(at, sizeof at, "%s: seed", where);
        if (knob_parse(k, values[i], &scratch, at, e) != 0) return -1;
        for (int j = 0; j < i; j++)
            if (sp->seeds[j] == scratch.seed)
                return lr_fail(e, "%s: seed %llu is listed twice (a duplicate condition)", where,
                               (unsigned long long)scratch.seed);
        sp->seeds[i] = scratch.seed;
    }
    sp->n_seeds = n;
    return 0;
}

int spec_set_axis(study_spec *sp, const knob *k, const char *const *values, int n, const char *where,
                  lr_err *e) {
    char at[300];
    snprintf(at, sizeof at, "%s: %s", where, k->name);
    if (!k->axis)
        return lr_fail(e, "%s: %s cannot be an axis (results do not depend on it); set it once", at, k->name);
    if (n <= 0) return lr_fail(e, "%s: empty axis; expected at least one value", at);
    if (strcmp(k->name, "seed") == 0) return seeds_from_values(sp, k, values, n, where, e);
    if (n > GRID_MAX_VALUES) return lr_fail(e, "%s: more than %d values", at, GRID_MAX_VALUES);
    char **exact = lr_calloc((size_t)n, sizeof *exact);
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        run_config scratch = sp->base;
        if (knob_parse(k, values[i], &scratch, at, e) != 0) { rc = -1; break; }
        char text[4200];
        knob_format(k, &scratch, text, sizeof text, KNOB_TEXT_EXACT);
        for (int j = 0; j < i; j++)
            if (strcmp(exact[j], text) == 0) {
                rc = lr_fail(e, "%s: %s is listed twice (a duplicate condition)", at, values[i]);
                break;
            }
        exact[i] = lr_strdup(text);
    }
    if (rc != 0) {
        for (int i = 0; i < n; i++) free(exact[i]);
        free(exact);
        return -1;
    }
    grid_axis *a = spec_axis(sp, k);
    if (a) {
        axis_clear(a);
    } else {
        if (sp->n_axes == GRID_MAX_AXES) {
            for (int i = 0; i < n; i++) free(exact[i]);
            free(exact);
            return lr_fail(e, "%s: more than %d axes", at, GRID_MAX_AXES);
        }
        a = &sp->axes[sp->n_axes++];
    }
    a->k = k;
    a->n = n;
    a->values = exact;
    return 0;
}

int grid_space(const knob *k, int log, double a, double b, double count, char ***out, const char *where, lr_err *e) {
    const char *kind = log ? "logspace" : "linspace";
    if (k->type != KNOB_DOUBLE && k->type != KNOB_INT && k->type != KNOB_UINT64)
        return lr_fail(e, "%s: %s: %s needs a numeric knob", where, k->name, kind);
    if (!isfinite(a) || !isfinite(b) || !(count >= 1 && count <= GRID_MAX_VALUES))
        return lr_fail(e, "%s: %s: %s: expected [start, end, count] with a count in [1, %d]", where,
                       k->name, kind, GRID_MAX_VALUES);
    const long n = (long)count; // bounded first: a cast of 3e104 would be undefined
    if (log && !(a > 0 && b > 0))
        return lr_fail(e, "%s: %s: logspace: expected start and end > 0, got %g and %g", where, k->name, a, b);
    char **v = lr_calloc((size_t)n, sizeof *v);
    for (long i = 0; i < n; i++) {
        double t = n == 1 ? 0.0 : (double)i / (double)(n - 1), x;
        if (i == 0) x = a;
        else if (i == n - 1) x = b; // the ends exactly as written
        else if (log) x = pow(10.0, log10(a) + t * (log10(b) - log10(a)));
        else x = a + t * (b - a);
        char text[64];
        if (k->type == KNOB_DOUBLE) snprintf(text, sizeof text, "%.17g", x);
        else snprintf(text, sizeof text, "%.0f", round(x));
        v[i] = lr_strdup(text);
    }
    *out = v;
    return 0;
}

static void free_strings(char **v, int n) {
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
}

static int parse_number(const char *s, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno) return -1;
    *out = v;
    return 0;
}

int spec_parse_grid_flag(study_spec *sp, const char *arg, lr_err *e) {
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return lr_fail(e, "--grid %s: expected KEY=V1,V2,... or KEY=logspace:A:B:N", arg);
    char key[64];
    size_t klen = (size_t)(eq - arg);
    if (klen >= sizeof key) return lr_fail(e, "--grid %s: unknown key", arg);
    memcpy(key, arg, klen);
    key[klen] = '\0';
    for (char *p = key; *p; p++)
        if (*p == '-') *p = '_'; // --grid batch-size=... works too
    const knob *k = knob_find(key);
    if (!k) {
        const char *names[128];
        int n = 0;
        for (; n < N_KNOBS && n < 127; n++) names[n] = KNOBS[n].name;
        names[n] = NULL;
        const char *near = knob_closest(key, names);
        return lr_fail(e, "--grid %s: unknown key \"%s\"%s%s%s", arg, key, near ? "; did you mean " : "",
                       near ? near : "", near ? "?" : "");
    }
    const char *list = eq + 1;
    int is_log = strncmp(list, "logspace:", 9) == 0, is_lin = strncmp(list, "linspace:", 9) == 0;
    char **values = NULL;
    int n = 0, rc;
    if (is_log || is_lin) {
        char buf[256];
        if (snprintf(buf, sizeof buf, "%s", list + 9) >= (int)sizeof buf)
            return lr_fail(e, "--grid %s: too long", arg);
        char *parts[4];
        int np = 0;
        for (char *save = NULL, *t = strtok_r(buf, ":", &save); t && np < 4; t = strtok_r(NULL, ":", &save))
            parts[np++] = t;
        double a, b, cnt;
        if (np != 3 || parse_number(parts[0], &a) || parse_number(parts[1], &b) || parse_number(parts[2], &cnt) ||
            cnt != floor(cnt))
            return lr_fail(e, "--grid %s: expected %s=%s:START:END:COUNT", arg, key, is_log ? "logspace" : "linspace");
        if (grid_space(k, is_log, a, b, cnt, &values, "--grid", e) != 0) return -1;
        n = (int)cnt;
    } else {
        // Values separated by commas; a list-valued knob separates its elements with ':'.
        size_t len = strlen(list);
        char *buf = lr_strdup(list);
        values = lr_calloc(len / 2 + 2, sizeof *values);
        char *p = buf;
        for (;;) {
            char *comma = strchr(p, ',');
            if (comma) *comma = '\0';
            if (k->type == KNOB_INT_LIST)
                for (char *q = p; *q; q++)
                    if (*q == ':') *q = ',';
            values[n++] = lr_strdup(p);
            if (!comma) break;
            p = comma + 1;
        }
        free(buf);
        if (len == 0) n = 0; // KEY= with nothing: an empty axis
    }
    rc = spec_set_axis(sp, k, (const char *const *)values, n, "--grid", e);
    free_strings(values, is_log || is_lin ? n : (n ? n : 1));
    return rc;
}

int spec_set_seeds(study_spec *sp, const char *text, const char *where, lr_err *e) {
    const knob *k = knob_find("seed");
    LR_ASSERT(k != NULL);
    if (!strchr(text, ',')) {
        char *end;
        errno = 0;
        long n = strtol(text, &end, 10);
        if (end == text || *end || errno || n < 1 || n > GRID_MAX_SEEDS)
            return lr_fail(e, "%s %s: expected a count of seeds in [1, %d] (seeds 1..N) or a list "
                              "like 1,2,7", where, text, GRID_MAX_SEEDS);
        for (long i = 0; i < n; i++) sp->seeds[i] = (uint64_t)(i + 1);
        sp->n_seeds = (int)n;
        return 0;
    }
    char *buf = lr_strdup(text);
    const char *items[GRID_MAX_SEEDS + 1];
    int n = 0, rc = 0;
    char *p = buf;
    for (;;) {
        char *comma = strchr(p, ',');
        if (comma) *comma = '\0';
        if (n == GRID_MAX_SEEDS) { rc = lr_fail(e, "%s: more than %d seeds", where, GRID_MAX_SEEDS); break; }
        items[n++] = p;
        if (!comma) break;
        p = comma + 1;
    }
    if (rc == 0) rc = seeds_from_values(sp, k, items, n, where, e);
    free(buf);
    return rc;
}

static int safe_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '+' || c == '-';
}

void grid_safe_value(const knob *k, const run_config *c, char *out, size_t cap) {
    knob_format(k, c, out, cap, KNOB_TEXT_SHORT);
    for (char *p = out; *p; p++)
        if (!safe_char(*p)) *p = *p == ':' ? '-' : '_';
}

int spec_expand(const study_spec *sp, run_config **runs_out, int *n_out, lr_err *e) {
    static const char *const DEFAULT_LRS[] = {"0.1", "0.01", "0.001"};
    study_spec dflt;
    const study_spec *s = sp;
    if (sp->n_axes == 0) { // the seed study's axis, or the one rate given
        dflt = *sp;
        dflt.n_axes = 0;
        char base_lr[64];
        const char *one[1] = {base_lr};
        knob_format(knob_find("lr"), &sp->base, base_lr, sizeof base_lr, KNOB_TEXT_EXACT);
        if (spec_set_axis(&dflt, knob_find("lr"), sp->lr_set ? one : DEFAULT_LRS, sp->lr_set ? 1 : 3, "default",
                          e) != 0)
            return -1;
        s = &dflt;
    }
    long n_cond = 1;
    for (int a = 0; a < s->n_axes; a++) {
        n_cond *= s->axes[a].n;
        if (n_cond > GRID_MAX_RUNS) break;
    }
    int n_seeds = s->n_seeds ? s->n_seeds : 1;
    int rc = 0;
    if (n_cond * n_seeds > GRID_MAX_RUNS) {
        rc = lr_fail(e, "the grid has %ld%s conditions x %d seeds, more than %d runs; use fewer values",
                     n_cond, n_cond > GRID_MAX_RUNS ? "+" : "", n_seeds, GRID_MAX_RUNS);
        goto done;
    }
    // The keys in a name: the axes that vary, or all of them when none does.
    int named[GRID_MAX_AXES], n_named = 0;
    for (int a = 0; a < s->n_axes; a++)
        if (s->axes[a].n > 1) named[n_named++] = a;
    if (n_named == 0)
        for (int a = 0; a < s->n_axes; a++) named[n_named++] = a;

    run_config *runs = lr_calloc((size_t)(n_cond * n_seeds), sizeof *runs);
    int n = 0;
    for (long c = 0; c < n_cond && rc == 0; c++) {
        run_config cfg = s->base;
        int idx[GRID_MAX_AXES];
        long rest = c;
        for (int a = s->n_axes - 1; a >= 0; a--) { // the last axis varies fastest
            idx[a] = (int)(rest % s->axes[a].n);
            rest /= s->axes[a].n;
        }
        for (int a = 0; a < s->n_axes; a++) {
            lr_err pe;
            int ok = knob_parse(s->axes[a].k, s->axes[a].values[idx[a]], &cfg, "grid", &pe);
            LR_ASSERT(ok == 0); // checked by spec_set_axis
        }
        char cond[1024];
        size_t len = 0;
        for (int j = 0; j < n_named && len < sizeof cond; j++) {
            const knob *k = s->axes[named[j]].k;
            char v[4200];
            grid_safe_value(k, &cfg, v, sizeof v);
            len += (size_t)snprintf(cond + len, sizeof cond - len, "%s%s=%s", j ? "," : "", k->name, v);
        }
        if (len > GRID_MAX_NAME) {
            rc = lr_fail(e, "condition %.60s...: its folder name would be %zu characters, more than %d; "
                            "use shorter values (e.g. fewer layers in a model axis)", cond, len, GRID_MAX_NAME);
            break;
        }
        memcpy(cfg.condition, cond, len + 1);
        for (int p = 0; p < c && rc == 0; p++) {
            const run_config *o = &runs[p * n_seeds];
            if (strcmp(o->condition, cfg.condition) != 0) continue;
            // Same short name, different values: say which axis.
            for (int a = 0; a < s->n_axes; a++) {
                const knob *k = s->axes[a].k;
                if (knob_equal(k, o, &cfg)) continue;
                char x[4200], y[4200];
                knob_format(k, o, x, sizeof x, KNOB_TEXT_EXACT);
                knob_format(k, &cfg, y, sizeof y, KNOB_TEXT_EXACT);
                rc = lr_fail(e, "%s: the values %s and %s both give the folder runs/%s; use values that "
                                "differ in their first 6 digits (or in a letter or digit)", k->name, x, y,
                             cfg.condition);
                break;
            }
        }
        if (!cfg.data_dir[0]) {
            const dataset_info *info = dataset_find(cfg.dataset);
            if (info && info->folder) snprintf(cfg.data_dir, sizeof cfg.data_dir, "data/%s", info->folder);
        }
        for (int j = 0; j < n_seeds && rc == 0; j++) {
            run_config *r = &runs[n++];
            *r = cfg;
            r->seed = s->n_seeds ? s->seeds[j] : s->base.seed;
            snprintf(r->name, sizeof r->name, "runs/%s/seed-%llu", cfg.condition, (unsigned long long)r->seed);
        }
    }
    if (rc != 0) {
        free(runs);
        goto done;
    }
    *runs_out = runs;
    *n_out = n;
done:
    if (s == &dflt) spec_free(&dflt);
    return rc;
}
