// bench.c: `make bench`: lrscope's speed on the seed network and real
// CIFAR-10: time per layer forward and backward per ISA, training and
// evaluation images/s per ISA and thread count, share of FP32 peak, and
// (with --study) the whole default study's wall time and peak memory.
//
//   build/bench/bench [--data DIR] [--epochs N] [--study] [--peak-gflops X]
#include "../src/data/dataset.h"
#include "../src/data/augment.h"
#include "../src/data/loader.h"
#include "../src/model/model.h"
#include "../src/train/pool.h"
#include "../src/train/train.h"
#include "../src/util/rng.h"

#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static double time_layer(void (*fn)(void *), void *arg, int reps) {
    fn(arg); // warm up
    double best = 1e30;
    for (int r = 0; r < 5; r++) {
        double t0 = lr_now();
        for (int i = 0; i < reps; i++) fn(arg);
        double t = (lr_now() - t0) / reps;
        if (t < best) best = t;
    }
    return best;
}

typedef struct {
    const model_desc *m;
    const kernel_table *kt;
    const layer *ly;
    int index;
    model_ws *ws;
    const float *params;
    float *grads;
} layer_arg;

static void run_forward(void *p) {
    layer_arg *a = p;
    const layer *ly = a->ly;
    const float *in = a->ws->act[a->index];
    float *out = a->ws->act[a->index + 1];
    switch (ly->kind) {
    case LAYER_CONV: a->kt->conv_forward(out, in, a->params + ly->w_off, a->params + ly->b_off, ly->c, ly->h, ly->w, ly->oc, ly->k); break;
    case LAYER_RELU: a->kt->relu_forward(out, in, a->m->act_floats[a->index]); break;
    case LAYER_MAXPOOL: a->kt->maxpool_forward(out, in, ly->c, ly->h, ly->w, ly->k); break;
    case LAYER_LINEAR: a->kt->linear_forward(out, in, a->params + ly->w_off, a->params + ly->b_off, ly->fan_in, ly->oc); break;
    default: break; // the seed network has only the layers above
    }
}

static void run_backward(void *p) {
    layer_arg *a = p;
    const layer *ly = a->ly;
    float *din = a->index > 0 ? a->ws->dact[0] : NULL;
    const float *dout = a->ws->dact[1];
    const float *in = a->ws->act[a->index], *out = a->ws->act[a->index + 1];
    switch (ly->kind) {
    case LAYER_CONV: a->kt->conv_backward(din, a->grads + ly->w_off, a->grads + ly->b_off, dout, in, a->params + ly->w_off, a->ws->scratch, ly->c, ly->h, ly->w, ly->oc, ly->k); break;
    case LAYER_RELU: if (din) a->kt->relu_backward(din, dout, out, a->m->act_floats[a->index]); break;
    case LAYER_MAXPOOL: if (din) a->kt->maxpool_backward(din, dout, in, out, ly->c, ly->h, ly->w, ly->k); break;
    case LAYER_LINEAR: a->kt->linear_backward(din, a->grads + ly->w_off, a->grads + ly->b_off, dout, in, a->params + ly->w_off, a->ws->scratch, ly->fan_in, ly->oc); break;
    default: break; // the seed network has only the layers above
    }
}

static const char *KIND[] = {"conv", "relu", "maxpool", "linear"};

static void bench_layers(const model_desc *m, const kernel_table *kt, double peak) {
    float *params = lr_aligned_alloc(m->n_params * 4), *grads = lr_aligned_alloc(m->n_params * 4);
    model_init_params(m, params, 1);
    model_ws ws;
    model_ws_alloc(&ws, m);
    rng_state r;
    rng_seed(&r, 5, 0, 0);
    float *x = lr_aligned_alloc(m->act_floats[0] * 4);
    for (size_t i = 0; i < m->act_floats[0]; i++) x[i] = 2 * rng_float(&r) - 1;
    model_forward(m, kt, params, &ws, x);
    for (size_t i = 0; i < m->max_act_floats; i++) ws.dact[1][i] = 2 * rng_float(&r) - 1;
    printf("\nper layer, %s, one thread (microseconds per image; GFLOP/s):\n", kt->isa);
    printf("  %-3s %-8s %-10s %10s %8s %10s %8s\n", "#", "layer", "output", "forward", "GF/s", "backward", "GF/s");
    double tf = 0, tb = 0;
    for (int i = 0; i < m->n_layers; i++) {
        const layer *ly = &m->layers[i];
        layer_arg a = {m, kt, ly, i, &ws, params, grads};
        double f = time_layer(run_forward, &a, 200) / LANES, b = time_layer(run_backward, &a, 200) / LANES;
        double macs = ly->kind == LAYER_CONV ? (double)ly->oc * ly->oh * ly->ow * ly->fan_in
                    : ly->kind == LAYER_LINEAR ? (double)ly->oc * ly->fan_in : 0;
        char shape[32];
        snprintf(shape, sizeof shape, "%dx%dx%d", ly->oc, ly->oh, ly->ow);
        printf("  %-3d %-8s %-10s %10.3f %8.1f %10.3f %8.1f\n", i, KIND[ly->kind], shape, f * 1e6,
               macs ? 2 * macs / f * 1e-9 : 0.0, b * 1e6, macs ? (i ? 4 : 2) * macs / b * 1e-9 : 0.0);
        tf += f;
        tb += b;
    }
    double fl = m->flops_forward + m->flops_backward;
    printf("  all layers: forward %.2f us, backward %.2f us per image = %.0f img/s/core (%.1f GFLOP/s, %.0f%% of one core's %.0f GFLOP/s peak)\n",
           tf * 1e6, tb * 1e6, 1 / (tf + tb), fl / (tf + tb) * 1e-9, 100 * fl / (tf + tb) * 1e-9 / peak, peak);
    model_ws_free(&ws);
    free(params);
    free(grads);
    free(x);
}

int main(int argc, char **argv) {
    const char *data = "../shared/datasets/cifar-10-batches-bin";
    int epochs = 2, study = 0;
    double peak = 238.0; // measured FMA peak per core, FP32 (see BENCHMARKS.md)
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--data") && i + 1 < argc) data = argv[++i];
        else if (!strcmp(argv[i], "--epochs") && i + 1 < argc) epochs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--peak-gflops") && i + 1 < argc) peak = atof(argv[++i]);
        else if (!strcmp(argv[i], "--study")) study = 1;
        else {
            fprintf(stderr, "usage: bench [--data DIR] [--epochs N] [--study] [--peak-gflops X]\n");
            return 2;
        }
    }
    const dataset_info *info = dataset_find("cifar10");
    dataset train, test;
    lr_err e;
    if (dataset_load(info, data, &train, &test, &e) != 0) {
        fprintf(stderr, "bench: %s\n", e.msg);
        return 2;
    }
    // As a study does: the test set is kept transformed unless the AVX-512 transform is there.
    if (!augment_avx512_usable("auto", test.w)) loader_prepare_lanes(&test, info, (size_t)256 << 20);
    model_desc m;
    model_build(&m, MODEL_SEED_SPEC, 3, 32, 32, 10, &e);
    printf("lrscope bench: seed ConvNet on CIFAR-10 (%d train, %d test), %d cores, kernels available: %s\n",
           train.n, test.n, pool_cores(), kernels_available());
    printf("model: %.3f MFLOP forward, %.3f MFLOP forward+backward per image\n", m.flops_forward * 1e-6,
           (m.flops_forward + m.flops_backward) * 1e-6);
    const char *isas[] = {"scalar", "avx2", "avx512"};
    for (int i = 0; i < 3; i++) {
        const kernel_table *kt = kernels_select(isas[i], &e);
        if (kt) bench_layers(&m, kt, peak);
    }
    printf("\nthroughput (best of 3 runs of %d epoch%s each, setups taken in turn; train includes transform\n"
           "and SGD update; eval is the best evaluation seen in those runs):\n",
           epochs, epochs == 1 ? "" : "s");
    printf("  %-7s %7s %9s %12s %12s %10s %9s\n", "isa", "threads", "loader", "train img/s", "eval img/s",
           "s/epoch", "of peak");
    // (threads, prefetch): one core; one core + a loader thread on the other; two cores.
    const int setups[3][2] = {{1, 0}, {1, 1}, {2, 0}};
    for (int i = 0; i < 3; i++) {
        if (!kernels_select(isas[i], &e)) continue;
        // Best of three per setup, the setups taken in turn (1, 1+loader, 2, 1, ...),
        // so that a slow moment of the shared machine hits them alike and the
        // ratios compare like with like.
        double best_train[3] = {0}, best_eval[3] = {0}, best_epoch[3] = {0};
        int reps = i == 0 ? 1 : 3;
        for (int rep = 0; rep < reps; rep++)
            for (int k = 0; k < 3; k++) {
                int t = setups[k][0], pf = setups[k][1];
                if (t > pool_cores() || (pf && pool_cores() < 2)) continue;
                if (i == 0 && k > 0) continue; // the scalar path is a reference, not a contender
                run_config c;
                config_defaults(&c);
                c.epochs = i == 0 ? 1 : epochs;
                c.threads = t;
                snprintf(c.prefetch, sizeof c.prefetch, "%s", pf ? "on" : "off");
                snprintf(c.isa, sizeof c.isa, "%s", isas[i]);
                run_result r;
                if (train_run(&c, &train, &test, info, NULL, &r, &e) != 0) {
                    fprintf(stderr, "bench: %s\n", e.msg);
                    return 2;
                }
                if (r.train_images_per_s > best_train[k]) {
                    best_train[k] = r.train_images_per_s;
                    best_epoch[k] = r.seconds / c.epochs;
                }
                if (r.eval_images_per_s > best_eval[k]) best_eval[k] = r.eval_images_per_s;
                run_result_free(&r);
            }
        for (int k = 0; k < 3; k++) {
            if (best_train[k] == 0) continue;
            int t = setups[k][0], pf = setups[k][1];
            double gf = best_train[k] * (m.flops_forward + m.flops_backward) * 1e-9;
            printf("  %-7s %7d %9s %12.0f %12.0f %10.3f %8.1f%%\n", isas[i], t, pf ? "thread" : "inline",
                   best_train[k], best_eval[k], best_epoch[k], 100 * gf / (peak * (t + pf)));
            printf("BENCH %s_t%d_%s train_img_s=%.0f eval_img_s=%.0f epoch_s=%.3f\n", isas[i], t,
                   pf ? "loader" : "inline", best_train[k], best_eval[k], best_epoch[k]);
        }
        if (best_train[0] > 0 && best_train[2] > 0)
            printf("  %-7s 2 threads / 1 thread (both inline): %.2fx\n", isas[i], best_train[2] / best_train[0]);
    }
    dataset_free(&train);
    dataset_free(&test);
    if (study) { // the whole default study as a user runs it, in a child process
        char out[] = "/tmp/lrscope-bench-XXXXXX";
        if (!mkdtemp(out)) return 2;
        char dir[256];
        snprintf(dir, sizeof dir, "%s/study", out);
        double t0 = lr_now();
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            if (!freopen("/dev/null", "w", stdout)) _exit(126); // its table: summary.csv below
            execl("build/lrscope", "lrscope", "run", "--data", data, "--out", dir, "--quiet", (char *)NULL);
            _exit(127);
        }
        int status;
        struct rusage ru;
        wait4(pid, &status, 0, &ru);
        double wall = lr_now() - t0;
        printf("\nwhole default study (lrscope run: 3 rates x 30 epochs, test every epoch, figures and report):\n");
        printf("  wall %.1f s, peak resident memory %.0f MB, exit status %d\n", wall, ru.ru_maxrss / 1024.0,
               WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        printf("BENCH study_wall_s=%.1f study_peak_rss_mb=%.0f\n", wall, ru.ru_maxrss / 1024.0);
        char cmd[512];
        snprintf(cmd, sizeof cmd, "cat %s/summary.csv; rm -rf %s", dir, out);
        fflush(stdout); // before the child writes to the same stdout
        if (system(cmd) != 0) fprintf(stderr, "bench: could not clean %s\n", out);
    }
    return 0;
}
