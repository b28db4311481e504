// schedule.c: PyTorch 1.13's learning-rate schedulers as functions of the
// optimiser step. Where PyTorch computes a rate recursively from the previous
// one (StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, LinearLR when
// stepped without an epoch argument) so do these, in the same order of double
// operations, so the rates agree to the last bits, not only to rounding.
#include "schedule.h"

#include <math.h>
#include <string.h>

// Indexed by schedule_kind.
static const char *const schedule_names[] = {"constant", "step", "multistep", "exponential",
                                             "cosine", "cosine-restarts", "onecycle", "plateau"};
enum { N_SCHEDULES = sizeof schedule_names / sizeof schedule_names[0] };

static int schedule_find(const char *name) {
    for (int k = 0; k < N_SCHEDULES; k++)
        if (strcmp(name, schedule_names[k]) == 0) return k;
    return -1;
}

int schedule_known(const char *name) { return schedule_find(name) >= 0; }

// Fills s from c for B steps per epoch, without checking the knobs.
static void schedule_resolve(schedule *s, const run_config *c, int B) {
    int kind = schedule_find(c->schedule);
    LR_ASSERT(kind >= 0 && B >= 1);
    memset(s, 0, sizeof *s);
    s->kind = (schedule_kind)kind;
    s->milestone_steps = s->kind == SCHED_MULTISTEP && strcmp(c->milestone_unit, "steps") == 0;
    s->per_batch = s->kind == SCHED_COSINE_RESTARTS || s->kind == SCHED_ONECYCLE || s->milestone_steps;
    s->batches = B;
    s->total_steps = (long)c->epochs * B;
    s->base_lr = c->lr;
    s->warmup_start_factor = c->warmup_start_factor;
    s->warmup_epochs = c->warmup_epochs;
    s->warmup_steps = c->warmup_epochs > 0 ? 0 : c->warmup_steps;
    s->main_start = s->warmup_epochs > 0 ? (long)s->warmup_epochs * B : s->warmup_steps;
    s->step_size = c->step_size;
    s->gamma = c->gamma;
    s->milestones = c->milestones;
    // CosineAnnealingLR's T_max by default spans the rest of the run after
    // the warm-up, so the rate reaches eta_min at the end of the run.
    long main_steps = s->total_steps - s->main_start;
    s->t_max = c->t_max != -1 ? c->t_max : (int)((main_steps + B - 1) / B);
    if (s->t_max < 1) s->t_max = 1;
    s->eta_min = c->eta_min;
    s->t_0 = c->t_0;
    s->t_mult = c->t_mult;
    s->max_lr = c->max_lr == -1.0 ? c->lr : c->max_lr;
    s->pct_start = c->pct_start;
    s->div_factor = c->div_factor;
    s->final_div_factor = c->final_div_factor;
    s->anneal_linear = strcmp(c->anneal, "linear") == 0;
    s->three_phase = c->three_phase;
    s->cycle_momentum = c->cycle_momentum;
    s->base_momentum = c->base_momentum;
    s->max_momentum = c->max_momentum;
    s->onecycle_steps = main_steps;
    plateau_state *p = &s->plateau;
    p->mode_max = strcmp(c->plateau_mode, "max") == 0;
    p->threshold_abs = strcmp(c->plateau_threshold_mode, "abs") == 0;
    p->metric_acc = strcmp(c->plateau_metric, "test_acc") == 0;
    p->factor = c->plateau_factor;
    p->threshold = c->plateau_threshold;
    p->min_lr = c->plateau_min_lr;
    p->eps = c->plateau_eps;
    p->patience = c->plateau_patience;
    p->cooldown = c->plateau_cooldown;
    p->lr = c->lr;
    p->best = p->mode_max ? -INFINITY : INFINITY; // PyTorch's mode_worse
}

int schedule_init(schedule *s, const run_config *c, int batches_per_epoch, lr_err *e) {
    if (config_check_optim(c, batches_per_epoch, e) != 0) return -1;
    schedule_resolve(s, c, batches_per_epoch);
    return 0;
}

// LinearLR(start_factor, end_factor 1, total_iters) after k steps, by its
// recursive get_lr from lr_0 = base * start_factor.
static double warmup_lr(double base, double sf, long total_iters, long k) {
    double lr = base * sf;
    for (long j = 1; j <= k && j <= total_iters; j++)
        lr = lr * (1. + (1.0 - sf) / ((double)total_iters * sf + (double)(j - 1) * (1.0 - sf)));
    return lr;
}

// CosineAnnealingLR's recursive get_lr, epochs 1 .. ep, from the base rate.
static double cosine_lr(const schedule *s, int ep) {
    const double T = s->t_max, eta = s->eta_min, base = s->base_lr;
    double lr = base;
    for (int k = 1; k <= ep; k++) {
        int since = k - 1 - s->t_max; // PyTorch: (last_epoch - 1 - T_max) % (2 * T_max) == 0
        if (since >= 0 && since % (2 * s->t_max) == 0)
            lr = lr + (base - eta) * (1 - cos(M_PI / T)) / 2;
        else
            lr = (1 + cos(M_PI * k / T)) / (1 + cos(M_PI * (k - 1) / T)) * (lr - eta) + eta;
    }
    return lr;
}

// The per-epoch schedules at epoch ep of their own clock.
static double epoch_lr(const schedule *s, int ep) {
    double lr = s->base_lr;
    switch (s->kind) {
    case SCHED_STEP: // lr *= gamma at every multiple of step_size
        for (int k = s->step_size; k <= ep; k += s->step_size) lr *= s->gamma;
        return lr;
    case SCHED_MULTISTEP: // lr *= gamma ** 1 at each milestone
        for (int i = 0; i < s->milestones.n && s->milestones.v[i] <= ep; i++) lr *= s->gamma;
        return lr;
    case SCHED_EXPONENTIAL:
        for (int k = 1; k <= ep; k++) lr *= s->gamma;
        return lr;
    case SCHED_COSINE: return cosine_lr(s, ep);
    default: return lr;
    }
}

// CosineAnnealingWarmRestarts.step(epoch) at a fractional epoch.
static double restarts_lr(const schedule *s, double epoch) {
    double t_cur, t_i;
    if (epoch >= s->t_0) {
        if (s->t_mult == 1) {
            t_cur = fmod(epoch, (double)s->t_0);
            t_i = s->t_0;
        } else {
            // PyTorch: n = int(math.log(epoch / T_0 * (T_mult - 1) + 1, T_mult))
            int n = (int)(log(epoch / s->t_0 * (s->t_mult - 1) + 1) / log((double)s->t_mult));
            long long pw = 1;
            for (int i = 0; i < n; i++) pw *= s->t_mult;
            t_cur = epoch - (double)(s->t_0 * (pw - 1)) / (double)(s->t_mult - 1);
            t_i = (double)(s->t_0 * pw);
        }
    } else {
        t_i = s->t_0;
        t_cur = epoch;
    }
    return s->eta_min + (s->base_lr - s->eta_min) * (1 + cos(M_PI * t_cur / t_i)) / 2;
}

static double anneal(int linear, double start, double end, double pct) {
    if (linear) return (end - start) * pct + start;
    double cos_out = cos(M_PI * pct) + 1;
    return end + (start - end) / 2.0 * cos_out;
}

// OneCycleLR.get_lr at step k (k <= total steps).
static void onecycle_at(const schedule *s, long k, schedule_point *p) {
    const double T = (double)s->onecycle_steps;
    const double initial = s->max_lr / s->div_factor, min_lr = initial / s->final_div_factor;
    const double hi_m = s->max_momentum, lo_m = s->base_momentum;
    typedef struct { double end, lr0, lr1, m0, m1; } phase; // PyTorch's _schedule_phases
    phase ph[3];
    int n;
    if (s->three_phase) {
        ph[0] = (phase){s->pct_start * T - 1, initial, s->max_lr, hi_m, lo_m};
        ph[1] = (phase){2 * s->pct_start * T - 2, s->max_lr, initial, lo_m, hi_m};
        ph[2] = (phase){T - 1, initial, min_lr, hi_m, hi_m};
        n = 3;
    } else {
        ph[0] = (phase){s->pct_start * T - 1, initial, s->max_lr, hi_m, lo_m};
        ph[1] = (phase){T - 1, s->max_lr, min_lr, lo_m, hi_m};
        n = 2;
    }
    double start = 0;
    for (int i = 0; i < n; i++) {
        if ((double)k <= ph[i].end || i == n - 1) {
            double pct = ((double)k - start) / (ph[i].end - start);
            p->lr = anneal(s->anneal_linear, ph[i].lr0, ph[i].lr1, pct);
            p->has_momentum = s->cycle_momentum;
            p->momentum = s->cycle_momentum ? anneal(s->anneal_linear, ph[i].m0, ph[i].m1, pct) : 0.0;
            return;
        }
        start = ph[i].end;
    }
}

int schedule_at(const schedule *s, long step, schedule_point *p, lr_err *e) {
    LR_ASSERT(step >= 0);
    p->has_momentum = 0;
    p->momentum = 0.0;
    const long B = s->batches;
    if (step < s->main_start) {
        if (s->warmup_epochs > 0)
            p->lr = warmup_lr(s->base_lr, s->warmup_start_factor, s->warmup_epochs, step / B);
        else
            p->lr = warmup_lr(s->base_lr, s->warmup_start_factor, s->warmup_steps, step);
        return 0;
    }
    long k = step - s->main_start; // the main schedule's own clock (SequentialLR)
    switch (s->kind) {
    case SCHED_COSINE_RESTARTS:
        // scheduler.step(epoch + i / iters) before batch i of an epoch
        p->lr = restarts_lr(s, (double)(k / B) + (double)(k % B) / (double)B);
        return 0;
    case SCHED_ONECYCLE:
        if (k > s->onecycle_steps)
            return lr_fail(e, "onecycle: tried to step %ld times; the schedule has %ld steps", k + 1,
                           s->onecycle_steps);
        onecycle_at(s, k, p);
        return 0;
    case SCHED_PLATEAU: p->lr = s->plateau.lr; return 0;
    case SCHED_MULTISTEP:
        if (s->milestone_steps) { // MultiStepLR stepped per batch: its clock counts steps
            p->lr = s->base_lr;
            for (int i = 0; i < s->milestones.n && s->milestones.v[i] <= k; i++) p->lr *= s->gamma;
            return 0;
        }
        p->lr = epoch_lr(s, (int)(k / B));
        return 0;
    default: p->lr = epoch_lr(s, (int)(k / B)); return 0;
    }
}

int schedule_feeds_plateau(const schedule *s, int epoch) {
    // fed once the epoch trained at least one step after the warm-up
    return s->kind == SCHED_PLATEAU && (long)(epoch + 1) * s->batches > s->main_start;
}

static int plateau_is_better(const plateau_state *p, double a, double best) {
    if (!p->mode_max && !p->threshold_abs) return a < best * (1. - p->threshold);
    if (!p->mode_max) return a < best - p->threshold;
    if (!p->threshold_abs) return a > best * (p->threshold + 1.);
    return a > best + p->threshold;
}

void plateau_step(plateau_state *p, double metric) {
    p->last_epoch++;
    if (plateau_is_better(p, metric, p->best)) {
        p->best = metric;
        p->num_bad_epochs = 0;
    } else {
        p->num_bad_epochs++;
    }
    if (p->cooldown_counter > 0) {
        p->cooldown_counter--;
        p->num_bad_epochs = 0; // bad epochs in cooldown are ignored
    }
    if (p->num_bad_epochs > p->patience) {
        double old_lr = p->lr, new_lr = old_lr * p->factor;
        if (new_lr < p->min_lr) new_lr = p->min_lr;
        if (old_lr - new_lr > p->eps) p->lr = new_lr;
        p->cooldown_counter = p->cooldown;
        p->num_bad_epochs = 0;
    }
}

void schedule_plateau_step(schedule *s, double metric) {
    LR_ASSERT(s->kind == SCHED_PLATEAU);
    plateau_step(&s->plateau, metric);
}

int schedule_replay(const run_config *c, int batches_per_epoch, const double *epoch_lr_in,
                    double *out, long n, lr_err *e) {
    schedule s;
    if (schedule_init(&s, c, batches_per_epoch, e) != 0) return -1;
    LR_ASSERT(n >= 0 && n <= s.total_steps);
    LR_ASSERT(s.kind != SCHED_PLATEAU || epoch_lr_in);
    for (long step = 0; step < n; step++) {
        long ep = step / s.batches;
        if (s.kind == SCHED_PLATEAU && step >= s.main_start) {
            // the plateau's rate changes only between epochs; an epoch that
            // began in the warm-up runs at the base rate after it
            out[step] = ep * s.batches >= s.main_start ? epoch_lr_in[ep] : s.base_lr;
            continue;
        }
        schedule_point p;
        if (schedule_at(&s, step, &p, e) != 0) return -1;
        out[step] = p.lr;
    }
    return 0;
}

double schedule_lr(const run_config *c, int epoch) {
    schedule s;
    schedule_resolve(&s, c, 1);
    LR_ASSERT(!s.per_batch && c->warmup_steps == 0);
    schedule_point p;
    lr_err e;
    LR_ASSERT(schedule_at(&s, epoch, &p, &e) == 0);
    return p.lr;
}
