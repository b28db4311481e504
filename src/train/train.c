// train.c: the training loop. A batch is split into groups of LANES images;
// each thread takes groups g = tid, tid + T, ..., and writes that group's
// gradient into its own slot; the slots are then added in group order. So
// the arithmetic, and every result bit, is the same whatever the thread count.
#include "train.h"
#include "metrics.h"
#include "optim.h"
#include "schedule.h"
#include "pool.h"
#include "../data/loader.h"
#include "../model/model_batch.h"

#include <math.h>
#include <stdatomic.h>
#include <string.h>

const char *run_status_name(run_status s) {
    switch (s) {
    case RUN_RUNNING: return "running";
    case RUN_FINISHED: return "finished";
    case RUN_DIVERGED: return "diverged";
    case RUN_INTERRUPTED: return "interrupted";
    case RUN_FAILED: return "failed";
    case RUN_PRUNED: return "pruned";
    }
    return "unknown";
}

int train_default_threads(void) { return pool_cores(); }

// One group's model_ws: every activation, the gradient ping-pong, the
// accumulated gradients, dropout masks and scratch (model_ws_alloc).
static size_t ws_floats(const model_desc *m) {
    size_t n = 2 * m->max_act_floats + m->scratch_floats + 2 * (size_t)m->max_bn_channels;
    for (int i = 0; i <= m->n_layers; i++) n += m->act_floats[i] * (1 + (size_t)(m->acc[i] != 0));
    for (int i = 0; i < m->n_layers; i++)
        if (m->layers[i].kind == LAYER_DROPOUT) n += m->act_floats[i + 1];
    return n;
}

int train_batched(const model_desc *m) { return m->n_bn > 0 || m->n_dropout > 0; }

size_t train_memory_bytes(const model_desc *m, int batch_size, int threads) {
    size_t groups = ((size_t)batch_size + LANES - 1) / LANES;
    size_t T = (size_t)(threads > 0 ? threads : pool_cores());
    // state (parameters and buffers), gradients, two optimiser buffers, the
    // per-group gradient slots, and per-thread workspaces (evaluation).
    size_t floats = model_state_floats(m) + m->n_params * (3 + groups) + T * ws_floats(m);
    // The batch driver keeps a whole workspace and the input per group.
    if (train_batched(m))
        floats += groups * (ws_floats(m) + m->act_floats[0]) + 2 * m->n_buffers;
    return sizeof(float) * floats;
}

int train_check_batches(const model_desc *m, int batch_size, long n_train, lr_err *e) {
    if (m->n_bn == 0 || n_train < 1 || batch_size < 1) return 0;
    // The smallest batch of an epoch: the last one when it is partial.
    long last = n_train % batch_size ? n_train % batch_size : (n_train < batch_size ? n_train : batch_size);
    for (int i = 0; i < m->n_layers; i++) {
        const layer *ly = &m->layers[i];
        if (ly->kind != LAYER_BN || last * ly->h * ly->w > 1) continue;
        return lr_fail(e, "--batch-size %d: %ld training images leave a last batch of %ld image%s, and layer %d "
                          "(%s) would normalise one value per channel (%dx%dx%d); PyTorch fails there "
                          "(\"Expected more than 1 value per channel when training\"): choose a batch size "
                          "that does not leave one image", batch_size, n_train, last, last == 1 ? "" : "s",
                       i + 1, ly->text, ly->c, ly->h, ly->w);
    }
    return 0;
}

// Adds the group slots in group order and takes the optimiser step, each
// thread over its own slice of the parameters: the order per parameter is
// fixed.
typedef struct {
    const float *grad_slots; // (groups, P)
    float *grads, *params;
    size_t P;
    int groups;
    const optim_state *opt;
    optim_hyper hyper;       // this step's lr, momentum/beta1 and the rest
} update_ctx;

static void update_worker(void *arg, int tid, int nthreads) {
    update_ctx *u = arg;
    size_t lo = u->P * (size_t)tid / (size_t)nthreads, hi = u->P * (size_t)(tid + 1) / (size_t)nthreads;
    float *g = u->grads;
    memcpy(g + lo, u->grad_slots + lo, (hi - lo) * sizeof *g);
    for (int k = 1; k < u->groups; k++) {
        const float *slot = u->grad_slots + (size_t)k * u->P;
        for (size_t i = lo; i < hi; i++) g[i] += slot[i];
    }
    optim_update(u->opt, &u->hyper, u->params, g, lo, hi);
}

// What the threads share for one batch.
typedef struct {
    const model_desc *m;
    const kernel_table *kt;
    const float *params;
    const batch *b;
    const loader *ld;    // fills groups when the batch is not prefilled
    float **xbuf;        // (threads) one group's input each
    size_t img_floats;   // one group's input (C, H, W, L)
    model_ws *ws;        // (threads)
    float *grad_slots;   // (groups, n_params)
    float *loss;         // (groups * L) per image
    int *pred;           // (groups * L)
    float scale;         // 1 / batch size: the loss is a mean
    int backward;
    atomic_int next;     // next group to take: threads take groups as they free up
    atomic_int done;     // groups finished: the update starts when all are
    update_ctx *update;  // training: the optimiser step taken in the same round
} step_ctx;

static void step_worker(void *arg, int tid, int nthreads) {
    step_ctx *s = arg;
    model_ws *ws = &s->ws[tid];
    const int K = s->m->num_classes;
    // Which thread computes a group does not matter (each group has its own
    // gradient slot), so groups are handed out as threads free up.
    for (int g; (g = atomic_fetch_add_explicit(&s->next, 1, memory_order_relaxed)) < s->b->groups;) {
        const float *x;
        if (s->b->x) {
            x = s->b->x + (size_t)g * s->img_floats;
            // Prepared inputs come from memory, not cache: fetch this
            // thread's next group while this one is computed.
            if (g + nthreads < s->b->groups) {
                const char *next = (const char *)(s->b->x + (size_t)(g + nthreads) * s->img_floats);
                for (size_t off = 0; off < s->img_floats * sizeof(float); off += 64)
                    __builtin_prefetch(next + off, 0, 2);
            }
        } else {
            loader_fill_group(s->ld, s->b, g, s->xbuf[tid]);
            x = s->xbuf[tid];
        }
        const float *logits = model_forward(s->m, s->kt, s->params, ws, x);
        softmax_xent(ws->dlogits, s->loss + (size_t)g * LANES, s->pred + (size_t)g * LANES, logits,
                     s->b->labels + (size_t)g * LANES, K, s->scale);
        if (s->backward) {
            float *slot = s->grad_slots + (size_t)g * s->m->n_params;
            memset(slot, 0, s->m->n_params * sizeof *slot);
            model_backward(s->m, s->kt, s->params, slot, ws, ws->dlogits);
        }
        atomic_fetch_add_explicit(&s->done, 1, memory_order_release);
    }
    if (!s->update) return;
    // Every gradient slot must be complete before any parameter moves: wait
    // for the other threads here rather than in a second round.
    while (atomic_load_explicit(&s->done, memory_order_acquire) < s->b->groups) pool_cpu_relax();
    update_worker(s->update, tid, nthreads);
}

// Accumulates a batch's per-image losses (in image order) and confusions.
static double tally(const batch *b, const float *loss, const int *pred, int64_t *cm, int K) {
    double sum = 0.0;
    for (int k = 0; k < b->n; k++) {
        sum += (double)loss[k];
        if (pred[k] >= 0) cm[b->labels[k] * K + pred[k]]++;
    }
    return sum;
}

// Evaluates on the whole test set: mean loss and the confusion matrix.
static double evaluate(step_ctx *s, pool *p, loader *ld, int64_t *cm) {
    const int K = s->m->num_classes;
    memset(cm, 0, (size_t)K * K * sizeof *cm);
    double loss_sum = 0.0;
    int n = 0;
    loader_start_epoch(ld, 0);
    const batch *b;
    s->backward = 0;
    s->ld = ld;
    while ((b = loader_next(ld)) != NULL) {
        s->b = b;
        s->scale = 1.0f / (float)b->n;
        atomic_store(&s->next, 0);
        atomic_store(&s->done, 0);
        pool_run(p, step_worker, s);
        loss_sum += tally(b, s->loss, s->pred, cm, K);
        n += b->n;
    }
    return loss_sum / n;
}

// The whole state of a run between epochs, and the buffers of its loop.
struct trainer {
    run_config cfg;
    const dataset *train, *test;
    const dataset_info *info;
    const kernel_table *kt;
    run_result r;
    schedule sched;       // a plain value; its plateau state is the only part that moves
    optim_state opt;
    long step;            // optimiser steps taken
    int next_epoch;       // from 0: the epoch trainer_epoch runs next
    // timing so far (saved too, so a resumed run's totals cover the whole run)
    double seconds, train_time, eval_time;
    long long train_images, eval_images;
    // loop buffers
    int T;
    float *grads, *grad_slots, *loss;
    int *pred;
    int64_t *train_cm;
    model_ws *ws;
    float **xbuf;
    pool *p;
    loader *train_ld, *test_ld;
    // the batch driver (train_batched models): a workspace and an input per group
    int batched;
    model_batch mb;
    float *xgroups;       // (train groups, C, H, W, L) inputs when the loader does not prefill
    const float **xg;     // (train groups) each group's input
    int *nvalid;          // (train groups) images in each group
};

trainer *trainer_create(const run_config *cfg, const dataset *train, const dataset *test,
                        const dataset_info *info, lr_err *e) {
    trainer *t = lr_calloc(1, sizeof *t);
    t->cfg = *cfg;
    cfg = &t->cfg;
    t->train = train;
    t->test = test;
    t->info = info;
    run_result *r = &t->r;
    r->status = RUN_FAILED;
    if (model_build(&r->model, cfg->model, train->c, train->h, train->w, train->num_classes, e) != 0 ||
        !(t->kt = kernels_select(cfg->isa, e))) {
        free(t);
        return NULL;
    }
    if (cfg->epochs < 1 || cfg->batch_size < 1 || cfg->eval_interval < 1) {
        lr_fail(e, "epochs, batch size and eval interval must be at least 1");
        free(t);
        return NULL;
    }
    if (train_check_batches(&r->model, cfg->batch_size, train->n, e) != 0) {
        free(t);
        return NULL;
    }
    // The schedule and the optimiser state: plain values, saved whole by a checkpoint.
    r->steps_per_epoch = (train->n + cfg->batch_size - 1) / cfg->batch_size; // the loader's batches
    if (schedule_init(&t->sched, cfg, r->steps_per_epoch, e) != 0) {
        free(t);
        return NULL;
    }
    const model_desc *m = &r->model;
    if (optim_init(&t->opt, cfg, m->n_params, e) != 0) {
        free(t);
        return NULL;
    }
    const int K = m->num_classes, T = cfg->threads > 0 ? cfg->threads : train_default_threads();
    const size_t P = m->n_params;
    t->T = T;
    r->isa = t->kt->isa;
    r->threads = T;
    r->num_classes = K;
    r->epochs = lr_calloc((size_t)cfg->epochs, sizeof *r->epochs);
    r->test_cm = lr_calloc((size_t)K * K, sizeof *r->test_cm);
    r->params = lr_aligned_alloc(model_state_floats(m) * sizeof(float)); // parameters, then buffers
    model_init_params(m, r->params, cfg->seed);

    const int eval_batch = 1024; // evaluation results do not depend on it
    int max_batch = cfg->batch_size > eval_batch ? cfg->batch_size : eval_batch;
    int max_groups = (max_batch + LANES - 1) / LANES;
    t->grads = lr_aligned_alloc(P * sizeof(float));
    t->grad_slots = lr_aligned_alloc((size_t)((cfg->batch_size + LANES - 1) / LANES) * P * sizeof(float));
    t->loss = lr_aligned_alloc((size_t)max_groups * LANES * sizeof(float));
    t->pred = lr_calloc((size_t)max_groups * LANES, sizeof(int));
    t->train_cm = lr_calloc((size_t)K * K, sizeof *t->train_cm);
    t->ws = lr_calloc((size_t)T, sizeof *t->ws);
    for (int i = 0; i < T; i++) model_ws_alloc(&t->ws[i], m);
    t->p = pool_create(T);
    // With a core to spare the loader thread transforms the images ahead of
    // time; otherwise each compute thread transforms its own groups.
    int prefill = !strcmp(cfg->prefetch, "on") ? 1 : !strcmp(cfg->prefetch, "off") ? 0 : T < pool_cores();
    // The loaders' random streams (shuffle, augmentation) are counter-based on
    // (seed, epoch) (loader.c): the epoch number is their whole position.
    t->train_ld = loader_create(train, info, cfg->batch_size, 1, cfg->seed, prefill);
    t->test_ld = loader_create(test, info, eval_batch, 0, cfg->seed, prefill);
    loader_set_isa(t->train_ld, cfg->isa);
    LR_ASSERT(loader_num_batches(t->train_ld) == r->steps_per_epoch); // the schedule's clock
    loader_set_isa(t->test_ld, cfg->isa);
    t->xbuf = lr_calloc((size_t)T, sizeof *t->xbuf);
    for (int i = 0; i < T; i++)
        t->xbuf[i] = lr_aligned_alloc((size_t)train->c * train->h * train->w * LANES * sizeof(float));
    t->batched = train_batched(m);
    if (t->batched) {
        const int train_groups = (cfg->batch_size + LANES - 1) / LANES;
        model_batch_init(&t->mb, m, train_groups);
        t->xgroups = lr_aligned_alloc((size_t)train_groups * train->c * train->h * train->w * LANES * sizeof(float));
        t->xg = lr_calloc((size_t)train_groups, sizeof *t->xg);
        t->nvalid = lr_calloc((size_t)train_groups, sizeof *t->nvalid);
    }
    r->status = RUN_RUNNING;
    return t;
}

// ---- the batch driver's training step (train_batched models)

typedef struct {
    const trainer *t;
    const batch *b;
    size_t img_floats;
    float scale;
} batched_ctx;

// Group g's input: the loader's prefilled batch, or transformed here.
static void fill_worker(void *arg, int tid, int nthreads) {
    batched_ctx *c = arg;
    const trainer *t = c->t;
    for (int g = tid; g < c->b->groups; g += nthreads) {
        if (c->b->x) {
            t->xg[g] = c->b->x + (size_t)g * c->img_floats;
        } else {
            loader_fill_group(t->train_ld, c->b, g, t->xgroups + (size_t)g * c->img_floats);
            t->xg[g] = t->xgroups + (size_t)g * c->img_floats;
        }
        t->nvalid[g] = c->b->n - g * LANES < LANES ? c->b->n - g * LANES : LANES;
    }
}

// Each group's loss, prediction and logit gradient, as step_worker's.
static void xent_worker(void *arg, int tid, int nthreads) {
    batched_ctx *c = arg;
    const trainer *t = c->t;
    const model_desc *m = &t->r.model;
    for (int g = tid; g < c->b->groups; g += nthreads) {
        model_ws *ws = &t->mb.ws[g];
        softmax_xent(ws->dlogits, t->loss + (size_t)g * LANES, t->pred + (size_t)g * LANES, ws->act[m->n_layers],
                     c->b->labels + (size_t)g * LANES, m->num_classes, c->scale);
    }
}

// One optimiser step through model_batch: forward over the whole batch
// (batch norm's statistics over all its images, running statistics updated,
// dropout drawn from (seed, step)), the loss, backward into the per-group
// slots, then the same gradient sum in group order and update as step_worker.
static void batched_step(trainer *t, const batch *b, update_ctx *u) {
    batched_ctx c = {.t = t, .b = b, .img_floats = (size_t)t->train->c * t->train->h * t->train->w * LANES,
                     .scale = 1.0f / (float)b->n};
    pool_run(t->p, fill_worker, &c);
    model_batch_step st = {.train = 1, .seed = t->cfg.seed, .step = (uint64_t)t->step};
    lr_err e;
    if (model_batch_forward(&t->mb, t->kt, t->r.params, t->xg, t->nvalid, b->groups, &st, t->p, &e) != 0) {
        // train_check_batches refused every batch size that can get here
        fprintf(stderr, "lrscope: %s\n", e.msg);
        LR_ASSERT(!"a batch the batch driver refuses");
    }
    pool_run(t->p, xent_worker, &c);
    model_batch_backward(&t->mb, t->kt, t->r.params, t->grad_slots, b->groups, t->p);
    pool_run(t->p, update_worker, u);
}

const run_result *trainer_result(const trainer *t) { return &t->r; }
int trainer_epochs_done(const trainer *t) { return t->next_epoch; }

run_status trainer_epoch(trainer *t, const train_hooks *hooks) {
    run_result *r = &t->r;
    const run_config *cfg = &t->cfg;
    if (r->status != RUN_RUNNING || t->next_epoch >= cfg->epochs) return r->status;
    const model_desc *m = &r->model;
    const int K = m->num_classes, epoch = t->next_epoch;
    const size_t P = m->n_params;
    step_ctx s = {.m = m, .kt = t->kt, .params = r->params, .ws = t->ws, .grad_slots = t->grad_slots,
                  .loss = t->loss, .pred = t->pred, .xbuf = t->xbuf,
                  .img_floats = (size_t)t->train->c * t->train->h * t->train->w * LANES};
    double t0 = lr_now();
    epoch_record *rec = &r->epochs[epoch];
    memset(rec, 0, sizeof *rec);
    rec->epoch = epoch + 1;
    rec->lr = NAN; // the rate of the epoch's first step
    memset(t->train_cm, 0, (size_t)K * K * sizeof *t->train_cm);
    double loss_sum = 0.0;
    int seen = 0, nb = loader_num_batches(t->train_ld);
    loader_start_epoch(t->train_ld, epoch);
    s.backward = 1;
    s.ld = t->train_ld;
    int cut = 0; // max_steps reached: the run ends inside this epoch
    for (int bi = 0; bi < nb; bi++) {
        if (cfg->max_steps > 0 && t->step >= cfg->max_steps) {
            cut = 1;
            break;
        }
        if (hooks && hooks->stop && *hooks->stop) {
            r->status = RUN_INTERRUPTED;
            break;
        }
        const batch *b = loader_next(t->train_ld);
        s.b = b;
        s.scale = 1.0f / (float)b->n;
        schedule_point sp;
        lr_err se;
        LR_ASSERT(schedule_at(&t->sched, t->step, &sp, &se) == 0); // a run never steps past its schedule
        if (hooks && hooks->step_lr) sp.lr = hooks->step_lr(hooks->ctx, t->step);
        if (bi == 0) rec->lr = sp.lr;
        update_ctx u = {.grad_slots = t->grad_slots, .grads = t->grads, .params = r->params, .P = P,
                        .groups = b->groups, .opt = &t->opt, .hyper = optim_hyper_from(cfg, &sp)};
        if (t->batched) {
            batched_step(t, b, &u);
        } else {
            s.update = &u;
            atomic_store(&s.next, 0);
            atomic_store(&s.done, 0);
            pool_run(t->p, step_worker, &s); // forward, backward, gradient sum and optimiser step
            s.update = NULL;
        }
        optim_step_done(&t->opt);
        t->step++;
        double batch_loss = tally(b, t->loss, t->pred, t->train_cm, K);
        loss_sum += batch_loss;
        seen += b->n;
        if (hooks && hooks->on_step && hooks->on_step(hooks->ctx, t->step - 1, sp.lr, batch_loss / b->n)) {
            r->status = RUN_FINISHED;
            break;
        }
        if (!isfinite(batch_loss)) {
            r->status = RUN_DIVERGED;
            r->diverged_epoch = epoch + 1;
            break;
        }
        if (hooks && hooks->on_batch)
            hooks->on_batch(hooks->ctx, epoch + 1, bi + 1, nb, loss_sum / seen, seen / (lr_now() - t0));
    }
    loader_stop_epoch(t->train_ld);
    double dt = lr_now() - t0;
    t->train_time += dt;
    t->train_images += seen;
    if (r->status == RUN_INTERRUPTED) { // the epoch is lost: the parameters moved part of the way
        t->seconds += dt;
        r->seconds = t->seconds;
        r->train_images_per_s = t->train_time > 0 ? t->train_images / t->train_time : 0;
        return r->status;
    }
    rec->train_loss = seen ? loss_sum / seen : NAN;
    rec->train_acc = metrics_accuracy(t->train_cm, K);
    rec->train_f1 = metrics_macro_f1(t->train_cm, K);
    if (cfg->max_steps > 0 && t->step >= cfg->max_steps) cut = 1; // also at the epoch's last batch
    int last = epoch == cfg->epochs - 1 || cut;
    if (r->status == RUN_RUNNING && ((epoch + 1) % cfg->eval_interval == 0 || last)) {
        double te0 = lr_now();
        rec->test_loss = evaluate(&s, t->p, t->test_ld, r->test_cm);
        t->eval_time += lr_now() - te0;
        t->eval_images += t->test->n;
        rec->test_acc = metrics_accuracy(r->test_cm, K);
        rec->test_f1 = metrics_macro_f1(r->test_cm, K);
        rec->has_test = 1;
        r->has_test_cm = 1;
        if (!isfinite(rec->test_loss)) {
            r->status = RUN_DIVERGED;
            r->diverged_epoch = epoch + 1;
        }
        // ReduceLROnPlateau steps after each evaluated epoch only: its
        // patience and cooldown count evaluations (eval_interval).
        if (r->status == RUN_RUNNING && schedule_feeds_plateau(&t->sched, epoch))
            schedule_plateau_step(&t->sched, t->sched.plateau.metric_acc ? rec->test_acc : rec->test_loss);
    }
    rec->seconds = lr_now() - t0;
    t->seconds += rec->seconds;
    t->next_epoch = epoch + 1;
    r->epochs_done = epoch + 1;
    r->seconds = t->seconds;
    r->train_images_per_s = t->train_time > 0 ? t->train_images / t->train_time : 0;
    r->eval_images_per_s = t->eval_time > 0 ? t->eval_images / t->eval_time : 0;
    if (last && r->status == RUN_RUNNING) r->status = RUN_FINISHED;
    if (hooks && hooks->on_epoch) hooks->on_epoch(hooks->ctx, r);
    if (r->status == RUN_RUNNING && hooks && hooks->after_epoch && hooks->after_epoch(hooks->ctx, r))
        r->status = RUN_PRUNED;
    return r->status;
}

void trainer_promote(trainer *t) {
    if (t->r.status == RUN_PRUNED && t->next_epoch < t->cfg.epochs) t->r.status = RUN_RUNNING;
}

void trainer_take_result(trainer *t, run_result *out) {
    *out = t->r;
    memset(&t->r, 0, sizeof t->r);
}

void trainer_destroy(trainer *t) {
    if (!t) return;
    loader_destroy(t->train_ld);
    loader_destroy(t->test_ld);
    pool_destroy(t->p);
    for (int i = 0; i < t->T; i++) {
        model_ws_free(&t->ws[i]);
        free(t->xbuf[i]);
    }
    free(t->xbuf);
    free(t->ws);
    if (t->batched) {
        model_batch_free(&t->mb);
        free(t->xgroups);
        free(t->xg);
        free(t->nvalid);
    }
    free(t->train_cm);
    free(t->pred);
    free(t->loss);
    free(t->grad_slots);
    optim_free(&t->opt);
    free(t->grads);
    run_result_free(&t->r);
    free(t);
}

// ---------------------------------------------------------------- state

// The state, little-endian, field by field (no struct padding reaches the file).
typedef struct {
    uint8_t *p;
    size_t len, cap;
} state_buf;

static void sb_put(state_buf *b, const void *src, size_t n) {
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n) cap *= 2;
        b->p = lr_realloc(b->p, cap);
        b->cap = cap;
    }
    memcpy(b->p + b->len, src, n);
    b->len += n;
}
static void sb_u64(state_buf *b, uint64_t v) {
    uint8_t x[8];
    for (int i = 0; i < 8; i++) x[i] = (uint8_t)(v >> (8 * i));
    sb_put(b, x, 8);
}
static void sb_i64(state_buf *b, int64_t v) { sb_u64(b, (uint64_t)v); }
static void sb_f64(state_buf *b, double v) {
    uint64_t u;
    memcpy(&u, &v, 8);
    sb_u64(b, u);
}
static void sb_f32s(state_buf *b, const float *v, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        uint8_t x[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16), (uint8_t)(u >> 24)};
        sb_put(b, x, 4);
    }
}

typedef struct {
    const uint8_t *p;
    size_t len, at;
    int bad;
} state_rd;

static uint64_t rd_u64(state_rd *r) {
    if (r->bad || r->len - r->at < 8) {
        r->bad = 1;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)r->p[r->at + i] << (8 * i);
    r->at += 8;
    return v;
}
static int64_t rd_i64(state_rd *r) { return (int64_t)rd_u64(r); }
static double rd_f64(state_rd *r) {
    uint64_t u = rd_u64(r);
    double v;
    memcpy(&v, &u, 8);
    return v;
}
static void rd_f32s(state_rd *r, float *v, size_t n) {
    if (r->bad || (r->len - r->at) / 4 < n) {
        r->bad = 1;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const uint8_t *x = r->p + r->at + 4 * i;
        uint32_t u = (uint32_t)x[0] | (uint32_t)x[1] << 8 | (uint32_t)x[2] << 16 | (uint32_t)x[3] << 24;
        memcpy(&v[i], &u, 4);
    }
    r->at += 4 * n;
}

size_t trainer_state_size(const trainer *t) {
    const run_result *r = &t->r;
    size_t K = (size_t)r->num_classes;
    return 8 * 16 + 4 * (model_state_floats(&r->model) + t->opt.n * optim_state_floats(&t->cfg)) +
           (size_t)t->cfg.epochs * 8 * 10 + 8 * K * K;
}

void trainer_save(const trainer *t, uint8_t **out, size_t *len) {
    const run_result *r = &t->r;
    state_buf b = {0};
    sb_i64(&b, r->status);
    sb_i64(&b, t->next_epoch);
    sb_i64(&b, r->diverged_epoch);
    sb_i64(&b, r->has_test_cm);
    sb_i64(&b, t->step);
    sb_i64(&b, t->opt.steps);
    // ReduceLROnPlateau's state: the rest of the schedule follows from the configuration.
    const plateau_state *pl = &t->sched.plateau;
    sb_f64(&b, pl->lr);
    sb_f64(&b, pl->best);
    sb_i64(&b, pl->num_bad_epochs);
    sb_i64(&b, pl->cooldown_counter);
    sb_i64(&b, pl->last_epoch);
    sb_f64(&b, t->seconds);
    sb_f64(&b, t->train_time);
    sb_f64(&b, t->eval_time);
    sb_i64(&b, t->train_images);
    sb_i64(&b, t->eval_images);
    sb_f32s(&b, r->params, model_state_floats(&r->model)); // parameters, then buffers
    sb_f32s(&b, t->opt.mem, t->opt.n * optim_state_floats(&t->cfg));
    for (int i = 0; i < t->next_epoch; i++) {
        const epoch_record *x = &r->epochs[i];
        sb_i64(&b, x->epoch);
        sb_f64(&b, x->lr);
        sb_f64(&b, x->train_loss);
        sb_f64(&b, x->train_acc);
        sb_f64(&b, x->train_f1);
        sb_i64(&b, x->has_test);
        sb_f64(&b, x->test_loss);
        sb_f64(&b, x->test_acc);
        sb_f64(&b, x->test_f1);
        sb_f64(&b, x->seconds);
    }
    for (size_t i = 0; i < (size_t)r->num_classes * (size_t)r->num_classes; i++) sb_i64(&b, r->test_cm[i]);
    LR_ASSERT(b.len <= trainer_state_size(t));
    *out = b.p;
    *len = b.len;
}

int trainer_restore(trainer *t, const uint8_t *p, size_t len, lr_err *e) {
    run_result *r = &t->r;
    state_rd rd = {.p = p, .len = len};
    int64_t status = rd_i64(&rd), next = rd_i64(&rd), div = rd_i64(&rd), has_cm = rd_i64(&rd);
    int64_t step = rd_i64(&rd), opt_steps = rd_i64(&rd);
    if (rd.bad) return lr_fail(e, "the state ends early");
    if (status < RUN_RUNNING || status > RUN_PRUNED || status == RUN_INTERRUPTED || status == RUN_FAILED)
        return lr_fail(e, "status %lld is not one a checkpoint holds", (long long)status);
    if (next < 1 || next > t->cfg.epochs)
        return lr_fail(e, "%lld epochs done, expected 1 to %d", (long long)next, t->cfg.epochs);
    if (div < 0 || div > next || has_cm < 0 || has_cm > 1)
        return lr_fail(e, "diverged epoch %lld out of range", (long long)div);
    const int cut = status == RUN_FINISHED && t->cfg.max_steps > 0 && step == t->cfg.max_steps; // ended by max_steps
    if (step != next * r->steps_per_epoch && status != RUN_DIVERGED && !cut)
        return lr_fail(e, "%lld optimiser steps for %lld epochs of %d", (long long)step, (long long)next,
                       r->steps_per_epoch);
    if (step < 0 || step > next * r->steps_per_epoch || opt_steps != step)
        return lr_fail(e, "optimiser step count %lld out of range", (long long)opt_steps);
    plateau_state pl = t->sched.plateau;
    pl.lr = rd_f64(&rd);
    pl.best = rd_f64(&rd);
    pl.num_bad_epochs = (int)rd_i64(&rd);
    pl.cooldown_counter = (int)rd_i64(&rd);
    pl.last_epoch = (int)rd_i64(&rd);
    double seconds = rd_f64(&rd), train_time = rd_f64(&rd), eval_time = rd_f64(&rd);
    int64_t train_images = rd_i64(&rd), eval_images = rd_i64(&rd);
    size_t of = t->opt.n * optim_state_floats(&t->cfg);
    const size_t S = model_state_floats(&r->model);
    float *params = lr_aligned_alloc(S * sizeof(float));
    float *mem = lr_aligned_alloc((of > 0 ? of : 1) * sizeof(float));
    rd_f32s(&rd, params, S);
    rd_f32s(&rd, mem, of);
    epoch_record *recs = lr_calloc((size_t)t->cfg.epochs, sizeof *recs);
    for (int i = 0; i < next && !rd.bad; i++) {
        epoch_record *x = &recs[i];
        x->epoch = (int)rd_i64(&rd);
        x->lr = rd_f64(&rd);
        x->train_loss = rd_f64(&rd);
        x->train_acc = rd_f64(&rd);
        x->train_f1 = rd_f64(&rd);
        x->has_test = (int)rd_i64(&rd);
        x->test_loss = rd_f64(&rd);
        x->test_acc = rd_f64(&rd);
        x->test_f1 = rd_f64(&rd);
        x->seconds = rd_f64(&rd);
        if (!rd.bad && (x->epoch != i + 1 || (x->has_test != 0 && x->has_test != 1))) {
            lr_fail(e, "epoch record %d is numbered %d", i + 1, x->epoch);
            rd.bad = 2;
        }
    }
    size_t KK = (size_t)r->num_classes * (size_t)r->num_classes;
    int64_t *cm = lr_calloc(KK, sizeof *cm);
    for (size_t i = 0; i < KK; i++) cm[i] = rd_i64(&rd);
    if (rd.bad || rd.at != len) {
        if (rd.bad != 2) lr_fail(e, rd.bad ? "the state ends early" : "%zu bytes left over after the state",
                                 len - rd.at);
        free(params);
        free(mem);
        free(recs);
        free(cm);
        return -1;
    }
    r->status = (run_status)status;
    r->diverged_epoch = (int)div;
    r->has_test_cm = (int)has_cm;
    r->epochs_done = (int)next;
    free(r->params);
    r->params = params;
    memcpy(t->opt.mem, mem, of * sizeof(float));
    free(mem);
    t->opt.steps = opt_steps;
    free(r->epochs);
    r->epochs = recs;
    free(r->test_cm);
    r->test_cm = cm;
    t->sched.plateau = pl;
    t->step = step;
    t->next_epoch = (int)next;
    t->seconds = seconds;
    t->train_time = train_time;
    t->eval_time = eval_time;
    t->train_images = train_images;
    t->eval_images = eval_images;
    r->seconds = seconds;
    r->train_images_per_s = train_time > 0 ? train_images / train_time : 0;
    r->eval_images_per_s = eval_time > 0 ? eval_images / eval_time : 0;
    return 0;
}

int train_run(const run_config *cfg, const dataset *train, const dataset *test,
              const dataset_info *info, const train_hooks *hooks, run_result *r, lr_err *e) {
    memset(r, 0, sizeof *r);
    r->status = RUN_FAILED;
    trainer *t = trainer_create(cfg, train, test, info, e);
    if (!t) return -1;
    double start = lr_now();
    while (trainer_epoch(t, hooks) == RUN_RUNNING) {}
    trainer_take_result(t, r);
    r->seconds = lr_now() - start; // the whole run, the interrupted epoch included
    trainer_destroy(t);
    return 0;
}

int train_evaluate(const model_desc *m, const float *params, const dataset *d,
                   const dataset_info *info, const char *isa, int threads, double *loss,
                   int64_t *cm, lr_err *e) {
    if (d->c != m->in_c || d->h != m->in_h || d->w != m->in_w || d->num_classes != m->num_classes)
        return lr_fail(e, "the data are %dx%dx%d images of %d classes, the model takes %dx%dx%d "
                          "inputs and has %d classes", d->c, d->h, d->w, d->num_classes, m->in_c,
                       m->in_h, m->in_w, m->num_classes);
    if (d->n < 1) return lr_fail(e, "no images to evaluate");
    const kernel_table *kt = kernels_select(isa, e);
    if (!kt) return -1;
    const int T = threads > 0 ? threads : train_default_threads(), eval_batch = 1024; // as train_run
    const int max_groups = (eval_batch + LANES - 1) / LANES;
    float *losses = lr_aligned_alloc((size_t)max_groups * LANES * sizeof(float));
    int *pred = lr_calloc((size_t)max_groups * LANES, sizeof(int));
    model_ws *ws = lr_calloc((size_t)T, sizeof *ws);
    float **xbuf = lr_calloc((size_t)T, sizeof *xbuf);
    const size_t img_floats = (size_t)d->c * d->h * d->w * LANES;
    for (int t = 0; t < T; t++) {
        model_ws_alloc(&ws[t], m);
        xbuf[t] = lr_aligned_alloc(img_floats * sizeof(float));
    }
    pool *p = pool_create(T);
    loader *ld = loader_create(d, info, eval_batch, 0, 0, T < pool_cores());
    loader_set_isa(ld, isa);
    step_ctx s = {.m = m, .kt = kt, .params = params, .ws = ws, .loss = losses, .pred = pred,
                  .xbuf = xbuf, .img_floats = img_floats};
    *loss = evaluate(&s, p, ld, cm);
    loader_destroy(ld);
    pool_destroy(p);
    for (int t = 0; t < T; t++) {
        model_ws_free(&ws[t]);
        free(xbuf[t]);
    }
    free(xbuf);
    free(ws);
    free(pred);
    free(losses);
    return 0;
}

void run_result_free(run_result *r) {
    free(r->epochs);
    free(r->test_cm);
    free(r->params);
    memset(r, 0, sizeof *r);
}

// ---- per-image probabilities (ensembles) ----

// What the threads share for one batch of train_predict_probs: the forward
// pass and softmax_xent exactly as step_worker runs them in evaluation, plus
// each image's softmax written at its data set index.
typedef struct {
    const model_desc *m;
    const kernel_table *kt;
    const float *params;
    const batch *b;
    const loader *ld;
    float **xbuf;        // (threads) one group's input each
    size_t img_floats;   // one group's input (C, H, W, L)
    model_ws *ws;        // (threads)
    float *loss;         // (groups * L) per image
    int *pred;           // (groups * L)
    float *probs;        // (data set images, classes)
    atomic_int next;
} probs_ctx;

static void probs_worker(void *arg, int tid, int nthreads) {
    probs_ctx *s = arg;
    model_ws *ws = &s->ws[tid];
    const int K = s->m->num_classes;
    (void)nthreads;
    for (int g; (g = atomic_fetch_add_explicit(&s->next, 1, memory_order_relaxed)) < s->b->groups;) {
        const float *x;
        if (s->b->x) {
            x = s->b->x + (size_t)g * s->img_floats;
        } else {
            loader_fill_group(s->ld, s->b, g, s->xbuf[tid]);
            x = s->xbuf[tid];
        }
        const float *logits = model_forward(s->m, s->kt, s->params, ws, x); // (K, L)
        const int *labels = s->b->labels + (size_t)g * LANES;
        softmax_xent(ws->dlogits, s->loss + (size_t)g * LANES, s->pred + (size_t)g * LANES, logits, labels, K,
                     1.0f / (float)s->b->n);
        // The softmax softmax_xent takes its gradient from: exp(logit - max - log sum exp).
        for (int l = 0; l < LANES; l++) {
            if (labels[l] < 0) continue;
            float mx = logits[l];
            for (int k = 1; k < K; k++) {
                float v = logits[k * LANES + l];
                if (v > mx || (isnan(v) && !isnan(mx))) mx = v;
            }
            float sum = 0.0f;
            for (int k = 0; k < K; k++) sum += expf(logits[k * LANES + l] - mx);
            float logsum = logf(sum);
            float *p = s->probs + (size_t)s->b->index[(size_t)g * LANES + l] * K;
            for (int k = 0; k < K; k++) p[k] = expf(logits[k * LANES + l] - mx - logsum);
        }
    }
}

int train_predict_probs(const model_desc *m, const float *params, const dataset *d, const dataset_info *info,
                        const char *isa, int threads, float *probs, double *loss, int64_t *cm, lr_err *e) {
    if (d->c != m->in_c || d->h != m->in_h || d->w != m->in_w || d->num_classes != m->num_classes)
        return lr_fail(e, "the data are %dx%dx%d images of %d classes, the model takes %dx%dx%d "
                          "inputs and has %d classes", d->c, d->h, d->w, d->num_classes, m->in_c,
                       m->in_h, m->in_w, m->num_classes);
    if (d->n < 1) return lr_fail(e, "no images to evaluate");
    const kernel_table *kt = kernels_select(isa, e);
    if (!kt) return -1;
    const int K = m->num_classes;
    const int T = threads > 0 ? threads : train_default_threads(), eval_batch = 1024; // as train_evaluate
    const int max_groups = (eval_batch + LANES - 1) / LANES;
    float *losses = lr_aligned_alloc((size_t)max_groups * LANES * sizeof(float));
    int *pred = lr_calloc((size_t)max_groups * LANES, sizeof(int));
    model_ws *ws = lr_calloc((size_t)T, sizeof *ws);
    float **xbuf = lr_calloc((size_t)T, sizeof *xbuf);
    int64_t *tally_cm = lr_calloc((size_t)K * K, sizeof *tally_cm);
    const size_t img_floats = (size_t)d->c * d->h * d->w * LANES;
    for (int t = 0; t < T; t++) {
        model_ws_alloc(&ws[t], m);
        xbuf[t] = lr_aligned_alloc(img_floats * sizeof(float));
    }
    pool *p = pool_create(T);
    loader *ld = loader_create(d, info, eval_batch, 0, 0, T < pool_cores());
    loader_set_isa(ld, isa);
    probs_ctx s = {.m = m, .kt = kt, .params = params, .ws = ws, .loss = losses, .pred = pred,
                   .xbuf = xbuf, .img_floats = img_floats, .probs = probs, .ld = ld};
    double loss_sum = 0.0; // per-image losses in image order, as evaluate()
    int n = 0;
    loader_start_epoch(ld, 0);
    for (const batch *b; (b = loader_next(ld)) != NULL;) {
        s.b = b;
        atomic_store(&s.next, 0);
        pool_run(p, probs_worker, &s);
        loss_sum += tally(b, losses, pred, tally_cm, K);
        n += b->n;
    }
    LR_ASSERT(n == d->n);
    if (loss) *loss = loss_sum / n;
    if (cm) memcpy(cm, tally_cm, (size_t)K * K * sizeof *cm);
    loader_destroy(ld);
    pool_destroy(p);
    for (int t = 0; t < T; t++) {
        model_ws_free(&ws[t]);
        free(xbuf[t]);
    }
    free(tally_cm);
    free(xbuf);
    free(ws);
    free(pred);
    free(losses);
    return 0;
}
