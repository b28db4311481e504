// space.c: parsing, checking and applying a search space (space.h).
#include "space.h"

#include <errno.h>
#include <math.h>
#include <string.h>

static const char *const KINDS[] = {"uniform", "loguniform", "int", "categorical", NULL};

// The shortest text that reads back to exactly v.
static void format_exact(double v, char *out, size_t cap) {
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(out, cap, "%.*g", digits, v);
        if (strtod(out, NULL) == v) return;
    }
}

static int parse_number(const char *text, double *v) {
    char *end;
    errno = 0;
    if (!text || !text[0]) return -1;
    *v = strtod(text, &end);
    return (end == text || *end || errno || !isfinite(*v)) ? -1 : 0;
}

// The knob by name, refusing what a search cannot vary.
static const knob *find_param_knob(const char *name, const char *where, lr_err *e) {
    const knob *k = knob_find(name);
    if (!k) {
        const char *cands[128 + 1];
        int n = 0;
        for (int i = 0; i < N_KNOBS && n < 128; i++)
            if (KNOBS[i].axis && strcmp(KNOBS[i].name, "seed") != 0) cands[n++] = KNOBS[i].name;
        cands[n] = NULL;
        const char *near = knob_closest(name, cands);
        if (near) return lr_fail(e, "%s: \"%s\": unknown knob; did you mean \"%s\"?", where, name, near), NULL;
        return lr_fail(e, "%s: \"%s\": unknown knob; expected a knob of lrscope run --help (lr, momentum, "
                          "batch_size, optimizer, ...)", where, name), NULL;
    }
    if (!strcmp(k->name, "seed"))
        return lr_fail(e, "%s: seed: cannot be searched; give seeds: K to evaluate every point on K seeds", where),
               NULL;
    if (!k->axis) return lr_fail(e, "%s: %s: results do not depend on it, so it cannot be searched", where, name), NULL;
    if (k->type == KNOB_STRING || k->type == KNOB_INT_LIST)
        return lr_fail(e, "%s: %s: only number and choice knobs can be searched (use a grid: for it)", where, name),
               NULL;
    return k;
}

// Checks that text is a valid value of k (type and range), through knob_parse.
static int check_value(const knob *k, const char *text, const char *where, lr_err *e) {
    run_config c;
    config_defaults(&c);
    char w[600];
    snprintf(w, sizeof w, "%s: %s", where, k->name);
    return knob_parse(k, text, &c, w, e);
}

int param_make(search_param *p, const char *name, const char *kind, const char *low, const char *high, int log,
               const char *const *choices, int n_choices, const char *where, lr_err *e) {
    memset(p, 0, sizeof *p);
    const knob *k = find_param_knob(name, where, e);
    if (!k) return -1;
    p->k = k;
    int ki = -1;
    for (int i = 0; KINDS[i]; i++)
        if (!strcmp(kind, KINDS[i])) ki = i;
    if (ki < 0) {
        const char *near = knob_closest(kind, KINDS);
        return lr_fail(e, "%s: %s: \"%s\": unknown distribution; expected loguniform, uniform, int or "
                          "categorical%s%s%s", where, name, kind, near ? " (did you mean " : "", near ? near : "",
                       near ? "?)" : "");
    }
    p->kind = (param_kind)ki;
    char range[400];
    knob_range_text(k, range, sizeof range);
    if (p->kind == PARAM_CATEGORICAL) {
        if (n_choices < 1) return lr_fail(e, "%s: %s: categorical: expected at least one value", where, name);
        if (n_choices > SEARCH_MAX_CHOICES)
            return lr_fail(e, "%s: %s: categorical: more than %d values", where, name, SEARCH_MAX_CHOICES);
        for (int i = 0; i < n_choices; i++) {
            if (strlen(choices[i]) >= SEARCH_MAX_TEXT)
                return lr_fail(e, "%s: %s: categorical: \"%s\" is longer than %d characters", where, name, choices[i],
                               SEARCH_MAX_TEXT - 1);
            if (check_value(k, choices[i], where, e) != 0) return -1;
            for (int j = 0; j < i; j++)
                if (!strcmp(choices[j], choices[i]))
                    return lr_fail(e, "%s: %s: categorical: \"%s\" is listed twice", where, name, choices[i]);
            snprintf(p->choices[i], SEARCH_MAX_TEXT, "%s", choices[i]);
        }
        p->n_choices = n_choices;
        return 0;
    }
    // Numeric kinds.
    if (k->type == KNOB_ENUM || k->type == KNOB_BOOL)
        return lr_fail(e, "%s: %s: a choice knob (%s); expected categorical:V1,V2,...", where, name, range);
    if (p->kind == PARAM_INT && k->type == KNOB_DOUBLE)
        return lr_fail(e, "%s: %s: a real number; expected uniform:A:B or loguniform:A:B, not int", where, name);
    if (p->kind != PARAM_INT && k->type != KNOB_DOUBLE)
        return lr_fail(e, "%s: %s: a whole number; expected int:A:B (or int:A:B:log), not %s", where, name, kind);
    if (parse_number(low, &p->low) != 0 || parse_number(high, &p->high) != 0)
        return lr_fail(e, "%s: %s: %s: expected two numbers, low and high (got \"%s\" and \"%s\")", where, name, kind,
                       low ? low : "", high ? high : "");
    if (p->kind == PARAM_INT && (p->low != floor(p->low) || p->high != floor(p->high)))
        return lr_fail(e, "%s: %s: int: expected whole bounds, got %s and %s", where, name, low, high);
    if (!(p->low < p->high))
        return lr_fail(e, "%s: %s: %s: expected low < high, got %s and %s", where, name, kind, low, high);
    p->log = p->kind == PARAM_LOGUNIFORM || log;
    if (p->log && p->low <= 0)
        return lr_fail(e, "%s: %s: %s: a log scale needs low > 0, got %s", where, name,
                       p->kind == PARAM_INT ? "int:log" : kind, low);
    if (check_value(k, low, where, e) != 0 || check_value(k, high, where, e) != 0) return -1;
    return 0;
}

int param_parse(search_param *p, const char *name, const char *spec, const char *where, lr_err *e) {
    char buf[2048];
    if (strlen(spec) >= sizeof buf)
        return lr_fail(e, "%s: %s: spec longer than %zu characters", where, name, sizeof buf - 1);
    snprintf(buf, sizeof buf, "%s", spec);
    char *kind = buf, *rest = strchr(buf, ':');
    if (!rest)
        return lr_fail(e, "%s: %s=%s: expected loguniform:A:B, uniform:A:B, int:A:B[:log] or categorical:V1,V2,...",
                       where, name, spec);
    *rest++ = '\0';
    if (!strcmp(kind, "categorical")) {
        const char *items[SEARCH_MAX_CHOICES + 1];
        int n = 0;
        for (char *tok = rest; tok; n++) {
            if (n > SEARCH_MAX_CHOICES)
                return lr_fail(e, "%s: %s: categorical: more than %d values", where, name, SEARCH_MAX_CHOICES);
            items[n] = tok;
            tok = strchr(tok, ',');
            if (tok) *tok++ = '\0';
            if (!items[n][0]) return lr_fail(e, "%s: %s: categorical: empty value in \"%s\"", where, name, spec);
        }
        return param_make(p, name, kind, NULL, NULL, 0, items, n, where, e);
    }
    char *parts[3] = {NULL, NULL, NULL};
    int n = 0;
    for (char *tok = rest; tok; n++) {
        if (n < 3) parts[n] = tok;
        tok = strchr(tok, ':');
        if (tok) *tok++ = '\0';
    }
    int log = 0;
    if (n == 3 && !strcmp(kind, "int") && !strcmp(parts[2], "log")) log = 1;
    else if (n != 2) {
        if (!strcmp(kind, "int"))
            return lr_fail(e, "%s: %s=%s: expected int:A:B or int:A:B:log", where, name, spec);
        if (!strcmp(kind, "uniform") || !strcmp(kind, "loguniform"))
            return lr_fail(e, "%s: %s=%s: expected %s:A:B", where, name, spec, kind);
    }
    return param_make(p, name, kind, parts[0], parts[1], log, NULL, 0, where, e);
}

void param_format(const search_param *p, char *out, size_t cap) {
    if (p->kind == PARAM_CATEGORICAL) {
        size_t n = (size_t)snprintf(out, cap, "categorical:");
        for (int i = 0; i < p->n_choices && n < cap; i++)
            n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? "," : "", p->choices[i]);
        return;
    }
    char lo[40], hi[40];
    format_exact(p->low, lo, sizeof lo);
    format_exact(p->high, hi, sizeof hi);
    snprintf(out, cap, "%s:%s:%s%s", KINDS[p->kind], lo, hi, p->kind == PARAM_INT && p->log ? ":log" : "");
}

int space_add(search_space *s, const search_param *p, const char *where, lr_err *e) {
    for (int i = 0; i < s->n; i++)
        if (s->p[i].k == p->k) return lr_fail(e, "%s: %s: given twice", where, p->k->name);
    if (s->n >= SEARCH_MAX_PARAMS) return lr_fail(e, "%s: more than %d parameters", where, SEARCH_MAX_PARAMS);
    s->p[s->n++] = *p;
    return 0;
}

int space_add_flag(search_space *s, const char *arg, const char *where, lr_err *e) {
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return lr_fail(e, "%s %s: expected NAME=SPEC, e.g. lr=loguniform:1e-4:1", where, arg);
    char name[64];
    if ((size_t)(eq - arg) >= sizeof name) return lr_fail(e, "%s %s: name too long", where, arg);
    memcpy(name, arg, (size_t)(eq - arg));
    name[eq - arg] = '\0';
    search_param p;
    if (param_parse(&p, name, eq + 1, where, e) != 0) return -1;
    return space_add(s, &p, where, e);
}

void space_value_text(const search_space *s, int i, const double *x, char *out, size_t cap) {
    const search_param *p = &s->p[i];
    if (p->kind == PARAM_CATEGORICAL) {
        int c = (int)x[i];
        LR_ASSERT(c >= 0 && c < p->n_choices);
        snprintf(out, cap, "%s", p->choices[c]);
    } else if (p->kind == PARAM_INT) {
        snprintf(out, cap, "%.0f", x[i]);
    } else {
        format_exact(x[i], out, cap);
    }
}

int space_apply(const search_space *s, const double *x, run_config *c, lr_err *e) {
    for (int i = 0; i < s->n; i++) {
        char text[64], where[96];
        space_value_text(s, i, x, text, sizeof text);
        snprintf(where, sizeof where, "search point: %s", s->p[i].k->name);
        if (knob_parse(s->p[i].k, text, c, where, e) != 0) return -1;
    }
    return 0;
}

void space_format_point(const search_space *s, const double *x, char *out, size_t cap) {
    size_t n = 0;
    out[0] = '\0';
    for (int i = 0; i < s->n && n < cap; i++) {
        char text[64];
        space_value_text(s, i, x, text, sizeof text);
        n += (size_t)snprintf(out + n, cap - n, "%s%s=%s", i ? "," : "", s->p[i].k->name, text);
    }
}

int space_point_equal(const search_space *s, const double *a, const double *b) {
    for (int i = 0; i < s->n; i++)
        if (a[i] != b[i]) return 0;
    return 1;
}

double space_size(const search_space *s) {
    double size = 1;
    for (int i = 0; i < s->n; i++) {
        const search_param *p = &s->p[i];
        if (p->kind == PARAM_CATEGORICAL) size *= p->n_choices;
        else if (p->kind == PARAM_INT) size *= p->high - p->low + 1;
        else return INFINITY;
    }
    return size;
}

int space_contains(const search_space *s, const double *x) {
    for (int i = 0; i < s->n; i++) {
        const search_param *p = &s->p[i];
        if (!isfinite(x[i])) return 0;
        if (p->kind == PARAM_CATEGORICAL) {
            if (x[i] != floor(x[i]) || x[i] < 0 || x[i] >= p->n_choices) return 0;
        } else {
            if (x[i] < p->low || x[i] > p->high) return 0;
            if (p->kind == PARAM_INT && x[i] != floor(x[i])) return 0;
        }
    }
    return 1;
}
