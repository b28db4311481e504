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
    }
    return "unknown";
}

int train_default_threads(void) { return pool_cores(); }

size_t train_memory_bytes(const model_desc *m, int batch_size, int threads) {
    size_t groups = ((size_t)batch_size + LANES - 1) / LANES, per_thread = 0;
    for (int i = 0; i <= m->n_layers; i++) per_thread += m->act_floats[i];
    per_thread += 2 * m->max_act_floats + m->scratch_floats;
    return sizeof(float) * (m->n_params * (3 + groups) + (size_t)(threads > 0 ? threads : pool_cores()) * per_thread);
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

int train_run(const run_config *cfg, const dataset *train, const dataset *test,
              const dataset_info *info, const train_hooks *hooks, run_result *r, lr_err *e) {
    memset(r, 0, sizeof *r);
    r->status = RUN_FAILED;
    if (model_build(&r->model, cfg->model, train->c, train->h, train->w, train->num_classes, e) != 0)
        return -1;
    const kernel_table *kt = kernels_select(cfg->isa, e);
    if (!kt) return -1;
    if (cfg->epochs < 1 || cfg->batch_size < 1 || cfg->eval_interval < 1)
        return lr_fail(e, "epochs, batch size and eval interval must be at least 1");
    // The schedule and the optimiser state: plain values, saved whole by a resume.
    r->steps_per_epoch = (train->n + cfg->batch_size - 1) / cfg->batch_size; // the loader's batches
    schedule sched;
    if (schedule_init(&sched, cfg, r->steps_per_epoch, e) != 0) return -1;
    optim_state opt;
    if (optim_init(&opt, cfg, r->model.n_params, e) != 0) return -1;
    const model_desc *m = &r->model;
    const int K = m->num_classes, T = cfg->threads > 0 ? cfg->threads : train_default_threads();
    const size_t P = m->n_params;
    r->isa = kt->isa;
    r->threads = T;
    r->num_classes = K;
    r->epochs = lr_calloc((size_t)cfg->epochs, sizeof *r->epochs);
    r->test_cm = lr_calloc((size_t)K * K, sizeof *r->test_cm);
    r->params = lr_aligned_alloc(P * sizeof(float));
    model_init_params(m, r->params, cfg->seed);

    const int eval_batch = 1024; // evaluation results do not depend on it
    int max_batch = cfg->batch_size > eval_batch ? cfg->batch_size : eval_batch;
    int max_groups = (max_batch + LANES - 1) / LANES;
    float *grads = lr_aligned_alloc(P * sizeof(float));
    float *grad_slots = lr_aligned_alloc((size_t)((cfg->batch_size + LANES - 1) / LANES) * P * sizeof(float));
    float *loss = lr_aligned_alloc((size_t)max_groups * LANES * sizeof(float));
    int *pred = lr_calloc((size_t)max_groups * LANES, sizeof(int));
    int64_t *train_cm = lr_calloc((size_t)K * K, sizeof *train_cm);
    model_ws *ws = lr_calloc((size_t)T, sizeof *ws);
    for (int t = 0; t < T; t++) model_ws_alloc(&ws[t], m);
    pool *p = pool_create(T);
    // With a core to spare the loader thread transforms the images ahead of
    // time; otherwise each compute thread transforms its own groups.
    int prefill = !strcmp(cfg->prefetch, "on") ? 1 : !strcmp(cfg->prefetch, "off") ? 0 : T < pool_cores();
    loader *train_ld = loader_create(train, info, cfg->batch_size, 1, cfg->seed, prefill);
    loader *test_ld = loader_create(test, info, eval_batch, 0, cfg->seed, prefill);
    loader_set_isa(train_ld, cfg->isa);
    LR_ASSERT(loader_num_batches(train_ld) == r->steps_per_epoch); // the schedule's clock
    loader_set_isa(test_ld, cfg->isa);
    float **xbuf = lr_calloc((size_t)T, sizeof *xbuf);
    for (int t = 0; t < T; t++) xbuf[t] = lr_aligned_alloc((size_t)train->c * train->h * train->w * LANES * sizeof(float));

    step_ctx s = {.m = m, .kt = kt, .params = r->params, .ws = ws, .grad_slots = grad_slots,
                  .loss = loss, .pred = pred, .xbuf = xbuf,
                  .img_floats = (size_t)train->c * train->h * train->w * LANES};
    long step = 0; // optimiser steps taken
    double run_start = lr_now(), train_time = 0.0, eval_time = 0.0;
    long long train_images = 0, eval_images = 0;
    r->status = RUN_RUNNING;
    for (int epoch = 0; epoch < cfg->epochs && r->status == RUN_RUNNING; epoch++) {
        double t0 = lr_now();
        epoch_record *rec = &r->epochs[epoch];
        rec->epoch = epoch + 1;
        rec->lr = NAN; // the rate of the epoch's first step
        memset(train_cm, 0, (size_t)K * K * sizeof *train_cm);
        double loss_sum = 0.0;
        int seen = 0, nb = loader_num_batches(train_ld);
        loader_start_epoch(train_ld, epoch);
        s.backward = 1;
        s.ld = train_ld;
        for (int bi = 0; bi < nb; bi++) {
            if (hooks && hooks->stop && *hooks->stop) {
                r->status = RUN_INTERRUPTED;
                break;
            }
            const batch *b = loader_next(train_ld);
            s.b = b;
            s.scale = 1.0f / (float)b->n;
            schedule_point sp;
            lr_err se;
            LR_ASSERT(schedule_at(&sched, step, &sp, &se) == 0); // a run never steps past its schedule
            if (hooks && hooks->step_lr) sp.lr = hooks->step_lr(hooks->ctx, step);
            if (bi == 0) rec->lr = sp.lr;
            update_ctx u = {.grad_slots = grad_slots, .grads = grads, .params = r->params, .P = P,
                            .groups = b->groups, .opt = &opt, .hyper = optim_hyper_from(cfg, &sp)};
            s.update = &u;
            atomic_store(&s.next, 0);
            atomic_store(&s.done, 0);
            pool_run(p, step_worker, &s); // forward, backward, gradient sum and optimiser step
            s.update = NULL;
            optim_step_done(&opt);
            step++;
            double batch_loss = tally(b, loss, pred, train_cm, K);
            loss_sum += batch_loss;
            seen += b->n;
            if (hooks && hooks->on_step && hooks->on_step(hooks->ctx, step - 1, sp.lr, batch_loss / b->n)) {
                r->status = RUN_FINISHED;
                break;
            }
            if (!isfinite(batch_loss)) {
                r->status = RUN_DIVERGED;
                r->diverged_epoch = epoch + 1;
                break;
            }
            if (hooks && hooks->on_batch)
                hooks->on_batch(hooks->ctx, epoch + 1, bi + 1, nb, loss_sum / seen,
                                seen / (lr_now() - t0));
        }
        loader_stop_epoch(train_ld);
        train_time += lr_now() - t0;
        train_images += seen;
        if (r->status == RUN_INTERRUPTED) break;
        rec->train_loss = seen ? loss_sum / seen : NAN;
        rec->train_acc = metrics_accuracy(train_cm, K);
        rec->train_f1 = metrics_macro_f1(train_cm, K);
        int last = epoch == cfg->epochs - 1;
        if (r->status == RUN_RUNNING && ((epoch + 1) % cfg->eval_interval == 0 || last)) {
            double te0 = lr_now();
            rec->test_loss = evaluate(&s, p, test_ld, r->test_cm);
            eval_time += lr_now() - te0;
            eval_images += test->n;
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
            if (r->status == RUN_RUNNING && schedule_feeds_plateau(&sched, epoch))
                schedule_plateau_step(&sched, sched.plateau.metric_acc ? rec->test_acc : rec->test_loss);
        }
        rec->seconds = lr_now() - t0;
        r->epochs_done = epoch + 1;
        if (last && r->status == RUN_RUNNING) r->status = RUN_FINISHED;
        if (hooks && hooks->on_epoch) hooks->on_epoch(hooks->ctx, r);
    }
    r->seconds = lr_now() - run_start;
    r->train_images_per_s = train_time > 0 ? train_images / train_time : 0;
    r->eval_images_per_s = eval_time > 0 ? eval_images / eval_time : 0;

    loader_destroy(train_ld);
    loader_destroy(test_ld);
    pool_destroy(p);
    for (int t = 0; t < T; t++) {
        model_ws_free(&ws[t]);
        free(xbuf[t]);
    }
    free(xbuf);
    free(ws);
    free(train_cm);
    free(pred);
    free(loss);
    free(grad_slots);
    optim_free(&opt);
    free(grads);
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
