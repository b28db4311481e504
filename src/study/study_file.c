// study_file.c: reads a YAML study file into a study_spec. libyaml's
// document API gives every node with its line, which the messages need; the
// schema is the knob table, applied here by hand (libcyaml's static schema
// would duplicate the table and loses the line of a bad value).
#include "study_file.h"
#include "../util/fsutil.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

typedef struct {
    const char *path;
    yaml_document_t *doc;
    study_spec *sp;
    lr_err *e;
    search_spec *search; // NULL: a search: section is refused
    int *has_search;
} reader;

static int line_of(const yaml_node_t *n) { return (int)n->start_mark.line + 1; }

static int fail_at(reader *r, const yaml_node_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail_at(reader *r, const yaml_node_t *n, const char *fmt, ...) {
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return lr_fail(r->e, "%s:%d: %s", r->path, line_of(n), msg);
}

static const char *scalar(const yaml_node_t *n) { return (const char *)n->data.scalar.value; }

static const char *node_kind(const yaml_node_t *n) {
    return n->type == YAML_SCALAR_NODE ? "a value" : n->type == YAML_SEQUENCE_NODE ? "a list" : "a mapping";
}

static yaml_node_t *node(reader *r, int id) { return yaml_document_get_node(r->doc, id); }

// A knob by key, or an error suggesting the closest key (knobs, plus `extra`).
static const knob *find_knob(reader *r, const yaml_node_t *key, const char *const *extra, const char *section) {
    const char *name = scalar(key);
    const knob *k = knob_find(name);
    if (k) return k;
    const char *cands[128 + 8];
    int n = 0;
    for (int i = 0; i < N_KNOBS && i < 128; i++) cands[n++] = KNOBS[i].name;
    for (int i = 0; extra && extra[i]; i++) cands[n++] = extra[i];
    cands[n] = NULL;
    const char *near = knob_closest(name, cands);
    if (near) fail_at(r, key, "%s\"%s\": unknown key; did you mean \"%s\"?", section, name, near);
    else fail_at(r, key, "%s\"%s\": unknown key; expected a knob (see lrscope run --help)", section, name);
    return NULL;
}

// The value of a base knob as flag text: a scalar, or a list for a list knob.
static int value_text(reader *r, const knob *k, const yaml_node_t *v, char *out, size_t cap) {
    if (v->type == YAML_SCALAR_NODE) {
        if (snprintf(out, cap, "%s", scalar(v)) >= (int)cap)
            return fail_at(r, v, "%s: value longer than %zu characters", k->name, cap - 1);
        return 0;
    }
    if (v->type == YAML_SEQUENCE_NODE && k->type == KNOB_INT_LIST) {
        size_t n = 0;
        out[0] = '\0';
        for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
            const yaml_node_t *x = node(r, *it);
            if (x->type != YAML_SCALAR_NODE) return fail_at(r, x, "%s: expected whole numbers in the list", k->name);
            n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s%s", n ? "," : "", scalar(x));
            if (n >= cap) return fail_at(r, v, "%s: list too long", k->name);
        }
        if (n == 0) return fail_at(r, v, "%s: empty list", k->name);
        return 0;
    }
    char range[400];
    knob_range_text(k, range, sizeof range);
    return fail_at(r, v, "%s: expected %s, found %s", k->name, range, node_kind(v));
}

static int set_base(reader *r, const yaml_node_t *key, const yaml_node_t *v, const knob *k) {
    char text[4200], where[4400];
    if (value_text(r, k, v, text, sizeof text) != 0) return -1;
    snprintf(where, sizeof where, "%s:%d: %s", r->path, line_of(v), k->name);
    (void)key;
    if (!strcmp(k->name, "lr") && !strcmp(text, "auto")) { // the range test picks the rates
        r->sp->lr_auto = 1;
        return 0;
    }
    if (!strcmp(k->name, "lr")) r->sp->lr_set = 1;
    return knob_parse(k, text, &r->sp->base, where, r->e);
}

// Refuses a key given twice in one mapping (YAML leaves it to us).
static int check_duplicates(reader *r, const yaml_node_t *map) {
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = node(r, p->key);
        if (k->type != YAML_SCALAR_NODE) return fail_at(r, k, "expected a plain key, found %s", node_kind(k));
        for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++)
            if (!strcmp(scalar(node(r, q->key)), scalar(k)))
                return fail_at(r, k, "\"%s\" is given twice (first at line %d)", scalar(k), line_of(node(r, q->key)));
    }
    return 0;
}

static int read_base(reader *r, const yaml_node_t *map) {
    if (map->type != YAML_MAPPING_NODE) return fail_at(r, map, "base: expected a mapping of knob: value");
    if (check_duplicates(r, map) != 0) return -1;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        const yaml_node_t *key = node(r, p->key);
        const knob *k = find_knob(r, key, NULL, "base: ");
        if (!k) return -1;
        if (strcmp(k->name, "seed") == 0) r->sp->n_seeds = 0;
        if (set_base(r, key, node(r, p->value), k) != 0) return -1;
    }
    return 0;
}

// {logspace: [a, b, n]} or {linspace: [a, b, n]}.
static int read_space(reader *r, const knob *k, const yaml_node_t *map, char ***values, int *n) {
    if (map->data.mapping.pairs.top - map->data.mapping.pairs.start != 1)
        return fail_at(r, map, "grid: %s: expected a list of values, {logspace: [start, end, count]} or "
                               "{linspace: [start, end, count]}", k->name);
    const yaml_node_t *kind = node(r, map->data.mapping.pairs.start->key);
    const yaml_node_t *args = node(r, map->data.mapping.pairs.start->value);
    int is_log = kind->type == YAML_SCALAR_NODE && !strcmp(scalar(kind), "logspace");
    int is_lin = kind->type == YAML_SCALAR_NODE && !strcmp(scalar(kind), "linspace");
    if (!is_log && !is_lin) {
        static const char *const kinds[] = {"logspace", "linspace", NULL};
        const char *near = kind->type == YAML_SCALAR_NODE ? knob_closest(scalar(kind), kinds) : NULL;
        return fail_at(r, kind, "grid: %s: \"%s\": unknown; expected logspace or linspace%s%s%s", k->name,
                       kind->type == YAML_SCALAR_NODE ? scalar(kind) : "?", near ? " (did you mean " : "",
                       near ? near : "", near ? "?)" : "");
    }
    double x[3];
    int ok = args->type == YAML_SEQUENCE_NODE && args->data.sequence.items.top - args->data.sequence.items.start == 3;
    for (int i = 0; ok && i < 3; i++) {
        const yaml_node_t *v = node(r, args->data.sequence.items.start[i]);
        char *end;
        ok = v->type == YAML_SCALAR_NODE && scalar(v)[0];
        if (ok) x[i] = strtod(scalar(v), &end), ok = *end == '\0';
    }
    if (!ok || x[2] != floor(x[2]))
        return fail_at(r, args, "grid: %s: %s: expected [start, end, count]", k->name, scalar(kind));
    char where[4400];
    snprintf(where, sizeof where, "%s:%d: grid", r->path, line_of(args));
    if (grid_space(k, is_log, x[0], x[1], x[2], values, where, r->e) != 0) return -1;
    *n = (int)x[2];
    return 0;
}

static int read_axis(reader *r, const knob *k, const yaml_node_t *v) {
    char **values = NULL;
    int n = 0, rc = 0;
    if (v->type == YAML_MAPPING_NODE) {
        if (read_space(r, k, v, &values, &n) != 0) return -1;
    } else if (v->type == YAML_SEQUENCE_NODE) {
        long len = v->data.sequence.items.top - v->data.sequence.items.start;
        if (len == 0) return fail_at(r, v, "grid: %s: empty axis; expected at least one value", k->name);
        if (len > GRID_MAX_VALUES) return fail_at(r, v, "grid: %s: more than %d values", k->name, GRID_MAX_VALUES);
        values = lr_calloc((size_t)len, sizeof *values);
        for (; n < len; n++) {
            const yaml_node_t *x = node(r, v->data.sequence.items.start[n]);
            char text[4200];
            if (value_text(r, k, x, text, sizeof text) != 0) { rc = -1; break; }
            values[n] = lr_strdup(text);
        }
    } else if (!strcmp(k->name, "lr") && v->type == YAML_SCALAR_NODE && !strcmp(scalar(v), "auto")) {
        r->sp->lr_auto = 1; // lr: auto: the range test picks the axis
        return 0;
    } else {
        return fail_at(r, v, "grid: %s: expected a list of values, {logspace: [start, end, count]} or "
                             "{linspace: [start, end, count]}; found a single value (put it in base:)", k->name);
    }
    if (rc == 0) {
        char where[4400];
        snprintf(where, sizeof where, "%s:%d: grid", r->path, line_of(v));
        rc = spec_set_axis(r->sp, k, (const char *const *)values, n, where, r->e);
    }
    for (int i = 0; i < n; i++) free(values[i]);
    free(values);
    return rc;
}

static int read_grid(reader *r, const yaml_node_t *map) {
    if (map->type != YAML_MAPPING_NODE) return fail_at(r, map, "grid: expected a mapping of knob: values");
    if (map->data.mapping.pairs.top == map->data.mapping.pairs.start)
        return fail_at(r, map, "grid: empty grid; expected at least one axis (e.g. lr: [0.1, 0.01])");
    if (check_duplicates(r, map) != 0) return -1;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        const knob *k = find_knob(r, node(r, p->key), NULL, "grid: ");
        if (!k || read_axis(r, k, node(r, p->value)) != 0) return -1;
    }
    return 0;
}

static int read_seeds(reader *r, const yaml_node_t *v) {
    char where[4400];
    snprintf(where, sizeof where, "%s:%d: seeds", r->path, line_of(v));
    if (v->type == YAML_SCALAR_NODE) {
        if (strchr(scalar(v), ',')) return fail_at(r, v, "seeds: expected a count N or a list [1, 2, 7]");
        return spec_set_seeds(r->sp, scalar(v), where, r->e);
    }
    if (v->type != YAML_SEQUENCE_NODE) return fail_at(r, v, "seeds: expected a count N or a list [1, 2, 7]");
    long len = v->data.sequence.items.top - v->data.sequence.items.start;
    if (len == 0) return fail_at(r, v, "seeds: empty list; expected at least one seed");
    if (len > GRID_MAX_SEEDS) return fail_at(r, v, "seeds: more than %d seeds", GRID_MAX_SEEDS);
    const char *items[GRID_MAX_SEEDS];
    for (long i = 0; i < len; i++) {
        const yaml_node_t *x = node(r, v->data.sequence.items.start[i]);
        if (x->type != YAML_SCALAR_NODE) return fail_at(r, x, "seeds: expected whole numbers");
        items[i] = scalar(x);
    }
    return spec_set_axis(r->sp, knob_find("seed"), items, (int)len, where, r->e);
}

// ---- the search: section (search.h) ----

// A scalar's text, or an error naming the key and what was expected.
static const char *search_scalar(reader *r, const yaml_node_t *v, const char *key, const char *expected) {
    if (v->type == YAML_SCALAR_NODE && scalar(v)[0]) return scalar(v);
    fail_at(r, v, "search: %s: expected %s, found %s", key, expected,
            v->type == YAML_SCALAR_NODE ? "nothing" : node_kind(v));
    return NULL;
}

static int where_at(reader *r, const yaml_node_t *n, const char *what, char *out, size_t cap) {
    snprintf(out, cap, "%s:%d: search: %s", r->path, line_of(n), what);
    return 0;
}

// space: NAME: "kind:..." or {type, low, high, log, choices}.
static int read_search_param(reader *r, const yaml_node_t *key, const yaml_node_t *v) {
    char where[4400];
    where_at(r, v, "space", where, sizeof where);
    search_param p;
    const char *name = scalar(key);
    if (v->type == YAML_SCALAR_NODE) {
        if (param_parse(&p, name, scalar(v), where, r->e) != 0) return -1;
        return space_add(&r->search->space, &p, where, r->e);
    }
    if (v->type != YAML_MAPPING_NODE)
        return fail_at(r, v, "search: space: %s: expected a spec (loguniform:A:B, uniform:A:B, int:A:B[:log], "
                             "categorical:V1,V2) or a mapping {type, low, high, log, choices}", name);
    if (check_duplicates(r, v) != 0) return -1;
    static const char *const KEYS[] = {"type", "low", "high", "log", "choices", NULL};
    const char *type = NULL, *low = NULL, *high = NULL;
    int log = 0, n_choices = 0;
    const char *choices[SEARCH_MAX_CHOICES];
    for (yaml_node_pair_t *q = v->data.mapping.pairs.start; q < v->data.mapping.pairs.top; q++) {
        const yaml_node_t *k = node(r, q->key), *x = node(r, q->value);
        const char *kn = scalar(k);
        int i = 0;
        while (KEYS[i] && strcmp(KEYS[i], kn)) i++;
        if (!KEYS[i]) {
            const char *near = knob_closest(kn, KEYS);
            return fail_at(r, k, "search: space: %s: \"%s\": unknown key; expected type, low, high, log or "
                                 "choices%s%s%s", name, kn, near ? " (did you mean " : "", near ? near : "",
                           near ? "?)" : "");
        }
        if (i == 4) {
            if (x->type != YAML_SEQUENCE_NODE)
                return fail_at(r, x, "search: space: %s: choices: expected a list of values", name);
            long len = x->data.sequence.items.top - x->data.sequence.items.start;
            if (len > SEARCH_MAX_CHOICES)
                return fail_at(r, x, "search: space: %s: choices: more than %d values", name, SEARCH_MAX_CHOICES);
            for (long j = 0; j < len; j++) {
                const yaml_node_t *c = node(r, x->data.sequence.items.start[j]);
                if (c->type != YAML_SCALAR_NODE || !scalar(c)[0])
                    return fail_at(r, c, "search: space: %s: choices: expected single values", name);
                choices[n_choices++] = scalar(c);
            }
            continue;
        }
        const char *t = search_scalar(r, x, KEYS[i], i == 0 ? "loguniform, uniform, int or categorical"
                                                     : i == 3 ? "true or false" : "a number");
        if (!t) return -1;
        if (i == 0) type = t;
        else if (i == 1) low = t;
        else if (i == 2) high = t;
        else if (!strcmp(t, "true")) log = 1;
        else if (strcmp(t, "false") != 0) return fail_at(r, x, "search: space: %s: log: expected true or false", name);
    }
    if (!type)
        return fail_at(r, v, "search: space: %s: expected a type (loguniform, uniform, int or categorical)", name);
    int is_cat = !strcmp(type, "categorical");
    if (is_cat && (low || high || log))
        return fail_at(r, v, "search: space: %s: categorical takes choices, not low/high/log", name);
    if (!is_cat && n_choices) return fail_at(r, v, "search: space: %s: %s takes low and high, not choices", name, type);
    if (!is_cat && (!low || !high) && !strcmp(type, "uniform") + !strcmp(type, "loguniform") + !strcmp(type, "int"))
        return fail_at(r, v, "search: space: %s: %s: expected both low and high", name, type);
    if (log && strcmp(type, "int") != 0)
        return fail_at(r, v, "search: space: %s: log: true applies to int (loguniform is log already)", name);
    if (param_make(&p, name, type, low, high, log, choices, n_choices, where, r->e) != 0) return -1;
    return space_add(&r->search->space, &p, where, r->e);
}

static int read_search_pruner(reader *r, const yaml_node_t *v) {
    char where[4400];
    where_at(r, v, "pruner", where, sizeof where);
    prune_cfg *cfg = &r->search->pruner;
    if (v->type == YAML_SCALAR_NODE) return search_pruner_parse(scalar(v), cfg, where, r->e);
    if (v->type != YAML_MAPPING_NODE)
        return fail_at(r, v, "search: pruner: expected asha, median, none or {type: asha, grace: 1, eta: 3, "
                             "max_epochs: N}");
    if (check_duplicates(r, v) != 0) return -1;
    const yaml_node_t *type = NULL;
    for (yaml_node_pair_t *q = v->data.mapping.pairs.start; q < v->data.mapping.pairs.top; q++)
        if (!strcmp(scalar(node(r, q->key)), "type")) type = node(r, q->value);
    if (!type) return fail_at(r, v, "search: pruner: expected a type (asha, median or none)");
    const char *t = search_scalar(r, type, "pruner: type", "asha, median or none");
    if (!t || search_pruner_parse(t, cfg, where, r->e) != 0) return -1;
    for (yaml_node_pair_t *q = v->data.mapping.pairs.start; q < v->data.mapping.pairs.top; q++) {
        const yaml_node_t *k = node(r, q->key), *x = node(r, q->value);
        if (!strcmp(scalar(k), "type")) continue;
        const char *val = search_scalar(r, x, scalar(k), "a whole number");
        where_at(r, k, "pruner", where, sizeof where);
        if (!val || search_pruner_set(cfg, scalar(k), val, where, r->e) != 0) return -1;
    }
    return 0;
}

static int read_search(reader *r, const yaml_node_t *map) {
    if (!r->search) return fail_at(r, map, "search: this command does not search; use lrscope run");
    if (map->type != YAML_MAPPING_NODE)
        return fail_at(r, map, "search: expected a mapping (method, trials, metric, direction, space, seed, seeds, "
                               "pruner)");
    if (check_duplicates(r, map) != 0) return -1;
    static const char *const KEYS[] = {"method", "trials", "metric", "direction", "space", "seed",
                                       "seeds", "pruner", "grid_points", "lag", NULL};
    // flags for the scalar keys, so that the flag parser checks them
    static const char *const FLAGS[] = {"search", "trials", "metric", "direction", NULL, "search-seed",
                                        "search-seeds", NULL, "grid-points", "search-lag"};
    search_spec *sp = r->search;
    const yaml_node_t *direction = NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        const yaml_node_t *key = node(r, p->key), *v = node(r, p->value);
        const char *name = scalar(key);
        int i = 0;
        while (KEYS[i] && strcmp(KEYS[i], name)) i++;
        if (!KEYS[i]) {
            const char *near = knob_closest(name, KEYS);
            return fail_at(r, key, "search: \"%s\": unknown key; expected method, trials, metric, direction, space, "
                                   "seed, seeds, pruner, grid_points or lag%s%s%s", name,
                           near ? " (did you mean " : "", near ? near : "", near ? "?)" : "");
        }
        if (i == 4) { // space
            if (v->type != YAML_MAPPING_NODE || v->data.mapping.pairs.top == v->data.mapping.pairs.start)
                return fail_at(r, v, "search: space: expected a mapping of knob: spec (e.g. lr: loguniform:1e-4:1)");
            if (check_duplicates(r, v) != 0) return -1;
            for (yaml_node_pair_t *q = v->data.mapping.pairs.start; q < v->data.mapping.pairs.top; q++)
                if (read_search_param(r, node(r, q->key), node(r, q->value)) != 0) return -1;
            continue;
        }
        if (i == 7) {
            if (read_search_pruner(r, v) != 0) return -1;
            continue;
        }
        if (i == 3) direction = v; // after the metric, which sets the default direction
        if (i == 3) continue;
        const char *val = search_scalar(r, v, name, "a single value");
        if (!val) return -1;
        char flag[64], where[4400];
        snprintf(flag, sizeof flag, "--%s", FLAGS[i]);
        lr_err inner;
        if (search_spec_parse_flag(sp, flag, val, &inner) != 0) {
            // the flag's message, named by the file and key instead of the flag
            const char *rest = strchr(inner.msg, ' ');
            where_at(r, v, name, where, sizeof where);
            return lr_fail(r->e, "%s%s", where, rest ? rest : inner.msg);
        }
    }
    if (direction) {
        const char *val = search_scalar(r, direction, "direction", "maximize or minimize");
        char where[4400];
        where_at(r, direction, "direction", where, sizeof where);
        if (!val || search_direction_parse(val, &sp->maximize, where, r->e) != 0) return -1;
        sp->direction_set = 1;
    }
    if (sp->space.n == 0) return fail_at(r, map, "search: expected a space: (e.g. space: {lr: loguniform:1e-4:1})");
    *r->has_search = 1;
    return 0;
}

static int read_root(reader *r, const yaml_node_t *root) {
    if (!root) return lr_fail(r->e, "%s: empty file; expected a study (name, seeds, base:, grid:)", r->path);
    if (root->type != YAML_MAPPING_NODE)
        return fail_at(r, root, "expected a mapping at the top (name, seeds, base:, grid:)");
    if (check_duplicates(r, root) != 0) return -1;
    static const char *const SECTIONS[] = {"name", "seeds", "base", "grid", "search", NULL};
    const yaml_node_t *grid = NULL, *seeds = NULL, *search = NULL;
    // Order: top-level knobs and base first, then the grid and seeds, so an
    // axis is checked against the base it varies.
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
        const yaml_node_t *key = node(r, p->key), *v = node(r, p->value);
        const char *name = scalar(key);
        if (!strcmp(name, "name")) {
            if (v->type != YAML_SCALAR_NODE || !scalar(v)[0] || strlen(scalar(v)) >= sizeof r->sp->name)
                return fail_at(r, v, "name: expected a text of 1 to %zu characters", sizeof r->sp->name - 1);
            snprintf(r->sp->name, sizeof r->sp->name, "%s", scalar(v));
        } else if (!strcmp(name, "base")) {
            if (read_base(r, v) != 0) return -1;
        } else if (!strcmp(name, "grid")) {
            grid = v;
        } else if (!strcmp(name, "seeds")) {
            seeds = v;
        } else if (!strcmp(name, "search")) {
            search = v;
        } else {
            const knob *k = knob_find(name);
            if (!k) {
                const char *cands[128 + 8];
                int n = 0;
                for (int i = 0; i < N_KNOBS && i < 128; i++) cands[n++] = KNOBS[i].name;
                for (int i = 0; SECTIONS[i]; i++) cands[n++] = SECTIONS[i];
                cands[n] = NULL;
                const char *near = knob_closest(name, cands);
                return fail_at(r, key, "\"%s\": unknown section or key%s%s%s; expected name, seeds, base, grid, "
                                       "search or a knob", name, near ? "; did you mean \"" : "", near ? near : "",
                               near ? "\"?" : "");
            }
            if (set_base(r, key, v, k) != 0) return -1;
        }
    }
    if (grid && read_grid(r, grid) != 0) return -1;
    if (search && read_search(r, search) != 0) return -1;
    if (seeds) {
        if (spec_axis(r->sp, knob_find("seed")) || (grid && r->sp->n_seeds))
            return fail_at(r, seeds, "seeds: given twice (also as a grid axis)");
        if (read_seeds(r, seeds) != 0) return -1;
    }
    return 0;
}

int study_file_read(const char *path, study_spec *sp, lr_err *e) {
    return study_file_read_search(path, sp, NULL, NULL, e);
}

int study_file_read_search(const char *path, study_spec *sp, search_spec *search, int *has_search, lr_err *e) {
    int no_search = 0;
    if (has_search) *has_search = 0;
    else has_search = &no_search;
    struct stat st;
    if (stat(path, &st) != 0) return lr_fail(e, "%s: cannot read the study file (no such file)", path);
    if (!S_ISREG(st.st_mode)) return lr_fail(e, "%s: expected a YAML study file, found a folder or device", path);
    if (st.st_size > STUDY_FILE_MAX_BYTES)
        return lr_fail(e, "%s: %lld bytes; a study file is at most %d bytes", path, (long long)st.st_size,
                       STUDY_FILE_MAX_BYTES);
    char *text = NULL;
    size_t len = 0;
    if (fs_read_all(path, &text, &len, e) != 0) return -1;
    if (len > STUDY_FILE_MAX_BYTES) {
        free(text);
        return lr_fail(e, "%s: more than %d bytes; a study file is at most that", path, STUDY_FILE_MAX_BYTES);
    }
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser)) {
        free(text);
        return lr_fail(e, "%s: cannot start the YAML parser (out of memory)", path);
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    int rc;
    if (!yaml_parser_load(&parser, &doc)) {
        rc = lr_fail(e, "%s:%d: expected YAML: %s%s%s", path, (int)parser.problem_mark.line + 1,
                     parser.problem ? parser.problem : "parse error", parser.context ? " " : "",
                     parser.context ? parser.context : "");
    } else {
        reader r = {path, &doc, sp, e, search, has_search};
        rc = read_root(&r, yaml_document_get_root_node(&doc));
        yaml_document_delete(&doc);
    }
    yaml_parser_delete(&parser);
    free(text);
    return rc;
}
