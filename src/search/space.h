// space.h: a search space: the knobs a search varies, each with its
// distribution (docs/search.md):
//
//     lr=loguniform:1e-4:1        log-uniform on [A, B], A > 0 (a number knob)
//     momentum=uniform:0:0.99     uniform on [A, B]
//     batch_size=int:16:512:log   whole numbers in [A, B], optionally log-spaced
//     optimizer=categorical:sgd,adam    one of the listed values
//
// The knob table (src/train/knobs.h) is the schema: the name must be a knob
// that can be a study axis (not seed, which `seeds:` repeats), its bounds and
// choices are checked against the knob's range or values.
//
//     search_space s = {0};
//     lr_err e;
//     if (space_add_flag(&s, "lr=loguniform:1e-4:1", "--space", &e) != 0) fprintf(stderr, "%s\n", e.msg);
//     double x[SEARCH_MAX_PARAMS] = {0.01};          // a point: one number per parameter
//     run_config c; config_defaults(&c);
//     space_apply(&s, x, &c, &e);                    // c.lr = 0.01
//
// A point holds one double per parameter: the value itself (a whole number
// for int) or, for categorical, the index of the choice.
#ifndef LRSCOPE_SPACE_H
#define LRSCOPE_SPACE_H

#include "../train/knobs.h"

enum {
    SEARCH_MAX_PARAMS = 16,
    SEARCH_MAX_CHOICES = 32,
    SEARCH_MAX_TEXT = 32,     // a choice's text, with its terminating NUL
};

typedef enum { PARAM_UNIFORM, PARAM_LOGUNIFORM, PARAM_INT, PARAM_CATEGORICAL } param_kind;

typedef struct {
    const knob *k;
    param_kind kind;
    int log;                  // LOGUNIFORM: 1; INT: 1 for int:A:B:log
    double low, high;         // numeric kinds: the bounds, inclusive, low < high
    int n_choices;            // CATEGORICAL
    char choices[SEARCH_MAX_CHOICES][SEARCH_MAX_TEXT];
} search_param;

typedef struct {
    int n;
    search_param p[SEARCH_MAX_PARAMS];
} search_space;

// Parses "loguniform:A:B", "uniform:A:B", "int:A:B[:log]" or
// "categorical:V1,V2,..." for the knob named name. `where` names the source
// in messages ("--space", "study.yaml:9: search: space").
int param_parse(search_param *p, const char *name, const char *spec, const char *where, lr_err *e);
// The same from parts, as a YAML mapping gives them: kind "loguniform",
// "uniform", "int" or "categorical"; low/high for the numeric kinds;
// choices[0..n_choices) for categorical.
int param_make(search_param *p, const char *name, const char *kind, const char *low, const char *high, int log,
               const char *const *choices, int n_choices, const char *where, lr_err *e);
// The spec text param_parse reads back to the same parameter ("loguniform:0.0001:1").
void param_format(const search_param *p, char *out, size_t cap);

// Adds p; a knob given twice or more than SEARCH_MAX_PARAMS parameters is refused.
int space_add(search_space *s, const search_param *p, const char *where, lr_err *e);
// "NAME=SPEC" (the --space flag).
int space_add_flag(search_space *s, const char *arg, const char *where, lr_err *e);

// Writes x's values into c through knob_parse.
int space_apply(const search_space *s, const double *x, run_config *c, lr_err *e);
// The value of parameter i at x as knob text ("0.0123", "sgd", "128").
void space_value_text(const search_space *s, int i, const double *x, char *out, size_t cap);
// "lr=0.0123,optimizer=sgd" (for names and messages).
void space_format_point(const search_space *s, const double *x, char *out, size_t cap);
// 1 if a and b are the same point.
int space_point_equal(const search_space *s, const double *a, const double *b);
// The number of distinct points; INFINITY when a parameter is continuous.
double space_size(const search_space *s);
// 1 if x lies in s (every value in bounds, whole where it must be).
int space_contains(const search_space *s, const double *x);

#endif
