// knobs_check.c: the checks of the optimiser and schedule knobs that the
// table's per-row ranges cannot express: open bounds, combinations of knobs
// and the run's shape (one-cycle phases, warm-up length). Called for every
// run of a study before any training (study.c) and by schedule_init.
#include "config.h"

#include <math.h>
#include <string.h>

static int in_range(double x, double lo, double hi) { return isfinite(x) && x >= lo && x <= hi; }

// `name` x must lie in [lo, hi] (lo_open/hi_open: the bound itself excluded).
static int check_real(const char *name, double x, double lo, int lo_open, double hi, int hi_open, lr_err *e) {
    if (in_range(x, lo, hi) && !(lo_open && x == lo) && !(hi_open && x == hi)) return 0;
    return lr_fail(e, "%s %g is out of range: expected a number in %c%g, %g%c", name, x,
                   lo_open ? '(' : '[', lo, hi, hi_open ? ')' : ']');
}

static int check_int(const char *name, int x, int lo, lr_err *e) {
    if (x >= lo) return 0;
    return lr_fail(e, "%s %d is out of range: expected a whole number >= %d", name, x, lo);
}

static int check_flag(const char *name, int x, lr_err *e) {
    if (x == 0 || x == 1) return 0;
    return lr_fail(e, "%s %d is out of range: expected 0 or 1", name, x);
}

static int check_name(const char *knob, const char *value, const char *const *names, lr_err *e) {
    char list[128] = "";
    for (int i = 0; names[i]; i++) {
        if (strcmp(value, names[i]) == 0) return 0;
        size_t len = strlen(list);
        snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", names[i]);
    }
    return lr_fail(e, "unknown %s '%s': expected one of %s", knob, value, list);
}

int config_check_optim(const run_config *c, int batches_per_epoch, lr_err *e) {
    static const char *const optimizers[] = {"sgd", "adam", "adamw", NULL};
    static const char *const schedules[] = {"constant", "step", "multistep", "exponential", "cosine",
                                            "cosine-restarts", "onecycle", "plateau", NULL};
    static const char *const anneals[] = {"cos", "linear", NULL};
    static const char *const modes[] = {"min", "max", NULL};
    static const char *const metrics[] = {"test_loss", "test_acc", NULL};
    static const char *const threshold_modes[] = {"rel", "abs", NULL};
    const double inf = INFINITY;
    if (check_name("optimizer", c->optimizer, optimizers, e) || check_name("schedule", c->schedule, schedules, e) ||
        check_name("anneal", c->anneal, anneals, e) || check_name("plateau_mode", c->plateau_mode, modes, e) ||
        check_name("plateau_metric", c->plateau_metric, metrics, e) ||
        check_name("plateau_threshold_mode", c->plateau_threshold_mode, threshold_modes, e))
        return -1;
    if (check_real("lr", c->lr, 0, 1, inf, 0, e) || check_real("momentum", c->momentum, 0, 0, 1, 0, e) ||
        check_real("weight_decay", c->weight_decay, 0, 0, inf, 0, e) ||
        check_real("dampening", c->dampening, 0, 0, 1, 0, e) || check_flag("nesterov", c->nesterov, e) ||
        check_real("beta1", c->beta1, 0, 0, 1, 1, e) || check_real("beta2", c->beta2, 0, 0, 1, 1, e) ||
        check_real("eps", c->eps, 0, 0, inf, 0, e) || check_flag("amsgrad", c->amsgrad, e) ||
        check_int("step_size", c->step_size, 1, e) || check_real("gamma", c->gamma, 0, 1, inf, 0, e) ||
        check_real("eta_min", c->eta_min, 0, 0, inf, 0, e) || check_int("t_0", c->t_0, 1, e) ||
        check_int("t_mult", c->t_mult, 1, e) || check_real("pct_start", c->pct_start, 0, 1, 1, 1, e) ||
        check_real("div_factor", c->div_factor, 0, 1, inf, 0, e) ||
        check_real("final_div_factor", c->final_div_factor, 0, 1, inf, 0, e) ||
        check_flag("three_phase", c->three_phase, e) || check_flag("cycle_momentum", c->cycle_momentum, e) ||
        check_real("base_momentum", c->base_momentum, 0, 0, 1, 1, e) ||
        check_real("max_momentum", c->max_momentum, 0, 0, 1, 1, e) ||
        check_real("warmup_start_factor", c->warmup_start_factor, 0, 1, 1, 0, e) ||
        check_int("warmup_epochs", c->warmup_epochs, 0, e) || check_int("warmup_steps", c->warmup_steps, 0, e) ||
        check_real("plateau_factor", c->plateau_factor, 0, 1, 1, 1, e) ||
        check_int("plateau_patience", c->plateau_patience, 0, e) ||
        check_real("plateau_threshold", c->plateau_threshold, 0, 0, inf, 0, e) ||
        check_int("plateau_cooldown", c->plateau_cooldown, 0, e) ||
        check_real("plateau_min_lr", c->plateau_min_lr, 0, 0, inf, 0, e) ||
        check_real("plateau_eps", c->plateau_eps, 0, 0, inf, 0, e))
        return -1;
    if (c->t_max != -1 && c->t_max < 1)
        return lr_fail(e, "t_max %d is out of range: expected a whole number of epochs >= 1 "
                          "(or -1: the run's epochs after any warm-up)", c->t_max);
    if (c->max_lr != -1.0 && !(isfinite(c->max_lr) && c->max_lr > 0))
        return lr_fail(e, "max_lr %g is out of range: expected a number > 0 (or -1: the run's lr)", c->max_lr);
    if (c->nesterov && (c->momentum <= 0 || c->dampening != 0))
        return lr_fail(e, "nesterov needs momentum > 0 and dampening 0 (momentum %g, dampening %g)",
                       c->momentum, c->dampening);
    if (c->base_momentum > c->max_momentum)
        return lr_fail(e, "base_momentum %g is above max_momentum %g", c->base_momentum, c->max_momentum);
    const int_list *ms = &c->milestones;
    if (ms->n < 0 || ms->n > CONFIG_LIST_MAX)
        return lr_fail(e, "milestones: %d given, at most %d", ms->n, CONFIG_LIST_MAX);
    static const char *const units[] = {"epochs", "steps", NULL};
    if (check_name("milestone_unit", c->milestone_unit, units, e) || check_int("max_steps", c->max_steps, 0, e))
        return -1;
    for (int i = 0; i < ms->n; i++) {
        if (ms->v[i] < 1)
            return lr_fail(e, "milestones: %d is not %s >= 1", ms->v[i],
                           strcmp(c->milestone_unit, "steps") ? "an epoch" : "a step");
        if (i > 0 && ms->v[i] <= ms->v[i - 1])
            return lr_fail(e, "milestones must be increasing: %d comes after %d", ms->v[i], ms->v[i - 1]);
    }
    if (strcmp(c->schedule, "multistep") == 0 && ms->n == 0)
        return lr_fail(e, "milestones: the multistep schedule needs at least one milestone");
    int acc = strcmp(c->plateau_metric, "test_acc") == 0, max = strcmp(c->plateau_mode, "max") == 0;
    if (acc != max)
        return lr_fail(e, "plateau_mode %s with plateau_metric %s would cut the rate while the metric "
                          "improves: use plateau_mode %s", c->plateau_mode, c->plateau_metric, acc ? "max" : "min");

    // The run's shape.
    if (c->epochs < 1 || batches_per_epoch < 1)
        return lr_fail(e, "epochs %d and batches per epoch %d: expected at least 1 each", c->epochs,
                       batches_per_epoch);
    long total = (long)c->epochs * batches_per_epoch;
    if (c->max_steps > total)
        return lr_fail(e, "max_steps %d is beyond the run's %ld steps (%d epochs x %d batches): raise epochs to "
                          "at least %ld", c->max_steps, total, c->epochs, batches_per_epoch,
                       ((long)c->max_steps + batches_per_epoch - 1) / batches_per_epoch);
    if (c->warmup_epochs > 0 && c->warmup_steps > 0)
        return lr_fail(e, "warmup_epochs %d and warmup_steps %d: give the warm-up's length in one of them",
                       c->warmup_epochs, c->warmup_steps);
    long warm = c->warmup_epochs > 0 ? (long)c->warmup_epochs * batches_per_epoch : c->warmup_steps;
    if (warm >= total)
        return lr_fail(e, "a warm-up of %ld steps (%s %d) leaves nothing of the run's %ld steps "
                          "(%d epochs x %d batches) to the %s schedule", warm,
                       c->warmup_epochs > 0 ? "warmup_epochs" : "warmup_steps",
                       c->warmup_epochs > 0 ? c->warmup_epochs : c->warmup_steps, total, c->epochs,
                       batches_per_epoch, c->schedule);
    if (strcmp(c->schedule, "onecycle") == 0) {
        if (warm > 0)
            return lr_fail(e, "onecycle has its own warm-up (pct_start): warmup_epochs/warmup_steps must be 0");
        // Each phase of OneCycleLR must span more than zero steps, or
        // PyTorch divides by zero (or runs a phase backwards).
        double rise = c->pct_start * (double)total - 1.0;
        double fall = c->three_phase ? (double)total - 1.0 - (2.0 * c->pct_start * (double)total - 2.0) : 1.0;
        if (!(rise > 0) || !(fall > 0))
            return lr_fail(e, "a one-cycle run of %ld steps (%d epochs x %d batches) is shorter than its "
                              "schedule: pct_start %g%s leaves its %s phase %.3g steps; it needs more steps "
                              "or a %s pct_start", total, c->epochs, batches_per_epoch, c->pct_start,
                           c->three_phase ? " with three_phase" : "", !(rise > 0) ? "rising" : "final",
                           !(rise > 0) ? rise : fall, !(rise > 0) ? "larger" : "smaller");
    }
    return 0;
}
