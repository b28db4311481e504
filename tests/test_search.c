// test_search.c: the search library (src/search/): the space and its
// parsing (flags and the study file's search: section), the samplers
// (random, grid, TPE against Optuna 3.1's internals in
// tests/data/tpe_reference.txt, written by tools/tpe_reference.py; TPE beats
// random on known functions; no duplicate proposals; determinism and the
// constant liar), and the pruners (ASHA rungs and promotion, the median
// rule) on hand-built curves.
#include "test_util.h"

#include "../src/search/tpe.h"
#include "../src/study/study_file.h"

#define REF_PATH "tests/data/tpe_reference.txt"

// ---------------------------------------------------------------- helpers

static void space_ok(search_space *s, const char *arg) {
    lr_err e;
    if (space_add_flag(s, arg, "--space", &e) != 0) fail_msg("--space %s: %s", arg, e.msg);
}

static void space_bad(const char *arg, const char *needle) {
    search_space s = {0};
    lr_err e = {{0}};
    if (space_add_flag(&s, arg, "--space", &e) != -1) fail_msg("--space %s: accepted", arg);
    if (!strstr(e.msg, needle)) fail_msg("--space %s: message lacks \"%s\": %s", arg, needle, e.msg);
    if (!strstr(e.msg, "--space")) fail_msg("--space %s: message does not name the flag: %s", arg, e.msg);
}

static void flag_ok(search_spec *sp, const char *flag, const char *value) {
    lr_err e;
    if (search_spec_parse_flag(sp, flag, value, &e) != 0) fail_msg("%s %s: %s", flag, value, e.msg);
}

static void flag_bad(const char *flag, const char *value, const char *needle) {
    search_spec sp;
    search_spec_init(&sp);
    lr_err e = {{0}};
    if (search_spec_parse_flag(&sp, flag, value, &e) != -1) fail_msg("%s %s: accepted", flag, value);
    if (!strstr(e.msg, needle)) fail_msg("%s %s: message lacks \"%s\": %s", flag, value, needle, e.msg);
}

// A history the tests drive like a scheduler would: points and values.
typedef struct {
    search_trial t[400];
    double curves[400][4];
    int n;
} history;

static int suggest(const search_spec *sp, history *h, double *x) {
    lr_err e;
    int rc = search_suggest(sp, h->t, h->n, x, &e);
    if (rc < 0) fail_msg("search_suggest: %s", e.msg);
    return rc;
}

static void add_trial(history *h, const double *x, int d, trial_state st, double value) {
    search_trial *t = &h->t[h->n++];
    memset(t, 0, sizeof *t);
    memcpy(t->x, x, (size_t)d * sizeof *x);
    t->state = st;
    t->value = value;
}

static void assert_no_duplicates(const search_space *s, const history *h) {
    for (int i = 0; i < h->n; i++)
        for (int j = 0; j < i; j++)
            if (space_point_equal(s, h->t[i].x, h->t[j].x)) {
                char a[256];
                space_format_point(s, h->t[i].x, a, sizeof a);
                fail_msg("trials %d and %d share the point %s", j, i, a);
            }
}

// ---------------------------------------------------------------- space

static void test_space_every_kind_and_round_trip(void **state) {
    (void)state;
    search_space s = {0};
    space_ok(&s, "lr=loguniform:1e-4:1");
    space_ok(&s, "momentum=uniform:0:0.99");
    space_ok(&s, "batch_size=int:16:512:log");
    space_ok(&s, "epochs=int:1:20");
    space_ok(&s, "optimizer=categorical:sgd,adam,adamw");
    space_ok(&s, "nesterov=categorical:true,false");
    assert_int_equal(s.n, 6);
    assert_int_equal(s.p[0].kind, PARAM_LOGUNIFORM);
    assert_true(s.p[0].log && s.p[0].low == 1e-4 && s.p[0].high == 1);
    assert_int_equal(s.p[1].kind, PARAM_UNIFORM);
    assert_true(!s.p[1].log && s.p[1].low == 0 && s.p[1].high == 0.99);
    assert_int_equal(s.p[2].kind, PARAM_INT);
    assert_true(s.p[2].log && s.p[2].low == 16 && s.p[2].high == 512);
    assert_int_equal(s.p[3].kind, PARAM_INT);
    assert_false(s.p[3].log);
    assert_int_equal(s.p[4].kind, PARAM_CATEGORICAL);
    assert_int_equal(s.p[4].n_choices, 3);
    assert_string_equal(s.p[4].choices[2], "adamw");
    assert_string_equal(s.p[4].k->name, "optimizer");
    // round trip: the formatted spec parses back to the same parameter
    const char *want[] = {"loguniform:0.0001:1", "uniform:0:0.99", "int:16:512:log", "int:1:20",
                          "categorical:sgd,adam,adamw", "categorical:true,false"};
    for (int i = 0; i < s.n; i++) {
        char text[256];
        param_format(&s.p[i], text, sizeof text);
        assert_string_equal(text, want[i]);
        search_param back;
        lr_err e;
        if (param_parse(&back, s.p[i].k->name, text, "round trip", &e) != 0) fail_msg("%s", e.msg);
        assert_int_equal(back.kind, s.p[i].kind);
        assert_int_equal(back.log, s.p[i].log);
        assert_true(back.low == s.p[i].low && back.high == s.p[i].high);
        assert_int_equal(back.n_choices, s.p[i].n_choices);
        for (int c = 0; c < back.n_choices; c++) assert_string_equal(back.choices[c], s.p[i].choices[c]);
    }
    assert_true(isinf(space_size(&s)));
    search_space d = {0};
    space_ok(&d, "epochs=int:1:20");
    space_ok(&d, "optimizer=categorical:sgd,adam,adamw");
    assert_true(space_size(&d) == 60);
}

static void test_space_errors(void **state) {
    (void)state;
    space_bad("lr=loguniform:0:1", "needs low > 0");
    space_bad("lr=loguniform:-1:1", "needs low > 0");
    space_bad("lr=loguniform:1:0.1", "expected low < high");
    space_bad("momentum=uniform:0.5:0.5", "expected low < high");
    space_bad("momentum=uniform:a:1", "expected two numbers");
    space_bad("lr=loguniform:1e-4", "expected loguniform:A:B");
    space_bad("lr=loguniform:1e-4:1:2", "expected loguniform:A:B");
    space_bad("lrr=loguniform:1e-4:1", "did you mean \"lr\"");
    space_bad("xyzzy=loguniform:1e-4:1", "unknown knob");
    space_bad("momentum=uniform:0:2", "in [0, 1]");      // outside the knob's range
    space_bad("lr=loguniform:1e-4:1e9", "lr");                 // lr's range ends at 1e6
    space_bad("batch_size=uniform:1:10", "a whole number");
    space_bad("lr=int:1:10", "a real number");
    space_bad("batch_size=int:1.5:10", "whole bounds");
    space_bad("batch_size=int:0:10:log", "needs low > 0");
    space_bad("batch_size=int:1:10:lin", "expected int:A:B or int:A:B:log");
    space_bad("optimizer=uniform:0:1", "a choice knob");
    space_bad("optimizer=categorical:sgd,adamx", "did you mean \"adam");
    space_bad("optimizer=categorical:sgd,sgd", "listed twice");
    space_bad("optimizer=categorical:sgd,,adam", "empty value");
    space_bad("seed=int:1:5", "cannot be searched");
    space_bad("threads=int:1:4", "results do not depend");
    space_bad("model=categorical:linear", "only number and choice knobs");
    space_bad("lr", "expected NAME=SPEC");
    space_bad("lr=normal:0:1", "unknown distribution");
    space_bad("lr=logunifrom:1e-4:1", "did you mean loguniform");
    search_space s = {0};
    space_ok(&s, "lr=loguniform:1e-4:1");
    lr_err e;
    assert_int_equal(space_add_flag(&s, "lr=uniform:0.1:0.2", "--space", &e), -1);
    assert_non_null(strstr(e.msg, "given twice"));
}

static void test_space_apply_and_format(void **state) {
    (void)state;
    search_space s = {0};
    space_ok(&s, "lr=loguniform:1e-4:1");
    space_ok(&s, "batch_size=int:16:512:log");
    space_ok(&s, "optimizer=categorical:sgd,adam,adamw");
    run_config c;
    config_defaults(&c);
    double x[SEARCH_MAX_PARAMS] = {0.0123, 96, 2};
    lr_err e;
    if (space_apply(&s, x, &c, &e) != 0) fail_msg("%s", e.msg);
    assert_true(c.lr == x[0]); // exactly: the text round-trips
    assert_int_equal(c.batch_size, 96);
    assert_string_equal(c.optimizer, "adamw");
    char text[256];
    space_format_point(&s, x, text, sizeof text);
    assert_string_equal(text, "lr=0.0123,batch_size=96,optimizer=adamw");
    assert_true(space_contains(&s, x));
    x[1] = 600;
    assert_false(space_contains(&s, x));
}

// ---------------------------------------------------------------- spec: flags and the study file

static void test_spec_flags(void **state) {
    (void)state;
    search_spec sp;
    search_spec_init(&sp);
    assert_int_equal(sp.method, SEARCH_TPE);
    assert_int_equal(sp.metric, METRIC_TEST_ACC);
    assert_int_equal(sp.maximize, 1);
    flag_ok(&sp, "--search", "random");
    flag_ok(&sp, "--trials", "40");
    flag_ok(&sp, "--space", "lr=loguniform:1e-4:1");
    flag_ok(&sp, "--space", "momentum=uniform:0:0.99");
    flag_ok(&sp, "--metric", "test_loss");
    assert_int_equal(sp.maximize, 0); // a loss is minimised
    flag_ok(&sp, "--pruner", "asha:grace=2,eta=4,max_epochs=30");
    flag_ok(&sp, "--search-seed", "7");
    flag_ok(&sp, "--search-seeds", "3");
    flag_ok(&sp, "--search-lag", "0");
    assert_int_equal(sp.method, SEARCH_RANDOM);
    assert_int_equal(sp.n_trials, 40);
    assert_int_equal(sp.space.n, 2);
    assert_int_equal(sp.metric, METRIC_TEST_LOSS);
    assert_int_equal(sp.pruner.type, PRUNER_ASHA);
    assert_int_equal(sp.pruner.grace, 2);
    assert_int_equal(sp.pruner.eta, 4);
    assert_int_equal(sp.pruner.max_epochs, 30);
    assert_int_equal((int)sp.seed, 7);
    assert_int_equal(sp.n_seeds, 3);
    assert_int_equal(sp.lag, 0);
    flag_ok(&sp, "--direction", "maximize");
    flag_ok(&sp, "--metric", "train_loss"); // an explicit direction stays
    assert_int_equal(sp.maximize, 1);
    lr_err e;
    assert_int_equal(search_spec_check(&sp, 30, "--search", &e), 0);
    // median with settings; ASHA's max_epochs defaults to the run's epochs
    search_spec m;
    search_spec_init(&m);
    flag_ok(&m, "--pruner", "median:startup=4,warmup=2");
    assert_int_equal(m.pruner.type, PRUNER_MEDIAN);
    assert_int_equal(m.pruner.n_startup, 4);
    assert_int_equal(m.pruner.n_warmup, 2);
    flag_ok(&m, "--pruner", "asha");
    flag_ok(&m, "--space", "lr=loguniform:1e-4:1");
    assert_int_equal(search_spec_check(&m, 12, "--search", &e), -1);
    assert_non_null(strstr(e.msg, "number of trials"));
    flag_ok(&m, "--trials", "9");
    assert_int_equal(search_spec_check(&m, 12, "--search", &e), 0);
    assert_int_equal(m.pruner.max_epochs, 12);
    assert_int_equal(m.pruner.grace, 1);
    assert_int_equal(m.pruner.eta, 3);
    // grid: trials default to the grid's size
    search_spec g;
    search_spec_init(&g);
    flag_ok(&g, "--search", "grid");
    flag_ok(&g, "--space", "lr=loguniform:1e-4:1");
    flag_ok(&g, "--space", "optimizer=categorical:sgd,adam");
    assert_int_equal(search_spec_check(&g, 5, "--search", &e), 0);
    assert_int_equal(g.n_trials, 10);
    // errors
    flag_bad("--search", "bayes", "unknown search method");
    flag_bad("--search", "tpee", "did you mean tpe");
    flag_bad("--trials", "0", "expected the number of trials");
    flag_bad("--trials", "12x", "expected the number of trials");
    flag_bad("--metric", "test_ac", "did you mean test_acc");
    flag_bad("--direction", "up", "unknown direction");
    flag_bad("--pruner", "hyperband", "unknown pruner");
    flag_bad("--pruner", "asha:warmup=3", "a setting of the median pruner");
    flag_bad("--pruner", "asha:eta=1", "the reduction factor");
    flag_bad("--pruner", "asha:grace", "expected KEY=VALUE");
    flag_bad("--pruner", "none:grace=1", "has no settings");
    flag_bad("--space", "lr=loguniform:0:1", "--space");
    flag_bad("--serach", "tpe", "did you mean search");
    search_spec none;
    search_spec_init(&none);
    flag_ok(&none, "--trials", "5");
    assert_int_equal(search_spec_check(&none, 5, "--search", &e), -1);
    assert_non_null(strstr(e.msg, "no space"));
    flag_ok(&none, "--space", "lr=loguniform:1e-4:1");
    flag_ok(&none, "--pruner", "asha:grace=5");
    assert_int_equal(search_spec_check(&none, 5, "--search", &e), -1);
    assert_non_null(strstr(e.msg, "no rung"));
}

static int read_yaml(const char *text, search_spec *sp, int *has, lr_err *e) {
    char dir[256], path[300];
    test_mkdtemp(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/study.yaml", dir);
    test_write_file(path, text, strlen(text));
    study_spec st;
    spec_init(&st);
    search_spec_init(sp);
    int rc = study_file_read_search(path, &st, sp, has, e);
    spec_free(&st);
    test_rmtree(dir);
    return rc;
}

static void yaml_bad(const char *text, const char *needle, int line) {
    search_spec sp;
    int has;
    lr_err e = {{0}};
    if (read_yaml(text, &sp, &has, &e) != -1) fail_msg("accepted:\n%s", text);
    if (!strstr(e.msg, needle)) fail_msg("message lacks \"%s\": %s\n%s", needle, e.msg, text);
    char at[32];
    snprintf(at, sizeof at, "study.yaml:%d:", line);
    if (!strstr(e.msg, at)) fail_msg("message lacks \"%s\": %s", at, e.msg);
}

static void test_study_file_search_section(void **state) {
    (void)state;
    const char *text = "name: s\n"
                       "epochs: 9\n"
                       "search:\n"
                       "  method: random\n"
                       "  trials: 25\n"
                       "  metric: test_loss\n"
                       "  direction: maximize\n"
                       "  seed: 4\n"
                       "  seeds: 3\n"
                       "  lag: 2\n"
                       "  space:\n"
                       "    lr: loguniform:1e-4:1\n"
                       "    momentum: {type: uniform, low: 0, high: 0.99}\n"
                       "    batch_size: {type: int, low: 16, high: 256, log: true}\n"
                       "    optimizer: {type: categorical, choices: [sgd, adam]}\n"
                       "  pruner: {type: asha, grace: 1, eta: 3, max_epochs: 9}\n";
    search_spec sp;
    int has = 0;
    lr_err e;
    if (read_yaml(text, &sp, &has, &e) != 0) fail_msg("%s", e.msg);
    assert_int_equal(has, 1);
    assert_int_equal(sp.method, SEARCH_RANDOM);
    assert_int_equal(sp.n_trials, 25);
    assert_int_equal(sp.metric, METRIC_TEST_LOSS);
    assert_int_equal(sp.maximize, 1); // the explicit direction, whatever the key order
    assert_int_equal((int)sp.seed, 4);
    assert_int_equal(sp.n_seeds, 3);
    assert_int_equal(sp.lag, 2);
    assert_int_equal(sp.space.n, 4);
    char spec[128];
    param_format(&sp.space.p[0], spec, sizeof spec);
    assert_string_equal(spec, "loguniform:0.0001:1");
    param_format(&sp.space.p[1], spec, sizeof spec);
    assert_string_equal(spec, "uniform:0:0.99");
    param_format(&sp.space.p[2], spec, sizeof spec);
    assert_string_equal(spec, "int:16:256:log");
    param_format(&sp.space.p[3], spec, sizeof spec);
    assert_string_equal(spec, "categorical:sgd,adam");
    assert_int_equal(sp.pruner.type, PRUNER_ASHA);
    assert_int_equal(sp.pruner.max_epochs, 9);
    // the defaults: TPE, final test accuracy maximised, no pruner; pruner as a word
    if (read_yaml("search:\n  trials: 5\n  space: {lr: loguniform:1e-3:1}\n  pruner: median\n", &sp, &has, &e) != 0)
        fail_msg("%s", e.msg);
    assert_int_equal(sp.method, SEARCH_TPE);
    assert_int_equal(sp.metric, METRIC_TEST_ACC);
    assert_int_equal(sp.maximize, 1);
    assert_int_equal(sp.pruner.type, PRUNER_MEDIAN);
    if (read_yaml("epochs: 3\n", &sp, &has, &e) != 0) fail_msg("%s", e.msg);
    assert_int_equal(has, 0);
    // errors name the line and the key
    yaml_bad("search:\n  methd: tpe\n  space: {lr: loguniform:1e-3:1}\n", "did you mean method", 2);
    yaml_bad("search:\n  method: bayes\n  space: {lr: loguniform:1e-3:1}\n", "search: method bayes: unknown", 2);
    yaml_bad("search:\n  trials: many\n  space: {lr: loguniform:1e-3:1}\n", "search: trials many: expected", 2);
    yaml_bad("search:\n  trials: [1]\n  space: {lr: loguniform:1e-3:1}\n", "trials: expected a single value", 2);
    yaml_bad("search:\n  trials: 5\n", "expected a space", 2);
    yaml_bad("search:\n  space: [lr]\n", "space: expected a mapping", 2);
    yaml_bad("search:\n  space:\n    lr: loguniform:0:1\n", "needs low > 0", 3);
    yaml_bad("search:\n  space:\n    momentun: uniform:0:1\n", "did you mean \"momentum\"", 3);
    yaml_bad("search:\n  space:\n    lr: {type: loguniform, low: 1e-4}\n", "expected both low and high", 3);
    yaml_bad("search:\n  space:\n    lr: {type: loguniform, lo: 1e-4, high: 1}\n", "did you mean low", 3);
    yaml_bad("search:\n  space:\n    lr: {low: 1e-4, high: 1}\n", "expected a type", 3);
    yaml_bad("search:\n  space:\n    optimizer: {type: categorical, choices: sgd}\n", "choices: expected a list", 3);
    yaml_bad("search:\n  space:\n    optimizer: {type: categorical, choices: [sgd, sgdd]}\n", "sgdd", 3);
    yaml_bad("search:\n  space:\n    lr: {type: uniform, low: 0.1, high: 1, log: true}\n", "applies to int", 3);
    yaml_bad("search:\n  space: {lr: loguniform:1e-3:1}\n  pruner: {type: asha, eta: 1}\n", "reduction factor", 3);
    yaml_bad("search:\n  space: {lr: loguniform:1e-3:1}\n  pruner: {grace: 1}\n", "expected a type", 3);
    yaml_bad("search:\n  space: {lr: loguniform:1e-3:1}\n  pruner: {type: asha, warmup: 1}\n", "median", 3);
    yaml_bad("search:\n  space: {lr: loguniform:1e-3:1}\n  direction: up\n", "unknown direction", 3);
    yaml_bad("search: tpe\n", "search: expected a mapping", 1);
    yaml_bad("serach:\n  trials: 3\n", "did you mean \"search\"", 1);
    // a command that does not search refuses the section
    char dir[256], path[300];
    test_mkdtemp(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/study.yaml", dir);
    const char *s = "search:\n  space: {lr: loguniform:1e-3:1}\n";
    test_write_file(path, s, strlen(s));
    study_spec st;
    spec_init(&st);
    assert_int_equal(study_file_read(path, &st, &e), -1);
    assert_non_null(strstr(e.msg, "does not search"));
    spec_free(&st);
    test_rmtree(dir);
}

// ---------------------------------------------------------------- TPE internals against Optuna

static FILE *ref_open(void) {
    FILE *f = fopen(REF_PATH, "r");
    if (!f) fail_msg("cannot open %s (run the tests from the repository)", REF_PATH);
    return f;
}

// Reads "TAG N v1 .. vN" into v (at most cap), returning N.
static int ref_row(FILE *f, const char *tag, double *v, int cap) {
    char got[32];
    int n;
    if (fscanf(f, "%31s %d", got, &n) != 2 || strcmp(got, tag) != 0) fail_msg("%s: expected a row %s", REF_PATH, tag);
    if (n > cap) fail_msg("%s: row %s too long", REF_PATH, tag);
    for (int i = 0; i < n; i++)
        if (fscanf(f, "%lf", &v[i]) != 1) fail_msg("%s: row %s: number %d", REF_PATH, tag, i);
    return n;
}

static void assert_rel(double got, double want, double tol, const char *what, int i) {
    if (!(fabs(got - want) <= tol * fmax(1, fabs(want))))
        fail_msg("%s[%d]: got %.17g, Optuna %.17g", what, i, got, want);
}

static void test_tpe_parzen_matches_optuna(void **state) {
    (void)state;
    FILE *f = ref_open();
    char tag[32], spec[128];
    int cases = 0;
    while (fscanf(f, "%31s", tag) == 1 && !strcmp(tag, "parzen")) {
        if (fscanf(f, "%127s", spec) != 1) fail_msg("parzen: spec");
        search_space s = {0};
        space_ok(&s, spec);
        const search_param *p = &s.p[0];
        double obs[64], w[64], mus[64], sig[64], cw[256], pts[16], lp[16];
        int m = ref_row(f, "obs", obs, 64);
        for (int i = 0; i < m; i++) obs[i] = tpe_to_internal(p, obs[i]);
        tpe_parzen pe;
        tpe_parzen_build(&pe, p, obs, m);
        int nw = ref_row(f, "weights", w, 64);
        assert_int_equal(nw, pe.n);
        for (int i = 0; i < nw; i++) assert_rel(pe.w[i], w[i], 1e-12, "weights", i);
        if (p->kind == PARAM_CATEGORICAL) {
            int nc = ref_row(f, "cw", cw, 256);
            assert_int_equal(nc, pe.n * p->n_choices);
            for (int i = 0; i < nc; i++) assert_rel(pe.cw[i], cw[i], 1e-12, "categorical weights", i);
        } else {
            ref_row(f, "mus", mus, 64);
            ref_row(f, "sigmas", sig, 64);
            for (int i = 0; i < pe.n; i++) {
                assert_rel(pe.mu[i], mus[i], 1e-12, "mus", i);
                assert_rel(pe.sigma[i], sig[i], 1e-12, "sigmas", i);
            }
        }
        int np = ref_row(f, "points", pts, 16);
        ref_row(f, "logpdf", lp, 16);
        for (int i = 0; i < np; i++)
            assert_rel(tpe_parzen_log_pdf(&pe, tpe_to_internal(p, pts[i])), lp[i], 1e-9, spec, i);
        tpe_parzen_free(&pe);
        cases++;
    }
    assert_int_equal(cases, 7);
    // the split: which trials are below, for both directions, with pruned and running trials
    int splits = 0;
    do {
        char dir[16];
        int n;
        if (strcmp(tag, "split") != 0 || fscanf(f, "%15s %d", dir, &n) != 2) fail_msg("%s: expected a split", REF_PATH);
        search_spec sp;
        search_spec_init(&sp);
        sp.maximize = !strcmp(dir, "maximize");
        sp.lag = 0; // running trials are marked as such
        static double curves[64][4];
        search_trial t[64];
        memset(t, 0, sizeof t);
        for (int i = 0; i < n; i++) {
            char st[16];
            int k;
            if (fscanf(f, "%15s %d", st, &k) != 2) fail_msg("split: trial %d", i);
            for (int j = 0; j < k; j++)
                if (fscanf(f, "%lf", &curves[i][j]) != 1) fail_msg("split: trial %d value", i);
            t[i].x[0] = i / 100.0;
            if (!strcmp(st, "complete")) t[i].state = TRIAL_COMPLETE, t[i].value = curves[i][0];
            else if (!strcmp(st, "pruned")) t[i].state = TRIAL_PRUNED, t[i].n_epochs = k, t[i].curve = curves[i];
            else t[i].state = TRIAL_RUNNING;
        }
        double want_below[64], want_above[64];
        int nb = ref_row(f, "below", want_below, 64), na = ref_row(f, "above", want_above, 64);
        int below[64], above[64], settled;
        int got_nb = tpe_split(&sp, t, n, below, above, &settled);
        assert_int_equal(got_nb, nb);
        assert_int_equal(n - got_nb, na);
        for (int i = 0; i < nb; i++)
            if (below[i] != (int)want_below[i]) fail_msg("split %d (%s): below[%d] = %d, Optuna %d", splits, dir, i,
                                                         below[i], (int)want_below[i]);
        for (int i = 0; i < na; i++) assert_int_equal(above[i], (int)want_above[i]);
        splits++;
    } while (fscanf(f, "%31s", tag) == 1);
    assert_int_equal(splits, 4);
    fclose(f);
}

static void test_tpe_gamma_and_weights(void **state) {
    (void)state;
    const int n[] = {0, 1, 10, 11, 100, 249, 250, 251, 1000};
    const int g[] = {0, 1, 1, 2, 10, 25, 25, 25, 25};
    for (int i = 0; i < 9; i++) assert_int_equal(tpe_gamma(n[i]), g[i]);
    double w[40];
    tpe_default_weights(24, w);
    for (int i = 0; i < 24; i++) assert_true(w[i] == 1);
    tpe_default_weights(30, w); // np.linspace(1/30, 1, 5) then 25 ones
    for (int i = 0; i < 5; i++) assert_rel(w[i], 1.0 / 30 + (1 - 1.0 / 30) * i / 4, 1e-15, "ramp", i);
    for (int i = 5; i < 30; i++) assert_true(w[i] == 1);
}

// ---------------------------------------------------------------- samplers

static double f1(const double *x) { double d = log10(x[0]) + 2; return -d * d; }
static double f2(const double *x) {
    double a = log10(x[0]) + 2.5, b = x[1] - 0.8;
    return -a * a - 4 * b * b;
}

// Runs a whole search sequentially, every trial settled at once (the view
// still reads the last `lag` as running), and returns the best value.
static double run_search(search_spec *sp, history *h, double (*f)(const double *), int n_trials) {
    h->n = 0;
    double best = -INFINITY;
    for (int t = 0; t < n_trials; t++) {
        double x[SEARCH_MAX_PARAMS];
        if (suggest(sp, h, x) != 0) fail_msg("exhausted at trial %d", t);
        if (!space_contains(&sp->space, x)) fail_msg("trial %d: point outside the space", t);
        double v = f(x);
        add_trial(h, x, sp->space.n, TRIAL_COMPLETE, v);
        if (v > best) best = v;
    }
    return best;
}

static void tpe_vs_random(const char *const *space, int d, double (*f)(const double *), int n_trials, double *tpe,
                          double *rnd) {
    static history h;
    *tpe = *rnd = 0;
    for (int seed = 1; seed <= 20; seed++) {
        for (int m = 0; m < 2; m++) {
            search_spec sp;
            search_spec_init(&sp);
            sp.method = m ? SEARCH_RANDOM : SEARCH_TPE;
            sp.seed = (uint64_t)seed;
            for (int i = 0; i < d; i++) space_ok(&sp.space, space[i]);
            double best = run_search(&sp, &h, f, n_trials);
            assert_no_duplicates(&sp.space, &h);
            *(m ? rnd : tpe) += best / 20;
        }
    }
}

static void test_tpe_beats_random(void **state) {
    (void)state;
    const char *s1[] = {"lr=loguniform:1e-4:1"};
    const char *s2[] = {"lr=loguniform:1e-4:1", "momentum=uniform:0:0.99"};
    double tpe, rnd;
    tpe_vs_random(s1, 1, f1, 30, &tpe, &rnd);
    print_message("1-D: mean best of 30 trials over 20 seeds: TPE %.5f, random %.5f\n", tpe, rnd);
    assert_true(tpe > rnd);
    tpe_vs_random(s2, 2, f2, 40, &tpe, &rnd);
    print_message("2-D: mean best of 40 trials over 20 seeds: TPE %.5f, random %.5f\n", tpe, rnd);
    assert_true(tpe > rnd);
}

static double f_discrete(const double *x) { return -fabs(x[0] - 6) - (x[1] == 1 ? 0 : 2); }

static void test_no_duplicates_until_exhausted(void **state) {
    (void)state;
    static history h;
    for (int m = 0; m < 2; m++)
        for (int seed = 1; seed <= 5; seed++) {
            search_spec sp;
            search_spec_init(&sp);
            sp.method = m ? SEARCH_RANDOM : SEARCH_TPE;
            sp.seed = (uint64_t)seed;
            space_ok(&sp.space, "epochs=int:1:8");
            space_ok(&sp.space, "optimizer=categorical:sgd,adam,adamw");
            h.n = 0;
            for (int t = 0; t < 24; t++) {
                double x[SEARCH_MAX_PARAMS];
                if (suggest(&sp, &h, x) != 0) fail_msg("exhausted after %d of 24 points", t);
                add_trial(&h, x, 2, t % 5 == 4 ? TRIAL_RUNNING : TRIAL_COMPLETE, f_discrete(x));
            }
            assert_no_duplicates(&sp.space, &h);
            double x[SEARCH_MAX_PARAMS] = {-1, -1};
            assert_int_equal(suggest(&sp, &h, x), SEARCH_EXHAUSTED);
            assert_true(x[0] == -1); // untouched
        }
}

static void test_random_and_grid(void **state) {
    (void)state;
    static history h1, h2;
    search_spec sp;
    search_spec_init(&sp);
    sp.method = SEARCH_RANDOM;
    space_ok(&sp.space, "lr=loguniform:1e-4:1");
    space_ok(&sp.space, "batch_size=int:16:512:log");
    space_ok(&sp.space, "optimizer=categorical:sgd,adam");
    run_search(&sp, &h1, f1, 200);
    run_search(&sp, &h2, f1, 200);
    int low = 0, decades[4] = {0};
    for (int i = 0; i < 200; i++) {
        assert_true(space_point_equal(&sp.space, h1.t[i].x, h2.t[i].x)); // same seed: same points
        assert_true(h1.t[i].x[1] == round(h1.t[i].x[1]));
        low += h1.t[i].x[1] < 64;
        decades[(int)floor(-log10(h1.t[i].x[0])) < 4 ? (int)floor(-log10(h1.t[i].x[0])) : 3]++;
    }
    // log-uniform: about a quarter of the points in each decade; log int: about half below 64 of [16, 512]
    for (int k = 0; k < 4; k++) assert_in_range(decades[k], 25, 75);
    assert_in_range(low, 70, 130);
    sp.seed = 2;
    run_search(&sp, &h2, f1, 5);
    assert_false(space_point_equal(&sp.space, h1.t[0].x, h2.t[0].x));
    // grid: the product, first parameter slowest, log-spaced, then exhausted
    search_spec g;
    search_spec_init(&g);
    g.method = SEARCH_GRID;
    space_ok(&g.space, "lr=loguniform:1e-4:1");
    space_ok(&g.space, "optimizer=categorical:sgd,adam");
    space_ok(&g.space, "epochs=int:2:4");
    assert_int_equal(search_grid_size(&g), 5 * 2 * 3);
    history *h = &h1;
    h->n = 0;
    for (int i = 0; i < 30; i++) {
        double x[SEARCH_MAX_PARAMS];
        assert_int_equal(suggest(&g, h, x), 0);
        assert_rel(x[0], pow(10, -4 + i / 6), 1e-12, "grid lr", i);
        assert_true(x[1] == (i / 3) % 2);
        assert_true(x[2] == 2 + i % 3);
        add_trial(h, x, 3, TRIAL_COMPLETE, 0);
    }
    double x[SEARCH_MAX_PARAMS];
    assert_int_equal(suggest(&g, h, x), SEARCH_EXHAUSTED);
}

// A history of 12 settled trials on f2, then 3 more.
static void build_history(const search_spec *sp, history *h) {
    h->n = 0;
    for (int t = 0; t < 15; t++) {
        double x[SEARCH_MAX_PARAMS];
        if (suggest(sp, h, x) != 0) fail_msg("exhausted");
        add_trial(h, x, 2, TRIAL_COMPLETE, f2(x));
    }
}

static void test_tpe_deterministic_whatever_the_finish_order(void **state) {
    (void)state;
    static history h;
    search_spec sp;
    search_spec_init(&sp);
    space_ok(&sp.space, "lr=loguniform:1e-4:1");
    space_ok(&sp.space, "momentum=uniform:0:0.99");
    assert_int_equal(sp.lag, 3);
    build_history(&sp, &h);
    double a[SEARCH_MAX_PARAMS], b[SEARCH_MAX_PARAMS], c[SEARCH_MAX_PARAMS];
    suggest(&sp, &h, a);
    suggest(&sp, &h, b);
    assert_true(space_point_equal(&sp.space, a, b)); // same view, same point
    // Trials 12..14 (the last lag = 3) finished in another order, or not at
    // all yet: trial 15's point is the same.
    for (int mask = 0; mask < 8; mask++) {
        for (int i = 0; i < 3; i++) {
            h.t[12 + i].state = mask >> i & 1 ? TRIAL_RUNNING : TRIAL_COMPLETE;
            h.t[12 + i].value = mask >> i & 1 ? NAN : f2(h.t[12 + i].x) + mask; // whatever it finished with
        }
        suggest(&sp, &h, c);
        assert_true(space_point_equal(&sp.space, a, c));
    }
    // but a settled trial's value counts: the suggestion reads the history
    for (int i = 12; i < 15; i++) h.t[i].state = TRIAL_COMPLETE, h.t[i].value = f2(h.t[i].x);
    int changed = 0;
    for (int i = 0; i < 12; i++) {
        double saved = h.t[i].value;
        h.t[i].value = saved > -1 ? -100 : 0; // the best becomes the worst, or a bad one the best
        suggest(&sp, &h, c);
        changed += !space_point_equal(&sp.space, a, c);
        h.t[i].value = saved;
    }
    assert_true(changed > 0);
    // a different search seed, different points
    search_spec other = sp;
    other.seed = 99;
    suggest(&other, &h, c);
    assert_false(space_point_equal(&sp.space, a, c));
}

static void test_tpe_constant_liar(void **state) {
    (void)state;
    static history h;
    int differs = 0;
    double closer = 0;
    for (int seed = 1; seed <= 20; seed++) {
        search_spec sp;
        search_spec_init(&sp);
        sp.seed = (uint64_t)seed;
        sp.lag = 0; // states as given
        space_ok(&sp.space, "lr=loguniform:1e-4:1");
        space_ok(&sp.space, "momentum=uniform:0:0.99");
        h.n = 0;
        for (int t = 0; t < 20; t++) {
            double x[SEARCH_MAX_PARAMS];
            suggest(&sp, &h, x);
            add_trial(&h, x, 2, TRIAL_COMPLETE, f2(x));
        }
        // What TPE proposes next, then the same with 3 trials running at
        // that point's neighbourhood (liars) or far away in the worst corner.
        double next[SEARCH_MAX_PARAMS], near[SEARCH_MAX_PARAMS], far[SEARCH_MAX_PARAMS];
        suggest(&sp, &h, next);
        history hn = h, hf = h;
        for (int i = 0; i < 3; i++) {
            double xn[2] = {next[0] * (1 + 0.01 * i), fmin(next[1] + 0.001 * i, 0.99)};
            double xf[2] = {1e-4 * (1 + 0.01 * i), 0.001 * i};
            add_trial(&hn, xn, 2, TRIAL_RUNNING, NAN);
            add_trial(&hf, xf, 2, TRIAL_RUNNING, NAN);
        }
        suggest(&sp, &hn, near);
        suggest(&sp, &hf, far);
        for (int i = 20; i < 23; i++) assert_false(space_point_equal(&sp.space, near, hn.t[i].x));
        differs += !space_point_equal(&sp.space, near, far);
        // the liars near `next` push the suggestion away from it
        double dn = fabs(log10(near[0]) - log10(next[0])) + fabs(near[1] - next[1]);
        double df = fabs(log10(far[0]) - log10(next[0])) + fabs(far[1] - next[1]);
        closer += dn - df;
    }
    assert_true(differs >= 10);
    assert_true(closer > 0);
    // A point equal to a running trial's is never proposed, even when TPE
    // would pick it: a one-parameter space of 12 values, 11 proposed.
    search_spec sp;
    search_spec_init(&sp);
    sp.lag = 0;
    space_ok(&sp.space, "epochs=int:1:12");
    h.n = 0;
    for (int t = 0; t < 11; t++) {
        double x[SEARCH_MAX_PARAMS];
        suggest(&sp, &h, x);
        add_trial(&h, x, 1, t == 10 ? TRIAL_RUNNING : TRIAL_COMPLETE, -fabs(x[0] - 3));
    }
    double x[SEARCH_MAX_PARAMS];
    assert_int_equal(suggest(&sp, &h, x), 0);
    for (int i = 0; i < h.n; i++) assert_true(x[0] != h.t[i].x[0]);
}

// ---------------------------------------------------------------- pruners

static search_trial curve_trial(double *curve, int n_epochs, trial_state st) {
    search_trial t;
    memset(&t, 0, sizeof t);
    t.curve = curve;
    t.n_epochs = n_epochs;
    t.state = st;
    return t;
}

static void test_asha_rungs_on_hand_built_curves(void **state) {
    (void)state;
    prune_cfg cfg;
    prune_defaults(&cfg, PRUNER_ASHA);
    cfg.max_epochs = 9; // grace 1, eta 3: rungs at epochs 1 and 3
    assert_int_equal(asha_rung(&cfg, 1), 0);
    assert_int_equal(asha_rung(&cfg, 2), -1);
    assert_int_equal(asha_rung(&cfg, 3), 1);
    assert_int_equal(asha_rung(&cfg, 9), -1);
    for (int sign = 1; sign >= -1; sign -= 2) {
        int maximize = sign > 0;
        // epoch 1 values; trials reach epoch 3 only if they continued
        const double e1[9] = {0.50, 0.40, 0.60, 0.30, 0.55, 0.70, 0.20, 0.65, 0.58};
        const double e3[9] = {0.62, 0, 0.66, 0, 0, 0.75, 0, 0.64, 0};
        double curves[18][9];
        search_trial t[18];
        // rung 1, trials in order: each sees the ones before it plus itself
        const int cont1[9] = {1, 0, 1, 0, 0, 1, 0, 1, 0};
        for (int i = 0; i < 9; i++) {
            for (int e = 0; e < 9; e++) // epochs 1, 2, then 3..9
                curves[i][e] = sign * (e == 0 ? e1[i] : e == 1 ? e1[i] + 0.01 : e3[i]);
            t[i] = curve_trial(curves[i], 1, TRIAL_RUNNING);
            prune_decision d = asha_decide(&cfg, maximize, t, i, i, 1);
            if ((d == PRUNE_CONTINUE) != cont1[i]) fail_msg("rung 1, trial %d: %s, expected %s", i,
                                                            d ? "prune" : "continue", cont1[i] ? "continue" : "prune");
            if (d == PRUNE_STOP) t[i].state = TRIAL_PRUNED;
        }
        // epoch 2 is no rung: whatever the value
        t[1].n_epochs = 2;
        assert_int_equal(asha_decide(&cfg, maximize, t, 1, 1, 2), PRUNE_CONTINUE);
        t[1].n_epochs = 1;
        // rung 3 among the survivors 0, 2, 5, 7
        const int survivors[4] = {0, 2, 5, 7}, cont3[4] = {1, 1, 1, 0};
        for (int k = 0; k < 4; k++) {
            int i = survivors[k];
            t[i].n_epochs = 3;
            prune_decision d = asha_decide(&cfg, maximize, t, i, i, 3);
            if ((d == PRUNE_CONTINUE) != cont3[k]) fail_msg("rung 3, trial %d: wrong decision", i);
            if (d == PRUNE_STOP) t[i].state = TRIAL_PRUNED;
            else t[i].n_epochs = 9, t[i].state = TRIAL_COMPLETE;
        }
        // the decision reads only the trials before n: against trials 0..4
        // (0.62, 0.66) trial 7 stops; against trial 0 alone it continues
        t[7].n_epochs = 3;
        assert_int_equal(asha_decide(&cfg, maximize, t, 5, 7, 3), PRUNE_STOP); // 0.66 of trial 2 beats it
        assert_int_equal(asha_decide(&cfg, maximize, t, 2, 7, 3), PRUNE_CONTINUE); // trial 0 alone: 0.62
        // no promotion yet: at rung 3 the top floor(4/3) = 1 is trial 5 (complete);
        // at rung 1 the top 3 are trials 5, 7, 2, none pruned there
        assert_int_equal(asha_promotable(&cfg, maximize, t, 9), -1);
        // nine more trials, all worse at rung 1: the top 6 of 18 now include
        // trials 8 (0.58) and 4 (0.55), pruned early: promoted, best first
        for (int i = 9; i < 18; i++) {
            curves[i][0] = sign * (0.05 + 0.01 * i);
            t[i] = curve_trial(curves[i], 1, TRIAL_PRUNED);
        }
        assert_int_equal(asha_promotable(&cfg, maximize, t, 18), 8);
        t[8].state = TRIAL_RUNNING, t[8].n_epochs = 2, curves[8][1] = sign * 0.6; // promoted, running on
        assert_int_equal(asha_promotable(&cfg, maximize, t, 18), 4);
        t[4].state = TRIAL_RUNNING, t[4].n_epochs = 2;
        assert_int_equal(asha_promotable(&cfg, maximize, t, 18), -1); // trial 0 (0.50) is next, but not pruned
        // a higher rung goes first: trial 8 reaches rung 3 and is pruned there,
        // then three more reach rung 3 below it: top floor(8/3) = 2 at rung 3
        t[8].n_epochs = 3, curves[8][2] = sign * 0.70, t[8].state = TRIAL_PRUNED;
        for (int i = 9; i < 12; i++) t[i].n_epochs = 3, curves[i][1] = 0, curves[i][2] = sign * 0.1;
        // rung 3: trials 0 (.62) 2 (.66) 5 (.75) 7 (.64) 8 (.70) 9-11 (.1): top 2 = 5, 8
        assert_int_equal(asha_promotable(&cfg, maximize, t, 18), 8);
        // a NaN (diverged) stops at a rung
        curves[9][0] = NAN;
        assert_int_equal(asha_decide(&cfg, maximize, t, 9, 9, 1), PRUNE_STOP);
    }
    // eta 2, grace 2, max 16: rungs 2, 4, 8
    prune_cfg c2 = cfg;
    c2.eta = 2, c2.grace = 2, c2.max_epochs = 16;
    assert_int_equal(asha_rung(&c2, 2), 0);
    assert_int_equal(asha_rung(&c2, 4), 1);
    assert_int_equal(asha_rung(&c2, 8), 2);
    assert_int_equal(asha_rung(&c2, 16), -1);
    assert_int_equal(asha_rung(&c2, 1), -1);
}

// The order rule's two waits, as the scheduler asks them.
static void test_order_rule_waits(void **state) {
    (void)state;
    search_spec sp;
    search_spec_init(&sp);
    sp.lag = 2;
    double c[6][4] = {{0}};
    search_trial t[6];
    for (int i = 0; i < 6; i++) t[i] = curve_trial(c[i], 0, TRIAL_RUNNING);
    // trial 2 may start with 0 and 1 running (lag 2), trial 3 waits for trial 0
    assert_true(search_can_suggest(&sp, t, 2));
    assert_false(search_can_suggest(&sp, t, 3));
    t[0].state = TRIAL_PRUNED, t[0].n_epochs = 1;
    assert_true(search_can_suggest(&sp, t, 3));
    assert_false(search_can_suggest(&sp, t, 4));
    t[1].state = TRIAL_COMPLETE, t[1].n_epochs = 4;
    assert_true(search_can_suggest(&sp, t, 4));
    // trial 3 at epoch 2: trial 0 stopped before it (settled), 1 reached it,
    // trial 2 is running at epoch 1: wait; at epoch 1 no wait
    t[2].n_epochs = 1;
    assert_false(prune_can_decide(t, 3, 2));
    assert_true(prune_can_decide(t, 3, 1));
    t[2].n_epochs = 2;
    assert_true(prune_can_decide(t, 3, 2));
    assert_true(prune_can_decide(t, 0, 5)); // trial 0 never waits
}

static void test_median_rule_on_hand_built_curves(void **state) {
    (void)state;
    prune_cfg cfg;
    prune_defaults(&cfg, PRUNER_MEDIAN);
    assert_int_equal(cfg.n_startup, 5);
    for (int sign = 1; sign >= -1; sign -= 2) {
        int maximize = sign > 0;
        // five earlier trials at epoch 2: 0.5 0.6 0.7 0.4 0.55 -> median 0.55
        double c[8][3] = {{0.1, 0.5}, {0.1, 0.6}, {0.1, 0.7}, {0.1, 0.4}, {0.1, 0.55, 0.9}};
        search_trial t[8];
        for (int i = 0; i < 5; i++) {
            for (int e = 0; e < 3; e++) c[i][e] *= sign;
            t[i] = curve_trial(c[i], i == 4 ? 3 : 2, i == 4 ? TRIAL_COMPLETE : TRIAL_PRUNED);
        }
        // its best so far (0.52 at epoch 1), not its last, is compared: worse than 0.55, stop
        c[5][0] = sign * 0.52, c[5][1] = sign * 0.50;
        t[5] = curve_trial(c[5], 2, TRIAL_RUNNING);
        assert_int_equal(median_decide(&cfg, maximize, t, 5, 5, 2), PRUNE_STOP);
        c[5][0] = sign * 0.56; // best 0.56 beats the median, though its last value does not
        assert_int_equal(median_decide(&cfg, maximize, t, 5, 5, 2), PRUNE_CONTINUE);
        c[5][0] = sign * 0.52;
        // fewer than n_startup trials before it: no pruning
        assert_int_equal(median_decide(&cfg, maximize, t, 4, 5, 2), PRUNE_CONTINUE);
        // n_startup 4: the four first, an even count: median (0.5 + 0.6) / 2 = 0.55
        prune_cfg c4 = cfg;
        c4.n_startup = 4;
        c[5][0] = sign * 0.549;
        assert_int_equal(median_decide(&c4, maximize, t, 4, 5, 2), PRUNE_STOP);
        c[5][0] = sign * 0.551;
        assert_int_equal(median_decide(&c4, maximize, t, 4, 5, 2), PRUNE_CONTINUE);
        // warm-up: epochs <= n_warmup never prune
        c[5][0] = sign * 0.1;
        prune_cfg cw = cfg;
        cw.n_warmup = 2;
        assert_int_equal(median_decide(&cw, maximize, t, 5, 5, 2), PRUNE_CONTINUE);
        assert_int_equal(median_decide(&cfg, maximize, t, 5, 5, 2), PRUNE_STOP);
        // at epoch 3 only trial 4 reached it: fewer than 5, no pruning
        c[5][2] = sign * 0.1;
        t[5].n_epochs = 3;
        assert_int_equal(median_decide(&cfg, maximize, t, 5, 5, 3), PRUNE_CONTINUE);
        // all-NaN own values stop; prune_decide dispatches
        c[6][0] = NAN, c[6][1] = NAN;
        t[6] = curve_trial(c[6], 2, TRIAL_RUNNING);
        assert_int_equal(prune_decide(&cfg, maximize, t, 6, 6, 2), PRUNE_STOP);
        prune_cfg none;
        prune_defaults(&none, PRUNER_NONE);
        assert_int_equal(prune_decide(&none, maximize, t, 6, 6, 2), PRUNE_CONTINUE);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_space_every_kind_and_round_trip),
        cmocka_unit_test(test_space_errors),
        cmocka_unit_test(test_space_apply_and_format),
        cmocka_unit_test(test_spec_flags),
        cmocka_unit_test(test_study_file_search_section),
        cmocka_unit_test(test_tpe_parzen_matches_optuna),
        cmocka_unit_test(test_tpe_gamma_and_weights),
        cmocka_unit_test(test_tpe_beats_random),
        cmocka_unit_test(test_no_duplicates_until_exhausted),
        cmocka_unit_test(test_random_and_grid),
        cmocka_unit_test(test_tpe_deterministic_whatever_the_finish_order),
        cmocka_unit_test(test_tpe_constant_liar),
        cmocka_unit_test(test_asha_rungs_on_hand_built_curves),
        cmocka_unit_test(test_median_rule_on_hand_built_curves),
        cmocka_unit_test(test_order_rule_waits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
