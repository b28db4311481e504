// bench_resnet.c: `make bench`'s ResNet figures: training images/s (forward,
// backward, the gradient reduction and an SGD step with momentum 0.9 and
// weight decay 1e-4, batch 128, through model_batch) and evaluation images/s
// on random inputs (arithmetic only, as tools/bench_torch.py --model
// resnet20 measures PyTorch), the share of this machine's FP32 FMA peak
// (measured with an FMA loop on every thread), and the process's peak RSS.
//
//   build/bench/bench_resnet [--model resnet20] [--threads 2] [--isa auto]
//                            [--batch 128] [--seconds 8] [--peak-gflops X] [--convs]
// prints one line: RESNET key=value ...
#include "../src/model/layers.h"
#include "../src/model/model_batch.h"
#include "../src/util/rng.h"

#include <immintrin.h>
#include <math.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>


// CPU seconds this process has used (all threads).
static double cpu_seconds(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// 12 independent FMA chains per thread: enough to fill two FMA pipes of
// 4-5 cycles latency. Returns GFLOP/s of this thread.
__attribute__((target("avx2,fma"))) static double fma_loop(long iters) {
    __m256 a0 = _mm256_set1_ps(0.f), a1 = _mm256_set1_ps(1.f), a2 = _mm256_set1_ps(2.f), a3 = _mm256_set1_ps(3.f);
    __m256 a4 = _mm256_set1_ps(4.f), a5 = _mm256_set1_ps(5.f), a6 = _mm256_set1_ps(6.f), a7 = _mm256_set1_ps(7.f);
    __m256 a8 = _mm256_set1_ps(8.f), a9 = _mm256_set1_ps(9.f), a10 = _mm256_set1_ps(10.f), a11 = _mm256_set1_ps(11.f);
    const __m256 x = _mm256_set1_ps(0.9999999f), y = _mm256_set1_ps(1e-7f);
    struct timespec t0, t1; // this thread's CPU time: the core's peak even on a shared machine
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
    for (long n = 0; n < iters; n++) {
        a0 = _mm256_fmadd_ps(a0, x, y), a1 = _mm256_fmadd_ps(a1, x, y), a2 = _mm256_fmadd_ps(a2, x, y);
        a3 = _mm256_fmadd_ps(a3, x, y), a4 = _mm256_fmadd_ps(a4, x, y), a5 = _mm256_fmadd_ps(a5, x, y);
        a6 = _mm256_fmadd_ps(a6, x, y), a7 = _mm256_fmadd_ps(a7, x, y), a8 = _mm256_fmadd_ps(a8, x, y);
        a9 = _mm256_fmadd_ps(a9, x, y), a10 = _mm256_fmadd_ps(a10, x, y), a11 = _mm256_fmadd_ps(a11, x, y);
    }
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
    double t = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    __m256 s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
    if (s[0] == 12345.0f) printf(" "); // use the result
    return 12.0 * 8 * 2 * (double)iters / t / 1e9;
}

typedef struct { double gflops[64]; long iters; } peak_arg;

static void peak_worker(void *arg, int tid, int nthreads) {
    (void)nthreads;
    peak_arg *a = arg;
    double best = 0;
    for (int r = 0; r < 3; r++) {
        double g = fma_loop(a->iters);
        if (g > best) best = g;
    }
    a->gflops[tid] = best;
}

typedef struct { float *p, *g, *v; size_t n; } sgd_arg;

// PyTorch's SGD: d = g + wd p; v = momentum v + d; p -= lr v (split by thread).
static void sgd_worker(void *arg, int tid, int nthreads) {
    sgd_arg *a = arg;
    size_t lo = a->n * tid / nthreads, hi = a->n * (tid + 1) / nthreads;
    for (size_t i = lo; i < hi; i++) {
        float d = a->g[i] + 1e-4f * a->p[i];
        a->v[i] = 0.9f * a->v[i] + d;
        a->p[i] -= 0.1f * a->v[i];
    }
}

typedef struct { float *grads; const float *slots; size_t n; int groups; } reduce_arg;

// grads = the groups' slots added in group order (split by parameter).
static void reduce_worker(void *arg, int tid, int nthreads) {
    reduce_arg *a = arg;
    size_t lo = a->n * tid / nthreads, hi = a->n * (tid + 1) / nthreads;
    memcpy(a->grads + lo, a->slots + lo, (hi - lo) * sizeof(float));
    for (int g = 1; g < a->groups; g++)
        for (size_t i = lo; i < hi; i++) a->grads[i] += a->slots[(size_t)g * a->n + i];
}

static double thread_cpu(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

// --convs: each ResNet-20 convolution shape alone on one group, one thread:
// forward and backward (input and weight gradients) GFLOP/s per CPU second.
static void bench_convs(const kernel_table *kt, double peak1) {
    static const int SH[][6] = { // C, H, OC, K, S, P
        {3, 32, 16, 3, 1, 1}, {16, 32, 16, 3, 1, 1}, {16, 32, 32, 3, 2, 1},
        {32, 16, 32, 3, 1, 1}, {32, 16, 64, 3, 2, 1}, {64, 8, 64, 3, 1, 1},
    };
    for (size_t i = 0; i < sizeof SH / sizeof *SH; i++) {
        const int C = SH[i][0], H = SH[i][1], OC = SH[i][2], K = SH[i][3], S = SH[i][4], P = SH[i][5];
        const int OH = conv_out_size(H, K, S, P);
        const size_t nin = (size_t)C * H * H * LANES, nout = (size_t)OC * OH * OH * LANES, nw = (size_t)OC * C * K * K;
        float *in = lr_aligned_alloc(nin * 4), *din = lr_aligned_alloc(nin * 4), *out = lr_aligned_alloc(nout * 4);
        float *w = lr_aligned_alloc(nw * 4), *dw = lr_aligned_alloc(nw * 4);
        float *scratch = lr_aligned_alloc((conv2_scratch_floats(C, H, H, OC, K, S, P) + LANES) * 4);
        for (size_t j = 0; j < nin; j++) in[j] = (float)(j % 7) * 0.1f;
        for (size_t j = 0; j < nout; j++) out[j] = (float)(j % 5) * 0.1f;
        for (size_t j = 0; j < nw; j++) w[j] = dw[j] = 0.01f;
        const double flop = 2.0 * nout * C * K * K; // one pass, all lanes
        double best[3] = {1e30, 1e30, 1e30};
        for (int r = 0; r < 20; r++) {
            double t0 = thread_cpu();
            kt->layers->conv2_forward(out, in, w, NULL, scratch, C, H, H, OC, K, S, P);
            double t1 = thread_cpu();
            kt->layers->conv2_backward(NULL, dw, NULL, out, in, w, scratch, C, H, H, OC, K, S, P);
            double t2 = thread_cpu();
            kt->layers->conv2_backward(din, dw, NULL, out, in, w, scratch, C, H, H, OC, K, S, P);
            double t3 = thread_cpu();
            best[0] = fmin(best[0], t1 - t0), best[1] = fmin(best[1], t2 - t1), best[2] = fmin(best[2], t3 - t2);
        }
        best[2] -= best[1]; // the input gradient alone
        printf("CONV %s C=%d H=%d OC=%d K=%d S=%d P=%d fwd_gflops=%.1f dw_gflops=%.1f din_gflops=%.1f (%% of one core: %.0f %.0f %.0f)\n",
               kt->isa, C, H, OC, K, S, P, flop / best[0] / 1e9, flop / best[1] / 1e9, flop / best[2] / 1e9,
               100 * flop / best[0] / 1e9 / peak1, 100 * flop / best[1] / 1e9 / peak1, 100 * flop / best[2] / 1e9 / peak1);
        free(in), free(din), free(out), free(w), free(dw), free(scratch);
    }
}

int main(int argc, char **argv) {
    const char *spec = "resnet20", *isa = "auto";
    int threads = 2, batch = 128;
    double seconds = 8, peak = 0;
    int convs = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--convs") == 0) {
            convs = 1;
            continue;
        }
        if (!v) {
            fprintf(stderr, "bench_resnet: %s needs a value\n", a);
            return 2;
        }
        if (strcmp(a, "--model") == 0) spec = v;
        else if (strcmp(a, "--isa") == 0) isa = v;
        else if (strcmp(a, "--threads") == 0) threads = atoi(v);
        else if (strcmp(a, "--batch") == 0) batch = atoi(v);
        else if (strcmp(a, "--seconds") == 0) seconds = atof(v);
        else if (strcmp(a, "--peak-gflops") == 0) peak = atof(v);
        else {
            fprintf(stderr, "bench_resnet: unknown option %s (expected --model, --isa, --threads, --batch, "
                            "--seconds or --peak-gflops)\n", a);
            return 2;
        }
        i++;
    }
    if (threads < 1 || threads > 64 || batch < 2 || seconds <= 0) {
        fprintf(stderr, "bench_resnet: expected --threads 1..64, --batch >= 2, --seconds > 0\n");
        return 2;
    }
    lr_err e;
    const kernel_table *kt = kernels_select(isa, &e);
    if (!kt) {
        fprintf(stderr, "bench_resnet: %s\n", e.msg);
        return 2;
    }
    model_desc m;
    if (model_build(&m, spec, 3, 32, 32, 10, &e) != 0) {
        fprintf(stderr, "bench_resnet: %s\n", e.msg);
        return 2;
    }
    const int groups = (batch + LANES - 1) / LANES;
    pool *p = pool_create(threads);
    if (peak <= 0) {
        peak_arg pa = {.iters = 20000000};
        pool_run(p, peak_worker, &pa);
        for (int t = 0; t < threads; t++) peak += pa.gflops[t];
    }
    if (convs) {
        bench_convs(kt, peak / threads);
        pool_destroy(p);
        return 0;
    }
    model_batch b;
    model_batch_init(&b, &m, groups);
    float *state = lr_aligned_alloc(model_state_floats(&m) * sizeof(float));
    model_init_params(&m, state, 1);
    float *slots = lr_aligned_alloc((size_t)groups * m.n_params * sizeof(float));
    float *grads = lr_aligned_alloc(m.n_params * sizeof(float));
    float *mom = lr_aligned_alloc(m.n_params * sizeof(float));
    memset(mom, 0, m.n_params * sizeof(float));
    const size_t img = (size_t)3 * 32 * 32;
    float *xl = lr_aligned_alloc((size_t)groups * img * LANES * sizeof(float));
    rng_state r;
    rng_seed(&r, 1, 0, 0);
    for (size_t i = 0; i < (size_t)groups * img * LANES; i++) xl[i] = 2.0f * rng_float(&r) - 1.0f;
    const float *xs[64];
    int nv[64];
    if (groups > 64) {
        fprintf(stderr, "bench_resnet: --batch at most %d\n", 64 * LANES);
        return 2;
    }
    for (int g = 0; g < groups; g++) {
        xs[g] = xl + (size_t)g * img * LANES;
        nv[g] = batch - g * LANES >= LANES ? LANES : batch - g * LANES;
    }
    // images/s by the clock, and per CPU second x threads: what the cores
    // would give without the other processes of a shared machine
    double rate[2] = {0, 0}, crate[2] = {0, 0}; // eval, train
    for (int train = 0; train <= 1; train++) {
        long steps = 0;
        double t0 = 0, c0 = 0;
        for (long it = 0;; it++) {
            if (it == 3) t0 = lr_now(), c0 = cpu_seconds(), steps = 0; // after warm-up
            model_batch_step st = {.train = train, .seed = 1, .step = (uint64_t)it};
            if (model_batch_forward(&b, kt, state, xs, nv, groups, &st, p, &e) != 0) {
                fprintf(stderr, "bench_resnet: %s\n", e.msg);
                return 2;
            }
            if (train) {
                for (int g = 0; g < groups; g++) {
                    int labels[LANES];
                    for (int l = 0; l < LANES; l++) labels[l] = l < nv[g] ? (g * LANES + l) % 10 : -1;
                    model_ws *ws = &b.ws[g];
                    softmax_xent(ws->dlogits, ws->loss, ws->pred, ws->act[m.n_layers], labels, 10, 1.0f / batch);
                }
                model_batch_backward(&b, kt, state, slots, groups, p);
                reduce_arg ra = {grads, slots, m.n_params, groups};
                pool_run(p, reduce_worker, &ra);
                sgd_arg sa = {state, grads, mom, m.n_params};
                pool_run(p, sgd_worker, &sa);
            }
            steps++;
            if (it >= 3 && lr_now() - t0 >= seconds / 2) break;
        }
        rate[train] = (double)steps * batch / (lr_now() - t0);
        crate[train] = (double)steps * batch * threads / (cpu_seconds() - c0);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    const double train_flop = m.flops_forward + m.flops_backward;
    const double gf = rate[1] * train_flop / 1e9;
    printf("RESNET model=%s isa=%s threads=%d batch=%d train_img_s=%.1f eval_img_s=%.1f "
           "train_img_cpu_s=%.1f eval_img_cpu_s=%.1f train_mflop_per_img=%.1f train_gflops=%.1f peak_gflops=%.1f "
           "pct_peak=%.1f pct_peak_cpu=%.1f maxrss_mb=%.1f\n",
           spec, kt->isa, threads, batch, rate[1], rate[0], crate[1], crate[0], train_flop / 1e6, gf, peak,
           100.0 * gf / peak, 100.0 * crate[1] * train_flop / 1e9 / peak,
           ru.ru_maxrss / 1024.0);
    free(state), free(slots), free(grads), free(mom), free(xl);
    model_batch_free(&b);
    pool_destroy(p);
    return 0;
}
