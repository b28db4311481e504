// test_optim.c: the schedules and optimisers against PyTorch 1.13
// (tests/data/torch_optim.bin, written by tools/torch_reference_optim.py):
// every schedule's rate per step to 1e-9 relative, one-cycle's momentum too,
// five steps of each optimiser to 1e-5; the plateau state machine on
// hand-built metric series; the refusals of bad knobs; and end-to-end runs of
// each optimiser and of the schedules on small generated data, which must learn.
#include "test_util.h"
#include "train_data.h"

#include "../src/report/report_parts.h"
#include "../src/train/optim.h"
#include "../src/train/schedule.h"
#include "../src/train/train.h"
#include "../src/util/rng.h"

// ---------------------------------------------------------------- reference file

// Records of: u32 name length, name, u32 ndim, u32 dims, f64 data (after the
// magic "LROPTREF" and a u32 version).
typedef struct {
    char name[64];
    int dims[4], ndim;
    size_t n;
    double *data;
} ref64;

static struct {
    int count;
    ref64 t[256];
} REF;

static int ref_load(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    char magic[8];
    uint32_t version, len, nd, d;
    if (fread(magic, 1, 8, f) != 8 || memcmp(magic, "LROPTREF", 8) != 0 || fread(&version, 4, 1, f) != 1 ||
        version != 1)
        goto bad;
    while (fread(&len, 4, 1, f) == 1) {
        if (REF.count == 256 || len >= 64) goto bad;
        ref64 *t = &REF.t[REF.count];
        if (fread(t->name, 1, len, f) != len || fread(&nd, 4, 1, f) != 1 || nd < 1 || nd > 4) goto bad;
        t->ndim = (int)nd;
        t->n = 1;
        for (uint32_t i = 0; i < nd; i++) {
            if (fread(&d, 4, 1, f) != 1) goto bad;
            t->dims[i] = (int)d;
            t->n *= d;
        }
        t->data = malloc(t->n * sizeof(double));
        if (!t->data || fread(t->data, sizeof(double), t->n, f) != t->n) goto bad;
        REF.count++;
    }
    fclose(f);
    return REF.count > 0 ? 0 : -1;
bad:
    fclose(f);
    return -1;
}

static const ref64 *need(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const ref64 *need(const char *fmt, ...) {
    char name[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    for (int i = 0; i < REF.count; i++)
        if (strcmp(REF.t[i].name, name) == 0) return &REF.t[i];
    fail_msg("reference %s missing from tests/data/torch_optim.bin", name);
    return NULL;
}

static int setup(void **state) {
    (void)state;
    return ref_load("tests/data/torch_optim.bin");
}

static int teardown(void **state) {
    (void)state;
    for (int i = 0; i < REF.count; i++) free(REF.t[i].data);
    return 0;
}

static void assert_rel(double got, double want, double rtol, const char *what, long i) {
    if (!(fabs(got - want) <= rtol * fabs(want)))
        fail_msg("%s, step %ld: got %.17g, PyTorch %.17g (rel diff %.3g)", what, i, got, want,
                 fabs(got - want) / fabs(want));
}

// ---------------------------------------------------------------- schedules

typedef struct {
    const char *name;
    int epochs, batches;
    double lr;
    void (*set)(run_config *c);
} sched_case;

static void set_step_7(run_config *c) { strcpy(c->schedule, "step"); c->step_size = 7; c->gamma = 0.9; }
static void set_step_30(run_config *c) { strcpy(c->schedule, "step"); c->step_size = 30; c->gamma = 0.1; }
static void set_multistep(run_config *c) {
    strcpy(c->schedule, "multistep");
    int m[] = {30, 80, 81, 200};
    memcpy(c->milestones.v, m, sizeof m);
    c->milestones.n = 4;
    c->gamma = 0.3;
}
static void set_exponential(run_config *c) { strcpy(c->schedule, "exponential"); c->gamma = 0.98; }
static void set_cosine_default(run_config *c) { strcpy(c->schedule, "cosine"); } // t_max: the run's epochs
static void set_cosine_periodic(run_config *c) { strcpy(c->schedule, "cosine"); c->t_max = 100; c->eta_min = 0.001; }
static void set_cosine_short(run_config *c) { strcpy(c->schedule, "cosine"); c->t_max = 7; c->eta_min = 0.01; }
static void set_restarts(run_config *c, int t0, int mult, double eta) {
    strcpy(c->schedule, "cosine-restarts");
    c->t_0 = t0;
    c->t_mult = mult;
    c->eta_min = eta;
}
static void set_restarts_mult2(run_config *c) { set_restarts(c, 10, 2, 1e-4); }
static void set_restarts_mult1(run_config *c) { set_restarts(c, 5, 1, 0.0); }
static void set_restarts_mult3(run_config *c) { set_restarts(c, 2, 3, 0.001); }
static void set_onecycle_cos(run_config *c) { strcpy(c->schedule, "onecycle"); } // max_lr: the run's lr
static void set_onecycle_linear(run_config *c) {
    strcpy(c->schedule, "onecycle");
    c->max_lr = 0.5;
    c->pct_start = 0.25;
    strcpy(c->anneal, "linear");
    c->div_factor = 10;
    c->final_div_factor = 100;
    c->base_momentum = 0.8;
    c->max_momentum = 0.9;
}
static void set_onecycle_three(run_config *c) { strcpy(c->schedule, "onecycle"); c->max_lr = 0.1; c->three_phase = 1; }
static void set_onecycle_three_linear_adam(run_config *c) {
    strcpy(c->schedule, "onecycle");
    strcpy(c->optimizer, "adam");
    c->max_lr = 0.003;
    c->pct_start = 0.2;
    c->three_phase = 1;
    strcpy(c->anneal, "linear");
}
static void set_warmup_cosine(run_config *c) {
    strcpy(c->schedule, "cosine"); // t_max: the 315 epochs after the warm-up
    c->warmup_epochs = 5;
    c->warmup_start_factor = 0.1;
}
static void set_warmup_step(run_config *c) {
    set_step_7(c);
    c->step_size = 10;
    c->gamma = 0.5;
    c->warmup_epochs = 3;
    c->warmup_start_factor = 0.25;
}
static void set_warmup_steps_step(run_config *c) {
    strcpy(c->schedule, "step");
    c->step_size = 4;
    c->gamma = 0.7;
    c->warmup_steps = 25;
    c->warmup_start_factor = 0.01;
}
static void set_warmup_steps_restarts(run_config *c) {
    set_restarts(c, 3, 2, 0.0);
    c->warmup_steps = 30;
    c->warmup_start_factor = 0.2;
}
static void set_plateau(run_config *c, const char *mode, double factor, int patience, double threshold,
                        const char *tmode, int cooldown, double min_lr, double eps) {
    strcpy(c->schedule, "plateau");
    strcpy(c->plateau_mode, mode);
    strcpy(c->plateau_metric, strcmp(mode, "max") == 0 ? "test_acc" : "test_loss");
    c->plateau_factor = factor;
    c->plateau_patience = patience;
    c->plateau_threshold = threshold;
    strcpy(c->plateau_threshold_mode, tmode);
    c->plateau_cooldown = cooldown;
    c->plateau_min_lr = min_lr;
    c->plateau_eps = eps;
}
static void set_plateau_min_rel(run_config *c) { set_plateau(c, "min", 0.5, 3, 1e-2, "rel", 2, 1e-4, 1e-8); }
static void set_plateau_min_abs(run_config *c) { set_plateau(c, "min", 0.3, 5, 0.01, "abs", 0, 0, 1e-8); }
static void set_plateau_max_rel(run_config *c) { set_plateau(c, "max", 0.5, 2, 1e-3, "rel", 1, 0.003, 1e-8); }
static void set_plateau_max_abs(run_config *c) { set_plateau(c, "max", 0.7, 4, 0.005, "abs", 0, 0.01, 1e-3); }
static void set_plateau_defaults(run_config *c) { strcpy(c->schedule, "plateau"); }
static void set_warmup_plateau(run_config *c) {
    set_plateau(c, "min", 0.5, 2, 1e-4, "rel", 0, 0, 1e-8);
    c->warmup_epochs = 4;
    c->warmup_start_factor = 0.5;
}

static const sched_case SCHED_CASES[] = {
    {"step_7", 320, 1, 0.1, set_step_7},
    {"step_30", 320, 2, 0.5, set_step_30},
    {"multistep", 320, 1, 0.2, set_multistep},
    {"exponential", 320, 1, 0.1, set_exponential},
    {"cosine_default", 320, 1, 0.1, set_cosine_default},
    {"cosine_periodic", 330, 1, 0.05, set_cosine_periodic},
    {"cosine_short", 320, 1, 0.3, set_cosine_short},
    {"restarts_mult2", 50, 7, 0.1, set_restarts_mult2},
    {"restarts_mult1", 30, 13, 0.1, set_restarts_mult1},
    {"restarts_mult3", 64, 5, 0.2, set_restarts_mult3},
    {"onecycle_cos", 32, 10, 0.1, set_onecycle_cos},
    {"onecycle_linear", 20, 16, 0.01, set_onecycle_linear},
    {"onecycle_three", 30, 11, 0.01, set_onecycle_three},
    {"onecycle_three_linear_adam", 40, 8, 0.01, set_onecycle_three_linear_adam},
    {"warmup_cosine", 320, 1, 0.1, set_warmup_cosine},
    {"warmup_step", 320, 1, 0.1, set_warmup_step},
    {"warmup_steps_step", 32, 10, 0.1, set_warmup_steps_step},
    {"warmup_steps_restarts", 40, 9, 0.1, set_warmup_steps_restarts},
    {"plateau_min_rel", 320, 1, 0.1, set_plateau_min_rel},
    {"plateau_min_abs", 320, 1, 0.1, set_plateau_min_abs},
    {"plateau_max_rel", 320, 1, 0.1, set_plateau_max_rel},
    {"plateau_max_abs", 320, 1, 0.1, set_plateau_max_abs},
    {"plateau_defaults", 320, 1, 0.1, set_plateau_defaults},
    {"warmup_plateau", 320, 1, 0.1, set_warmup_plateau},
};
enum { N_SCHED_CASES = sizeof SCHED_CASES / sizeof SCHED_CASES[0] };

static run_config case_config(const sched_case *k) {
    run_config c;
    config_defaults(&c);
    c.epochs = k->epochs;
    c.lr = k->lr;
    k->set(&c);
    return c;
}

static void test_schedules_match_torch(void **state) {
    (void)state;
    for (int ci = 0; ci < N_SCHED_CASES; ci++) {
        const sched_case *k = &SCHED_CASES[ci];
        run_config c = case_config(k);
        schedule s;
        lr_err e;
        if (schedule_init(&s, &c, k->batches, &e) != 0) fail_msg("%s: %s", k->name, e.msg);
        const ref64 *want = need("%s.lr", k->name);
        const ref64 *mom = strncmp(k->name, "onecycle", 8) == 0 ? need("%s.momentum", k->name) : NULL;
        const ref64 *metric = s.kind == SCHED_PLATEAU ? need("%s.metric", k->name) : NULL;
        assert_int_equal((long)want->n, s.total_steps);
        int changes = 0;
        for (long step = 0; step < (long)want->n; step++) {
            schedule_point p;
            if (schedule_at(&s, step, &p, &e) != 0) fail_msg("%s: %s", k->name, e.msg);
            assert_rel(p.lr, want->data[step], 1e-9, k->name, step);
            if (step > 0 && want->data[step] != want->data[step - 1]) changes++;
            assert_int_equal(p.has_momentum, mom != NULL);
            if (mom) assert_rel(p.momentum, mom->data[step], 1e-9, k->name, step);
            int epoch = (int)(step / k->batches);
            if (metric && step % k->batches == k->batches - 1 && schedule_feeds_plateau(&s, epoch))
                schedule_plateau_step(&s, metric->data[epoch]);
        }
        // the reference is not a constant that anything would match
        if (changes < 3) fail_msg("%s: the reference rate changes only %d times", k->name, changes);
    }
}

static void test_onecycle_stops_at_its_end(void **state) {
    (void)state;
    run_config c;
    config_defaults(&c);
    strcpy(c.schedule, "onecycle");
    c.epochs = 4;
    schedule s;
    schedule_point p;
    lr_err e;
    assert_int_equal(schedule_init(&s, &c, 10, &e), 0);
    // PyTorch computes the rate after the last batch (step 40), then raises
    assert_int_equal(schedule_at(&s, 39, &p, &e), 0);
    assert_true(fabs(p.lr - c.lr / 25 / 1e4) < 1e-12 * c.lr); // the final rate, initial / final_div_factor
    assert_int_equal(schedule_at(&s, 40, &p, &e), 0);
    assert_int_equal(schedule_at(&s, 41, &p, &e), -1);
    assert_non_null(strstr(e.msg, "onecycle"));
    assert_non_null(strstr(e.msg, "42 times"));
    assert_non_null(strstr(e.msg, "40 steps"));
    // the peak is max_lr, at pct_start of the run, with the base momentum
    assert_int_equal(schedule_at(&s, 11, &p, &e), 0); // 0.3 * 40 - 1
    assert_true(fabs(p.lr - c.lr) < 1e-15);
    assert_true(fabs(p.momentum - 0.85) < 1e-15);
    // and max_lr, when set, replaces the run's lr
    c.max_lr = 0.7;
    assert_int_equal(schedule_init(&s, &c, 10, &e), 0);
    assert_int_equal(schedule_at(&s, 0, &p, &e), 0);
    assert_true(fabs(p.lr - 0.7 / 25) < 1e-15);
    assert_true(fabs(p.momentum - 0.95) < 1e-15);
}

// The rates of a pure schedule's replay are those schedule_at gives.
static void test_replay_for_the_figure(void **state) {
    (void)state;
    run_config c;
    config_defaults(&c);
    c.epochs = 6;
    strcpy(c.schedule, "cosine-restarts");
    c.t_0 = 2;
    c.warmup_steps = 5;
    double out[6 * 7];
    lr_err e;
    assert_int_equal(schedule_replay(&c, 7, NULL, out, 42, &e), 0);
    schedule s;
    assert_int_equal(schedule_init(&s, &c, 7, &e), 0);
    for (long i = 0; i < 42; i++) {
        schedule_point p;
        assert_int_equal(schedule_at(&s, i, &p, &e), 0);
        assert_true(out[i] == p.lr);
    }
    assert_true(out[1] > out[0] && out[4] > out[3]); // the warm-up rises
    assert_true(out[5] == c.lr);                     // then the restarts begin at the base rate
    assert_true(out[6] < out[5]);                    // and anneal per batch
    // plateau takes the epochs' recorded rates after the warm-up
    strcpy(c.schedule, "plateau");
    c.warmup_steps = 0;
    c.warmup_epochs = 1;
    double ep_lr[6] = {0.003, 0.01, 0.01, 0.001, 0.001, 0.0001};
    assert_int_equal(schedule_replay(&c, 7, ep_lr, out, 42, &e), 0);
    assert_true(fabs(out[0] - c.lr / 3) < 1e-15 && out[6] < c.lr); // warm-up from the default start factor 1/3
    for (int i = 7; i < 42; i++) assert_true(out[i] == ep_lr[i / 7]);
}

// ---------------------------------------------------------------- plateau, by hand

static plateau_state hand_plateau(int mode_max, int abs_mode, double threshold, int patience, int cooldown,
                                  double factor, double min_lr, double eps, double lr) {
    run_config c;
    config_defaults(&c);
    c.lr = lr;
    set_plateau(&c, mode_max ? "max" : "min", factor, patience, threshold, abs_mode ? "abs" : "rel",
                cooldown, min_lr, eps);
    schedule s;
    lr_err e;
    assert_int_equal(schedule_init(&s, &c, 1, &e), 0);
    return s.plateau;
}

// Feeds the series; returns the rates after each feed in lrs.
static void feed(plateau_state *p, const double *metric, int n, double *lrs) {
    for (int i = 0; i < n; i++) {
        plateau_step(p, metric[i]);
        lrs[i] = p->lr;
    }
}

static void test_plateau_patience_and_cooldown(void **state) {
    (void)state;
    double flat[12] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, lrs[12];
    // patience 2: the 4th equal value (3 bad epochs > 2) cuts; nothing before
    plateau_state p = hand_plateau(0, 0, 0.0, 2, 0, 0.5, 0, 1e-8, 0.1);
    feed(&p, flat, 12, lrs);
    double want[12] = {0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125, 0.0125, 0.0125};
    for (int i = 0; i < 12; i++) assert_true(fabs(lrs[i] - want[i]) < 1e-15);
    // cooldown 2: two more epochs ignored after each cut
    p = hand_plateau(0, 0, 0.0, 2, 2, 0.5, 0, 1e-8, 0.1);
    feed(&p, flat, 12, lrs);
    double want_cd[12] = {0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.025};
    for (int i = 0; i < 12; i++)
        if (fabs(lrs[i] - want_cd[i]) > 1e-15) fail_msg("cooldown: epoch %d: %g, expected %g", i, lrs[i], want_cd[i]);
    assert_int_equal(p.cooldown_counter, 0); // cut after epoch 9 (index 8), two epochs ignored
    assert_int_equal(p.num_bad_epochs, 1);
    // an improving series never cuts
    double down[6] = {5, 4, 3, 2, 1, 0.5};
    p = hand_plateau(0, 0, 1e-4, 0, 0, 0.5, 0, 1e-8, 0.1);
    feed(&p, down, 6, lrs);
    assert_true(lrs[5] == 0.1 && p.best == 0.5 && p.num_bad_epochs == 0);
    // a NaN metric is never an improvement
    double nan_series[2] = {1.0, NAN};
    p = hand_plateau(0, 0, 1e-4, 0, 0, 0.5, 0, 1e-8, 0.1);
    feed(&p, nan_series, 2, lrs);
    assert_true(lrs[1] == 0.05);
}

static void test_plateau_threshold_modes(void **state) {
    (void)state;
    double lrs[3];
    // from best 10: rel 0.1 needs < 9, abs 0.1 needs < 9.9; 9.5 is better only in abs
    double s1[2] = {10, 9.5};
    plateau_state rel = hand_plateau(0, 0, 0.1, 0, 0, 0.5, 0, 1e-8, 0.1);
    plateau_state abs_ = hand_plateau(0, 1, 0.1, 0, 0, 0.5, 0, 1e-8, 0.1);
    feed(&rel, s1, 2, lrs);
    assert_true(rel.best == 10 && lrs[1] == 0.05);
    feed(&abs_, s1, 2, lrs);
    assert_true(abs_.best == 9.5 && lrs[1] == 0.1);
    // max mode: from 0.5, rel 0.1 needs > 0.55, abs 0.1 needs > 0.6; 0.58 is better only in rel
    double s2[2] = {0.5, 0.58};
    rel = hand_plateau(1, 0, 0.1, 0, 0, 0.5, 0, 1e-8, 0.1);
    abs_ = hand_plateau(1, 1, 0.1, 0, 0, 0.5, 0, 1e-8, 0.1);
    feed(&rel, s2, 2, lrs);
    assert_true(rel.best == 0.58 && lrs[1] == 0.1);
    feed(&abs_, s2, 2, lrs);
    assert_true(abs_.best == 0.5 && lrs[1] == 0.05);
    // max mode cuts on a falling accuracy, min mode would not
    double s3[3] = {0.5, 0.4, 0.3};
    rel = hand_plateau(1, 0, 1e-4, 1, 0, 0.5, 0, 1e-8, 0.1);
    feed(&rel, s3, 3, lrs);
    assert_true(lrs[2] == 0.05);
}

static void test_plateau_min_lr_and_eps(void **state) {
    (void)state;
    double flat[6] = {1, 1, 1, 1, 1, 1}, lrs[6];
    // factor 0.1 from 0.1 floors at min_lr 0.03, then stays
    plateau_state p = hand_plateau(0, 0, 1e-4, 0, 0, 0.1, 0.03, 1e-8, 0.1);
    feed(&p, flat, 6, lrs);
    assert_true(lrs[0] == 0.1 && lrs[1] == 0.03 && lrs[5] == 0.03);
    // a cut smaller than eps is skipped: 1e-7 * 0.5 leaves 5e-8 < eps 1e-7
    p = hand_plateau(0, 0, 1e-4, 0, 0, 0.5, 0, 1e-7, 1e-7);
    feed(&p, flat, 6, lrs);
    assert_true(lrs[5] == 1e-7);
    // with eps 1e-9 it is taken
    p = hand_plateau(0, 0, 1e-4, 0, 0, 0.5, 0, 1e-9, 1e-7);
    feed(&p, flat, 2, lrs);
    assert_true(lrs[1] == 0.5e-7);
}

// A schedule is a value: a copy taken mid-run continues exactly as the original.
static void test_schedule_state_is_a_value(void **state) {
    (void)state;
    run_config c;
    config_defaults(&c);
    set_plateau(&c, "min", 0.5, 1, 1e-4, "rel", 1, 0, 1e-8);
    schedule s, saved;
    lr_err e;
    assert_int_equal(schedule_init(&s, &c, 3, &e), 0);
    double series[10] = {3, 2, 2, 2, 1.5, 1.5, 1.5, 1.5, 1, 1};
    for (int i = 0; i < 5; i++) schedule_plateau_step(&s, series[i]);
    memcpy(&saved, &s, sizeof s);
    for (int i = 5; i < 10; i++) {
        schedule_plateau_step(&s, series[i]);
        schedule_plateau_step(&saved, series[i]);
        assert_memory_equal(&s, &saved, sizeof s);
    }
    assert_true(s.plateau.lr < c.lr); // the series did cut
}

// ---------------------------------------------------------------- optimisers

typedef struct {
    const char *name;
    const char *optimizer;
    double momentum, dampening, weight_decay, beta1, beta2, eps;
    int nesterov, amsgrad, cycled;
} optim_case;

static const optim_case OPT_CASES[] = {
    {"sgd_plain", "sgd", 0.0, 0, 0, 0.9, 0.999, 1e-8, 0, 0, 0},
    {"sgd_plain_wd", "sgd", 0.0, 0, 0.05, 0.9, 0.999, 1e-8, 0, 0, 0},
    {"sgd_momentum", "sgd", 0.9, 0, 0, 0.9, 0.999, 1e-8, 0, 0, 0},
    {"sgd_dampening", "sgd", 0.9, 0.3, 0, 0.9, 0.999, 1e-8, 0, 0, 0},
    {"sgd_nesterov", "sgd", 0.9, 0, 0, 0.9, 0.999, 1e-8, 1, 0, 0},
    {"sgd_weight_decay", "sgd", 0.9, 0, 0.01, 0.9, 0.999, 1e-8, 0, 0, 0},
    {"sgd_nesterov_wd", "sgd", 0.8, 0, 0.005, 0.9, 0.999, 1e-8, 1, 0, 0},
    {"sgd_cycled", "sgd", 0.9, 0, 0, 0.9, 0.999, 1e-8, 0, 0, 1},
    {"adam", "adam", 0.9, 0, 0, 0.9, 0.999, 1e-8, 0, 0, 0},
    {"adam_wd", "adam", 0.9, 0, 0.01, 0.9, 0.999, 1e-8, 0, 0, 0},
    {"adam_amsgrad", "adam", 0.9, 0, 0, 0.9, 0.999, 1e-8, 0, 1, 0},
    {"adam_amsgrad_wd", "adam", 0.9, 0, 0.02, 0.9, 0.999, 1e-8, 0, 1, 0},
    {"adam_betas_eps", "adam", 0.9, 0, 0, 0.8, 0.99, 1e-6, 0, 0, 0},
    {"adamw", "adamw", 0.9, 0, 0.01, 0.9, 0.999, 1e-8, 0, 0, 0},
    {"adamw_amsgrad", "adamw", 0.9, 0, 0.1, 0.9, 0.999, 1e-8, 0, 1, 0},
    {"adamw_cycled", "adamw", 0.9, 0, 0.05, 0.9, 0.999, 1e-8, 0, 0, 1},
};
enum { N_OPT_CASES = sizeof OPT_CASES / sizeof OPT_CASES[0] };
static const double CYCLED[5] = {0.95, 0.9, 0.85, 0.9, 0.95};

static void test_optimisers_match_torch(void **state) {
    (void)state;
    const ref64 *p0 = need("opt.p0"), *grads = need("opt.grads");
    const size_t n = p0->n;
    float params[64], g[64];
    assert_true(n <= 64 && grads->n == 5 * n);
    for (int ci = 0; ci < N_OPT_CASES; ci++) {
        const optim_case *k = &OPT_CASES[ci];
        run_config c;
        config_defaults(&c);
        snprintf(c.optimizer, sizeof c.optimizer, "%s", k->optimizer);
        c.momentum = k->momentum;
        c.dampening = k->dampening;
        c.weight_decay = k->weight_decay;
        c.nesterov = k->nesterov;
        c.beta1 = k->beta1;
        c.beta2 = k->beta2;
        c.eps = k->eps;
        c.amsgrad = k->amsgrad;
        lr_err e;
        assert_int_equal(config_check_optim(&c, 10, &e), 0);
        const ref64 *lrs = need("opt.lrs.%s", strcmp(k->optimizer, "sgd") == 0 ? "sgd" : "adam");
        const ref64 *want = need("opt.%s", k->name);
        optim_state o;
        assert_int_equal(optim_init(&o, &c, n, &e), 0);
        for (size_t i = 0; i < n; i++) params[i] = (float)p0->data[i];
        for (int s = 0; s < 5; s++) {
            for (size_t i = 0; i < n; i++) g[i] = (float)grads->data[(size_t)s * n + i];
            schedule_point pt = {.lr = lrs->data[s], .has_momentum = k->cycled,
                                 .momentum = k->cycled ? CYCLED[s] : 0};
            optim_hyper h = optim_hyper_from(&c, &pt);
            // two slices, as two threads would take them
            optim_update(&o, &h, params, g, 0, 17);
            optim_update(&o, &h, params, g, 17, n);
            optim_step_done(&o);
            for (size_t i = 0; i < n; i++) {
                double w = want->data[(size_t)s * n + i];
                if (!(fabs(params[i] - w) <= 1e-5 * fabs(w) + 1e-7))
                    fail_msg("%s step %d: parameter %zu is %.9g, PyTorch %.9g", k->name, s + 1, i,
                             (double)params[i], w);
            }
        }
        assert_int_equal(o.steps, 5);
        optim_free(&o);
    }
}

// The state lives in one allocation of 1 (SGD), 2 (Adam) or 3 (amsgrad)
// floats per parameter, and copying it mid-way continues identically.
static void test_optim_state_is_one_block(void **state) {
    (void)state;
    run_config c;
    config_defaults(&c);
    strcpy(c.optimizer, "adamw");
    c.amsgrad = 1;
    c.weight_decay = 0.01;
    assert_int_equal(optim_state_floats(&c), 3);
    lr_err e;
    optim_state a, b;
    enum { N = 9 };
    assert_int_equal(optim_init(&a, &c, N, &e), 0);
    assert_true(a.exp_avg == a.mem && a.exp_avg_sq == a.mem + N && a.max_exp_avg_sq == a.mem + 2 * N);
    float pa[N], pb[N], g[N];
    for (int i = 0; i < N; i++) pa[i] = 0.1f * (float)(i - 4);
    optim_hyper h = optim_hyper_from(&c, NULL);
    for (int s = 0; s < 3; s++) {
        for (int i = 0; i < N; i++) g[i] = (float)((i * 7 + s * 3) % 5) - 2.0f;
        optim_update(&a, &h, pa, g, 0, N);
        optim_step_done(&a);
    }
    // save: the struct and its one block; restore into another
    assert_int_equal(optim_init(&b, &c, N, &e), 0);
    float *mem = b.mem;
    b = a;
    b.mem = mem;
    b.exp_avg = mem;
    b.exp_avg_sq = mem + N;
    b.max_exp_avg_sq = mem + 2 * N;
    memcpy(b.mem, a.mem, 3 * N * sizeof(float));
    memcpy(pb, pa, sizeof pa);
    for (int s = 3; s < 6; s++) {
        for (int i = 0; i < N; i++) g[i] = (float)((i * 5 + s) % 7) - 3.0f;
        optim_update(&a, &h, pa, g, 0, N);
        optim_update(&b, &h, pb, g, 0, N);
        optim_step_done(&a);
        optim_step_done(&b);
    }
    assert_memory_equal(pa, pb, sizeof pa);
    assert_int_equal(b.steps, 6);
    optim_free(&a);
    optim_free(&b);
    strcpy(c.optimizer, "sgd");
    assert_int_equal(optim_state_floats(&c), 1);
    strcpy(c.optimizer, "adam");
    c.amsgrad = 0;
    assert_int_equal(optim_state_floats(&c), 2);
    strcpy(c.optimizer, "rmsprop");
    assert_int_equal(optim_init(&a, &c, N, &e), -1);
    assert_non_null(strstr(e.msg, "rmsprop"));
}

// ---------------------------------------------------------------- refusals

typedef struct {
    void (*set)(run_config *c);
    const char *expect[3]; // substrings of the message
} refusal;

static void bad_schedule(run_config *c) { strcpy(c->schedule, "cosin"); }
static void bad_optimizer(run_config *c) { strcpy(c->optimizer, "adamx"); }
static void bad_gamma(run_config *c) { c->gamma = -0.5; }
static void bad_pct_high(run_config *c) { strcpy(c->schedule, "onecycle"); c->pct_start = 1.5; }
static void bad_pct_zero(run_config *c) { c->pct_start = 0; }
static void bad_t_max(run_config *c) { strcpy(c->schedule, "cosine"); c->t_max = 0; }
static void bad_milestones(run_config *c) {
    strcpy(c->schedule, "multistep");
    c->milestones.v[0] = 5;
    c->milestones.v[1] = 3;
    c->milestones.n = 2;
}
static void bad_no_milestones(run_config *c) { strcpy(c->schedule, "multistep"); }
static void bad_onecycle_short(run_config *c) { strcpy(c->schedule, "onecycle"); c->epochs = 2; } // 2 x 1 steps
static void bad_three_phase(run_config *c) {
    strcpy(c->schedule, "onecycle");
    c->three_phase = 1;
    c->pct_start = 0.6;
    c->epochs = 40;
}
static void bad_warmup_long(run_config *c) { c->warmup_epochs = 4; } // the run has 4 epochs
static void bad_warmup_steps(run_config *c) { c->warmup_steps = 5; }  // 4 x 1 steps
static void bad_warmup_both(run_config *c) { c->warmup_epochs = 1; c->warmup_steps = 1; }
static void bad_warmup_onecycle(run_config *c) { strcpy(c->schedule, "onecycle"); c->epochs = 40; c->warmup_steps = 2; }
static void bad_warmup_factor(run_config *c) { c->warmup_start_factor = 0; }
static void bad_nesterov(run_config *c) { c->nesterov = 1; c->momentum = 0; }
static void bad_plateau_mode(run_config *c) { strcpy(c->schedule, "plateau"); strcpy(c->plateau_metric, "test_acc"); }
static void bad_anneal(run_config *c) { strcpy(c->anneal, "cosine"); }
static void bad_t_mult(run_config *c) { c->t_mult = 0; }
static void bad_beta2(run_config *c) { c->beta2 = 1.0; }
static void bad_factor(run_config *c) { c->plateau_factor = 1.0; }
static void bad_momenta(run_config *c) { c->base_momentum = 0.97; }

static void test_bad_knobs_are_refused(void **state) {
    (void)state;
    const refusal cases[] = {
        {bad_schedule, {"schedule", "cosin", "onecycle"}},
        {bad_optimizer, {"optimizer", "adamx", "adamw"}},
        {bad_gamma, {"gamma", "-0.5"}},
        {bad_pct_high, {"pct_start", "1.5", "(0, 1)"}},
        {bad_pct_zero, {"pct_start", " 0 "}},
        {bad_t_max, {"t_max", " 0 "}},
        {bad_milestones, {"milestones", "increasing", "3 comes after 5"}},
        {bad_no_milestones, {"milestones", "at least one"}},
        {bad_onecycle_short, {"one-cycle", "2 steps", "pct_start 0.3"}},
        {bad_three_phase, {"one-cycle", "three_phase", "final"}},
        {bad_warmup_long, {"warm-up", "4 steps", "warmup_epochs 4"}},
        {bad_warmup_steps, {"warm-up", "warmup_steps 5", "4 steps"}},
        {bad_warmup_both, {"warmup_epochs 1", "warmup_steps 1"}},
        {bad_warmup_onecycle, {"onecycle", "warmup"}},
        {bad_warmup_factor, {"warmup_start_factor", "(0, 1]"}},
        {bad_nesterov, {"nesterov", "momentum 0"}},
        {bad_plateau_mode, {"plateau_mode min", "plateau_metric test_acc", "max"}},
        {bad_anneal, {"anneal", "cosine", "linear"}},
        {bad_t_mult, {"t_mult", " 0 "}},
        {bad_beta2, {"beta2", " 1 "}},
        {bad_factor, {"plateau_factor", " 1 "}},
        {bad_momenta, {"base_momentum 0.97", "max_momentum 0.95"}},
    };
    run_config ok;
    config_defaults(&ok);
    ok.epochs = 4;
    lr_err e;
    assert_int_equal(config_check_optim(&ok, 1, &e), 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_config c = ok;
        cases[i].set(&c);
        e.msg[0] = '\0';
        if (config_check_optim(&c, 1, &e) != -1) fail_msg("case %zu was accepted", i);
        for (int j = 0; j < 3 && cases[i].expect[j]; j++)
            if (!strstr(e.msg, cases[i].expect[j]))
                fail_msg("case %zu: message '%s' lacks '%s'", i, e.msg, cases[i].expect[j]);
    }
    // the same knobs accepted where they fit: a one-cycle run long enough,
    // a warm-up one step shorter than the run
    run_config c = ok;
    strcpy(c.schedule, "onecycle");
    c.epochs = 4;
    assert_int_equal(config_check_optim(&c, 3, &e), 0); // 0.3 * 12 - 1 > 0
    c = ok;
    c.warmup_steps = 3;
    assert_int_equal(config_check_optim(&c, 1, &e), 0);
}

// ---------------------------------------------------------------- end to end

// As test_train.c: images whose class sets a colour and a square.

typedef struct {
    const char *what;
    void (*set)(run_config *c);
} e2e_case;

static void e2e_sgd_nesterov_wd(run_config *c) { c->nesterov = 1; c->weight_decay = 5e-4; }
static void e2e_sgd_dampening(run_config *c) {
    c->dampening = 0.5;
    c->lr = 0.03;
    strcpy(c->schedule, "multistep");
    c->milestones.v[0] = 3;
    c->milestones.n = 1;
}
static void e2e_adam(run_config *c) { strcpy(c->optimizer, "adam"); c->lr = 1e-3; }
static void e2e_adam_amsgrad_wd(run_config *c) { strcpy(c->optimizer, "adam"); c->lr = 1e-3; c->amsgrad = 1; c->weight_decay = 1e-4; }
static void e2e_adamw_onecycle(run_config *c) { strcpy(c->optimizer, "adamw"); c->lr = 3e-3; c->weight_decay = 0.01; strcpy(c->schedule, "onecycle"); }
static void e2e_sgd_onecycle(run_config *c) { strcpy(c->schedule, "onecycle"); c->lr = 0.05; c->three_phase = 1; }
static void e2e_warmup_cosine(run_config *c) { strcpy(c->schedule, "cosine"); c->warmup_epochs = 1; }
static void e2e_restarts(run_config *c) { strcpy(c->schedule, "cosine-restarts"); c->t_0 = 2; c->warmup_steps = 10; }
static void e2e_exponential(run_config *c) { strcpy(c->schedule, "exponential"); c->gamma = 0.7; }
static void e2e_plateau(run_config *c) { strcpy(c->schedule, "plateau"); c->plateau_patience = 0; }

static void test_each_optimiser_and_schedule_learns(void **state) {
    (void)state;
    dataset tr, te;
    make_data(&tr, 480, 21);
    make_data(&te, 160, 22);
    const e2e_case cases[] = {
        {"sgd nesterov + weight decay", e2e_sgd_nesterov_wd},
        {"sgd dampening + multistep", e2e_sgd_dampening},
        {"adam", e2e_adam},
        {"adam amsgrad + weight decay", e2e_adam_amsgrad_wd},
        {"adamw + onecycle", e2e_adamw_onecycle},
        {"sgd + onecycle three-phase", e2e_sgd_onecycle},
        {"warm-up + cosine", e2e_warmup_cosine},
        {"cosine-restarts after a warm-up in steps", e2e_restarts},
        {"exponential", e2e_exponential},
        {"plateau", e2e_plateau},
    };
    float *first_params = NULL;
    size_t n_params = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_config c;
        config_defaults(&c);
        c.epochs = 5;
        c.batch_size = 40; // 12 steps per epoch
        c.lr = 0.01;
        c.threads = 1;
        c.seed = 5;
        cases[i].set(&c);
        run_result r;
        lr_err e;
        if (train_run(&c, &tr, &te, dataset_find("cifar10"), NULL, &r, &e) != 0)
            fail_msg("%s: %s", cases[i].what, e.msg);
        assert_int_equal(r.status, RUN_FINISHED);
        double l0 = r.epochs[0].train_loss, l4 = r.epochs[4].train_loss;
        print_message("# %-42s train loss %.3f -> %.3f, test acc %.3f\n", cases[i].what, l0, l4,
                      r.epochs[4].test_acc);
        if (!(l4 < 0.6 * l0 && r.epochs[4].test_acc > 0.3))
            fail_msg("%s did not learn: train loss %.3f -> %.3f, test acc %.3f", cases[i].what, l0, l4,
                     r.epochs[4].test_acc);
        // metrics.csv's rate is the rate of each epoch's first step
        assert_int_equal(r.steps_per_epoch, 12);
        if (strcmp(c.schedule, "plateau") != 0) {
            double lrs[60];
            assert_int_equal(schedule_replay(&c, 12, NULL, lrs, 60, &e), 0);
            for (int ep = 0; ep < 5; ep++) assert_true(r.epochs[ep].lr == lrs[ep * 12]);
        }
        // each configuration trains differently from the first
        if (!first_params) {
            n_params = r.model.n_params;
            first_params = malloc(n_params * sizeof(float));
            assert_non_null(first_params);
            memcpy(first_params, r.params, n_params * sizeof(float));
        } else {
            assert_memory_not_equal(first_params, r.params, n_params * sizeof(float));
        }
        run_result_free(&r);
    }
    free(first_params);
    dataset_free(&tr);
    dataset_free(&te);
}

// Plateau steps after evaluated epochs only. With abs threshold 100 every
// evaluation after the first is "bad" and patience 0 cuts at once: with
// evaluations after epochs 2, 4 and 6, the rate halves once, for epochs 5-6.
static void test_plateau_in_training_counts_evaluations(void **state) {
    (void)state;
    dataset tr, te;
    make_data(&tr, 120, 23);
    make_data(&te, 40, 24);
    run_config c;
    config_defaults(&c);
    c.epochs = 6;
    c.batch_size = 40;
    c.threads = 1;
    c.eval_interval = 2;
    strcpy(c.schedule, "plateau");
    c.plateau_patience = 0;
    c.plateau_factor = 0.5;
    strcpy(c.plateau_threshold_mode, "abs");
    c.plateau_threshold = 100;
    run_result r;
    lr_err e;
    assert_int_equal(train_run(&c, &tr, &te, dataset_find("cifar10"), NULL, &r, &e), 0);
    double want[6] = {0.01, 0.01, 0.01, 0.01, 0.005, 0.005};
    for (int i = 0; i < 6; i++)
        if (r.epochs[i].lr != want[i]) fail_msg("epoch %d: lr %g, expected %g", i + 1, r.epochs[i].lr, want[i]);
    run_result_free(&r);
    // monitoring test_acc in max mode: accuracy never rises by 100 either
    strcpy(c.plateau_metric, "test_acc");
    strcpy(c.plateau_mode, "max");
    c.eval_interval = 1;
    assert_int_equal(train_run(&c, &tr, &te, dataset_find("cifar10"), NULL, &r, &e), 0);
    double want1[6] = {0.01, 0.01, 0.005, 0.0025, 0.00125, 0.000625};
    for (int i = 0; i < 6; i++) assert_true(fabs(r.epochs[i].lr - want1[i]) < 1e-15);
    run_result_free(&r);
    // a bad knob is a setup error of train_run too
    c.pct_start = 2;
    assert_int_equal(train_run(&c, &tr, &te, dataset_find("cifar10"), NULL, &r, &e), -1);
    assert_non_null(strstr(e.msg, "pct_start"));
    run_result_free(&r);
    dataset_free(&tr);
    dataset_free(&te);
}

// ---------------------------------------------------------------- the schedule figure's series

#define expect_near(a, b, tol)                                                                       \
    do {                                                                                             \
        double a_ = (a), b_ = (b);                                                                   \
        if (!(fabs(a_ - b_) <= (tol))) fail_msg("%s = %.17g, expected %.17g", #a, a_, b_);            \
    } while (0)

// A report_run as study_read leaves it: config, steps_per_epoch from run.json,
// and metrics.csv's per-epoch rates.
static void figure_run(report_run *r, const char *sched_name, int epochs, int spe) {
    memset(r, 0, sizeof *r);
    config_defaults(&r->config);
    strcpy(r->config.schedule, sched_name);
    r->config.epochs = epochs;
    r->config.lr = 0.1;
    r->steps_per_epoch = spe;
    r->n_epochs = epochs;
    r->epochs = test_calloc((size_t)epochs, sizeof *r->epochs);
    for (int k = 0; k < epochs; k++) {
        r->epochs[k].epoch = k + 1;
        r->epochs[k].lr = 0.1 / (1 << k); // plateau reads these
    }
}

static void test_schedule_figure_is_per_step(void **state) {
    (void)state;
    report_run r;
    double *x, *y;
    // one-cycle: every step of the run, its shape within the epochs
    figure_run(&r, "onecycle", 4, 7);
    r.config.pct_start = 0.25; // the rise ends at step 0.25 * 28 - 1 = 6
    long n = plot_lr_series(&r, &x, &y);
    assert_int_equal(n, 4 * 7);
    double want[4 * 7];
    lr_err e;
    assert_int_equal(schedule_replay(&r.config, 7, NULL, want, n, &e), 0);
    double peak = 0;
    for (long k = 0; k < n; k++) {
        expect_near(y[k], want[k], 0);
        if (k > 0) assert_true(x[k] > x[k - 1]);
        peak = fmax(peak, y[k]);
    }
    expect_near(x[0], 0.5, 1e-12);          // epoch 1 spans 0.5 .. 1.5
    expect_near(x[7], 1.5, 1e-12);          // epoch 2 starts at its left edge
    expect_near(y[0], 0.1 / 25, 1e-15);     // max_lr (the run's lr) / div_factor
    expect_near(peak, 0.1, 1e-12);          // reaches max_lr within the run, at step 6
    expect_near(y[6], 0.1, 1e-12);
    assert_true(y[n - 1] < 0.1 / 25 / 100);         // ends near max_lr / div / final_div
    free(x);
    free(y);
    // a diverged run: the epochs before the divergence only
    r.diverged_epoch = 3;
    assert_int_equal(plot_lr_series(&r, &x, &y), 2 * 7);
    free(x);
    free(y);
    // without steps_per_epoch (an older run.json): nothing, the figure falls back to epochs
    r.diverged_epoch = 0;
    r.steps_per_epoch = 0;
    assert_int_equal(plot_lr_series(&r, &x, &y), 0);
    test_free(r.epochs);
    // plateau: metrics.csv's rate of each epoch, held for its steps
    figure_run(&r, "plateau", 3, 5);
    n = plot_lr_series(&r, &x, &y);
    assert_int_equal(n, 15);
    for (long k = 0; k < n; k++) expect_near(y[k], 0.1 / (1 << (k / 5)), 1e-15);
    free(x);
    free(y);
    test_free(r.epochs);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schedules_match_torch),
        cmocka_unit_test(test_onecycle_stops_at_its_end),
        cmocka_unit_test(test_replay_for_the_figure),
        cmocka_unit_test(test_plateau_patience_and_cooldown),
        cmocka_unit_test(test_plateau_threshold_modes),
        cmocka_unit_test(test_plateau_min_lr_and_eps),
        cmocka_unit_test(test_schedule_state_is_a_value),
        cmocka_unit_test(test_optimisers_match_torch),
        cmocka_unit_test(test_optim_state_is_one_block),
        cmocka_unit_test(test_bad_knobs_are_refused),
        cmocka_unit_test(test_each_optimiser_and_schedule_learns),
        cmocka_unit_test(test_plateau_in_training_counts_evaluations),
        cmocka_unit_test(test_schedule_figure_is_per_step),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
