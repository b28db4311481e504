// test_data.c: the CIFAR-10 loader on generated files, the augmentation
// against a plain torchvision-style reference, and the epoch loader (order,
// augmentation draws, batch layout, epochs started and stopped).
#include "test_util.h"

#include "../src/data/augment.h"
#include "../src/data/dataset.h"
#include "../src/data/loader.h"
#include "../src/model/kernels.h"

enum { IMG = 3 * 32 * 32, REC = 1 + IMG, N_PER_TRAIN = 7, N_TEST = 5 };

// Deterministic test bytes (not the code under test's generator).
static uint64_t mix(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}
static uint8_t byte_at(int file, int rec, int j) {
    return (uint8_t)(mix(((uint64_t)file << 40) ^ ((uint64_t)rec << 20) ^ (uint64_t)j) & 0xff);
}
static uint8_t label_at(int file, int rec) { return (uint8_t)((file * 3 + rec * 7) % 10); }

static const char *file_name(int b) {
    static const char *names[6] = {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                                   "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"};
    return names[b];
}

// Writes batch file b (0..4 train, 5 test) of n records into dir.
static void write_batch(const char *dir, int b, int n) {
    uint8_t *buf = malloc((size_t)n * REC + 1);
    assert_non_null(buf);
    for (int i = 0; i < n; i++) {
        uint8_t *r = buf + (size_t)i * REC;
        r[0] = label_at(b, i);
        for (int j = 0; j < IMG; j++) r[1 + j] = byte_at(b, i, j);
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, file_name(b));
    test_write_file(path, buf, (size_t)n * REC);
    free(buf);
}

static void write_good(const char *dir) {
    for (int b = 0; b < 5; b++) write_batch(dir, b, N_PER_TRAIN);
    write_batch(dir, 5, N_TEST);
}

static void path_in(char *out, size_t cap, const char *dir, const char *name) {
    snprintf(out, cap, "%s/%s", dir, name);
}

// Loads dir expecting failure; checks the message names `needle` and every
// string in `also`.
static void expect_load_fails(const char *dir, const char *needle, const char *also) {
    dataset train, test;
    lr_err e;
    memset(&e, 0, sizeof e);
    int rc = dataset_load(dataset_find("cifar10"), dir, &train, &test, &e);
    assert_int_equal(rc, -1);
    if (!strstr(e.msg, needle)) fail_msg("message does not name %s: \"%s\"", needle, e.msg);
    if (also && !strstr(e.msg, also)) fail_msg("message lacks \"%s\": \"%s\"", also, e.msg);
    // dataset_load leaves the structs empty on failure
    assert_null(train.pixels);
    assert_null(test.pixels);
}

// ---------------------------------------------------------------- CIFAR-10 files

static void test_cifar10_good_folder(void **state) {
    (void)state;
    char dir[4096];
    test_mkdtemp(dir, sizeof dir);
    write_good(dir);
    const char *meta = "plane\ncar\nbirdie\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n";
    char path[4200];
    path_in(path, sizeof path, dir, "batches.meta.txt");
    test_write_file(path, meta, strlen(meta));

    dataset train, test;
    lr_err e;
    const dataset_info *info = dataset_find("cifar10");
    assert_non_null(info);
    if (dataset_load(info, dir, &train, &test, &e) != 0) fail_msg("load failed: %s", e.msg);
    assert_int_equal(train.n, 5 * N_PER_TRAIN);
    assert_int_equal(test.n, N_TEST);
    assert_int_equal(train.c, 3);
    assert_int_equal(train.h, 32);
    assert_int_equal(train.w, 32);
    assert_int_equal(train.num_classes, 10);
    assert_int_equal(test.num_classes, 10);
    for (int b = 0; b < 5; b++)
        for (int i = 0; i < N_PER_TRAIN; i++) {
            int k = b * N_PER_TRAIN + i; // files are concatenated in order
            assert_int_equal(train.labels[k], label_at(b, i));
            const uint8_t *px = train.pixels + (size_t)k * IMG;
            for (int j = 0; j < IMG; j++)
                if (px[j] != byte_at(b, i, j))
                    fail_msg("train image %d byte %d: got %d, expected %d", k, j, px[j], byte_at(b, i, j));
        }
    for (int i = 0; i < N_TEST; i++) {
        assert_int_equal(test.labels[i], label_at(5, i));
        for (int j = 0; j < IMG; j++) assert_int_equal(test.pixels[(size_t)i * IMG + j], byte_at(5, i, j));
    }
    assert_string_equal(train.class_names[0], "plane");
    assert_string_equal(train.class_names[1], "car");
    assert_string_equal(train.class_names[2], "birdie");
    assert_string_equal(train.class_names[9], "truck");
    assert_string_equal(test.class_names[2], "birdie");
    dataset_free(&train);
    dataset_free(&test);

    // Without batches.meta.txt the standard names are used.
    remove(path);
    if (dataset_load(info, dir, &train, &test, &e) != 0) fail_msg("load failed: %s", e.msg);
    assert_string_equal(train.class_names[0], "airplane");
    assert_string_equal(train.class_names[2], "bird");
    assert_string_equal(test.class_names[9], "truck");
    dataset_free(&train);
    dataset_free(&test);
    test_rmtree(dir);
}

static void test_cifar10_missing_file(void **state) {
    (void)state;
    char dir[4096], path[4200];
    test_mkdtemp(dir, sizeof dir);
    write_good(dir);
    path_in(path, sizeof path, dir, "data_batch_3.bin");
    remove(path);
    expect_load_fails(dir, "data_batch_3.bin", "expected");
    write_batch(dir, 2, N_PER_TRAIN);
    path_in(path, sizeof path, dir, "test_batch.bin");
    remove(path);
    expect_load_fails(dir, "test_batch.bin", "expected");
    test_rmtree(dir);
}

static void test_cifar10_truncated_file(void **state) {
    (void)state;
    char dir[4096], path[4200];
    test_mkdtemp(dir, sizeof dir);
    write_good(dir);
    // data_batch_2.bin cut in the middle of its last record
    path_in(path, sizeof path, dir, "data_batch_2.bin");
    assert_int_equal(truncate(path, (off_t)N_PER_TRAIN * REC - 100), 0);
    expect_load_fails(dir, "data_batch_2.bin", "3,073");
    expect_load_fails(dir, "data_batch_2.bin", "expected");
    test_rmtree(dir);
}

static void test_cifar10_empty_file(void **state) {
    (void)state;
    char dir[4096], path[4200];
    test_mkdtemp(dir, sizeof dir);
    write_good(dir);
    path_in(path, sizeof path, dir, "test_batch.bin");
    test_write_file(path, "", 0);
    expect_load_fails(dir, "test_batch.bin", "expected");
    test_rmtree(dir);
}

static void test_cifar10_label_out_of_range(void **state) {
    (void)state;
    char dir[4096], path[4200];
    test_mkdtemp(dir, sizeof dir);
    write_good(dir);
    // record 3 of data_batch_4.bin gets label 10
    path_in(path, sizeof path, dir, "data_batch_4.bin");
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, 3L * REC, SEEK_SET), 0);
    assert_int_equal(fputc(10, f), 10);
    fclose(f);
    expect_load_fails(dir, "data_batch_4.bin", "label 10");
    expect_load_fails(dir, "data_batch_4.bin", "0..9");
    test_rmtree(dir);
}

static void test_cifar10_uneven_train_files(void **state) {
    (void)state;
    char dir[4096];
    test_mkdtemp(dir, sizeof dir);
    write_good(dir);
    write_batch(dir, 4, N_PER_TRAIN - 2); // cut at a record boundary
    expect_load_fails(dir, "data_batch_5.bin", "expected");
    test_rmtree(dir);
}

static void test_cifar10_missing_folder(void **state) {
    (void)state;
    char dir[4096], gone[4200];
    test_mkdtemp(dir, sizeof dir);
    snprintf(gone, sizeof gone, "%s/not-here", dir);
    expect_load_fails(gone, gone, "expected");
    test_rmtree(dir);
}

// ---------------------------------------------------------------- augmentation

// torchvision: RandomCrop(H, padding=pad) pads with zeros (pixel value 0),
// crops at (top, left); RandomHorizontalFlip mirrors the crop; ToTensor
// divides by 255 in float; Normalize does (x - mean) / std in float.
static float reference_value(const uint8_t *src, int C, int H, int W, int pad, int top, int left,
                             int flip, const float *mean, const float *std, int c, int y, int x) {
    (void)C;
    int ph = H + 2 * pad, pw = W + 2 * pad;
    // the padded image, computed explicitly
    int cx = flip ? W - 1 - x : x;
    int py = y + top, px = cx + left;
    assert_true(py >= 0 && py < ph && px >= 0 && px < pw);
    uint8_t v = 0;
    if (py >= pad && py < pad + H && px >= pad && px < pad + W)
        v = src[((size_t)c * H + (py - pad)) * W + (px - pad)];
    float t = (float)v / 255.0f;
    return (t - mean[c]) / std[c];
}

static void check_augment_shape(int C, int H, int W, uint64_t seed) {
    const dataset_info *info = dataset_find("cifar10");
    const float mean[3] = {info->mean[0], info->mean[1], info->mean[2]};
    const float stdv[3] = {info->std[0], info->std[1], info->std[2]};
    float lut[3 * 256];
    augment_build_lut(lut, C, mean, stdv);
    size_t n = (size_t)C * H * W;
    uint8_t *src = malloc(n);
    float *dst = malloc(n * LANES * sizeof(float));
    assert_non_null(src);
    assert_non_null(dst);
    for (size_t i = 0; i < n; i++) src[i] = (uint8_t)(mix(seed * 1000003u + i) >> 17);
    const int pad = 4, lane = 5;
    int mismatches = 0;
    for (int top = 0; top <= 2 * pad; top++)
        for (int left = 0; left <= 2 * pad; left++)
            for (int flip = 0; flip < 2; flip++) {
                for (size_t i = 0; i < n * LANES; i++) dst[i] = -777.0f;
                augment_image(dst, lane, src, C, H, W, pad, top, left, flip, lut);
                for (int c = 0; c < C; c++)
                    for (int y = 0; y < H; y++)
                        for (int x = 0; x < W; x++) {
                            size_t at = (((size_t)c * H + y) * W + x) * LANES;
                            float want = reference_value(src, C, H, W, pad, top, left, flip, mean,
                                                         stdv, c, y, x);
                            if (dst[at + lane] != want && mismatches++ < 5)
                                print_error("C%d H%d W%d top %d left %d flip %d: (%d,%d,%d) got %.9g, "
                                            "expected %.9g\n", C, H, W, top, left, flip, c, y, x,
                                            (double)dst[at + lane], (double)want);
                            for (int l = 0; l < LANES; l++)
                                if (l != lane && dst[at + l] != -777.0f && mismatches++ < 5)
                                    print_error("lane %d written at (%d,%d,%d)\n", l, c, y, x);
                        }
            }
    free(src);
    free(dst);
    assert_int_equal(mismatches, 0);
}

static void test_augment_matches_reference(void **state) {
    (void)state;
    check_augment_shape(3, 32, 32, 1);
    check_augment_shape(1, 5, 7, 2);  // odd, non-square, smaller than the padding
    check_augment_shape(2, 9, 3, 3);
}

static void test_augment_plain_normalise(void **state) {
    (void)state;
    // pad 0, top = left = 0, no flip: ToTensor + Normalize only
    const float mean[3] = {0.4914f, 0.4822f, 0.4465f}, stdv[3] = {0.2023f, 0.1994f, 0.2010f};
    float lut[3 * 256];
    augment_build_lut(lut, 3, mean, stdv);
    for (int c = 0; c < 3; c++)
        for (int v = 0; v < 256; v++)
            assert_true(lut[c * 256 + v] == ((float)v / 255.0f - mean[c]) / stdv[c]);
    uint8_t src[3 * 4 * 4];
    for (int i = 0; i < 48; i++) src[i] = (uint8_t)(i * 5 + 3);
    float dst[48 * LANES];
    for (int i = 0; i < 48 * LANES; i++) dst[i] = 1e9f;
    augment_image(dst, 0, src, 3, 4, 4, 0, 0, 0, 0, lut);
    for (int i = 0; i < 48; i++) {
        int c = i / 16;
        assert_true(dst[i * LANES] == ((float)src[i] / 255.0f - mean[c]) / stdv[c]);
        assert_true(dst[i * LANES + 1] == 1e9f);
    }
    // and lane LANES-1
    augment_image(dst, LANES - 1, src, 3, 4, 4, 0, 0, 0, 1, lut); // flipped
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 4; x++) {
                int i = (c * 4 + y) * 4 + x, j = (c * 4 + y) * 4 + (3 - x);
                assert_true(dst[i * LANES + LANES - 1] == ((float)src[j] / 255.0f - mean[c]) / stdv[c]);
            }
}

// augment_group against the same reference, every lane with its own draws,
// some lanes empty (NULL: zeros). dst sits between guard zones that must
// stay untouched.
static int check_augment_group_shape(int C, int H, int W, int pad, uint64_t seed) {
    const dataset_info *info = dataset_find("cifar10");
    float lut[3 * 256];
    augment_build_lut(lut, C, info->mean, info->std);
    size_t n = (size_t)C * H * W, guard = (size_t)(4 * pad + 4) * W * LANES + 64;
    uint8_t *imgs = malloc(n * LANES);
    float *mem = malloc((n * LANES + 2 * guard) * sizeof(float));
    assert_non_null(imgs);
    assert_non_null(mem);
    float *dst = mem + guard;
    for (size_t i = 0; i < n * LANES; i++) imgs[i] = (uint8_t)(mix(seed * 7919u + i) >> 23);
    int bad = 0;
    for (int round = 0; round < 40; round++) {
        const uint8_t *src[LANES];
        uint8_t top[LANES], left[LANES], flip[LANES];
        for (int l = 0; l < LANES; l++) {
            uint64_t r = mix(seed ^ ((uint64_t)round << 8) ^ (uint64_t)l);
            // round 0 uses every lane; later rounds leave some empty
            src[l] = (round > 0 && r % 5 == 0) ? NULL : imgs + (size_t)l * n;
            top[l] = (uint8_t)((r >> 8) % (2 * pad + 1));
            left[l] = (uint8_t)((r >> 16) % (2 * pad + 1));
            flip[l] = (uint8_t)((r >> 24) & 1);
        }
        for (size_t i = 0; i < n * LANES + 2 * guard; i++) mem[i] = -555.0f;
        augment_group(dst, src, top, left, flip, C, H, W, pad, lut);
        for (size_t i = 0; i < guard; i++)
            if ((mem[i] != -555.0f || mem[guard + n * LANES + i] != -555.0f) && bad++ < 3)
                print_error("C%d H%d W%d pad %d: write outside the group\n", C, H, W, pad);
        for (int c = 0; c < C; c++)
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++)
                    for (int l = 0; l < LANES; l++) {
                        float want = src[l] ? reference_value(src[l], C, H, W, pad, top[l], left[l],
                                                              flip[l], info->mean, info->std, c, y, x)
                                            : 0.0f;
                        float got = dst[(((size_t)c * H + y) * W + x) * LANES + l];
                        if (got != want && bad++ < 3)
                            print_error("C%d H%d W%d pad %d lane %d (top %d left %d flip %d) at (%d,%d,%d): "
                                        "got %.9g, expected %.9g\n", C, H, W, pad, l, top[l], left[l],
                                        flip[l], c, y, x, (double)got, (double)want);
                    }
    }
    free(imgs);
    free(mem);
    return bad;
}

static void test_augment_group_matches_reference(void **state) {
    (void)state;
    assert_int_equal(check_augment_group_shape(3, 32, 32, 4, 1), 0);
    assert_int_equal(check_augment_group_shape(1, 28, 28, 0, 2), 0); // MNIST: no crop
    assert_int_equal(check_augment_group_shape(2, 9, 11, 4, 3), 0);
    assert_int_equal(check_augment_group_shape(1, 5, 5, 4, 4), 0);  // just wider than the padding
}

// Images narrower than the padding (torchvision handles them: the crop can
// lie entirely in the padding).
static void test_augment_group_image_narrower_than_padding(void **state) {
    (void)state;
    assert_int_equal(check_augment_group_shape(1, 6, 3, 4, 5), 0);
    assert_int_equal(check_augment_group_shape(3, 2, 2, 4, 6), 0);
}

// ---------------------------------------------------------------- epoch plan

static void plan(int n, int train, int pad, int hflip, uint64_t seed, int epoch, int *perm,
                 uint8_t *top, uint8_t *left, uint8_t *flip) {
    loader_plan_epoch(n, train, pad, hflip, seed, epoch, perm, top, left, flip);
}

static void assert_permutation(const int *perm, int n) {
    char *seen = calloc((size_t)n, 1);
    assert_non_null(seen);
    for (int i = 0; i < n; i++) {
        if (perm[i] < 0 || perm[i] >= n) fail_msg("perm[%d] = %d out of range", i, perm[i]);
        if (seen[perm[i]]) fail_msg("index %d appears twice", perm[i]);
        seen[perm[i]] = 1;
    }
    free(seen);
}

static void test_plan_epoch_train(void **state) {
    (void)state;
    enum { N = 2000 };
    static int p0[N], p1[N], p2[N], p3[N];
    static uint8_t t0[N], l0[N], f0[N], t1[N], l1[N], f1[N], t2[N], l2[N], f2[N], t3[N], l3[N], f3[N];
    plan(N, 1, 4, 1, 42, 0, p0, t0, l0, f0);
    plan(N, 1, 4, 1, 42, 1, p1, t1, l1, f1);
    plan(N, 1, 4, 1, 43, 0, p2, t2, l2, f2);
    plan(N, 1, 4, 1, 42, 0, p3, t3, l3, f3);
    assert_permutation(p0, N);
    assert_permutation(p1, N);
    assert_permutation(p2, N);
    // identical for the same (seed, epoch)
    assert_memory_equal(p0, p3, sizeof p0);
    assert_memory_equal(t0, t3, N);
    assert_memory_equal(l0, l3, N);
    assert_memory_equal(f0, f3, N);
    // different between epochs and between seeds
    assert_memory_not_equal(p0, p1, sizeof p0);
    assert_memory_not_equal(p0, p2, sizeof p0);
    assert_memory_not_equal(t0, t1, N);
    assert_memory_not_equal(t0, t2, N);
    assert_memory_not_equal(f0, f1, N);
    // shuffled, not the identity
    int fixed = 0;
    for (int i = 0; i < N; i++) fixed += p0[i] == i;
    assert_true(fixed < 20); // expected about 1
    // crop offsets cover [0, 2*pad], flips about half
    int top_hist[9] = {0}, left_hist[9] = {0}, flips = 0;
    for (int i = 0; i < N; i++) {
        assert_true(t0[i] <= 8);
        assert_true(l0[i] <= 8);
        assert_true(f0[i] == 0 || f0[i] == 1);
        top_hist[t0[i]]++;
        left_hist[l0[i]]++;
        flips += f0[i];
    }
    for (int v = 0; v <= 8; v++) {
        // binomial(2000, 1/9): mean 222, sd 14
        if (top_hist[v] < 150 || top_hist[v] > 300) fail_msg("top %d drawn %d times", v, top_hist[v]);
        if (left_hist[v] < 150 || left_hist[v] > 300) fail_msg("left %d drawn %d times", v, left_hist[v]);
    }
    if (flips < 850 || flips > 1150) fail_msg("%d flips of %d", flips, N);
    // top and left are separate draws
    int same = 0;
    for (int i = 0; i < N; i++) same += t0[i] == l0[i];
    assert_true(same < 400); // expected 222
}

static void test_plan_epoch_eval(void **state) {
    (void)state;
    enum { N = 300 };
    int perm[N];
    uint8_t top[N], left[N], flip[N];
    memset(top, 99, N);
    memset(left, 99, N);
    memset(flip, 99, N);
    plan(N, 0, 4, 1, 42, 3, perm, top, left, flip);
    for (int i = 0; i < N; i++) {
        assert_int_equal(perm[i], i);
        assert_int_equal(top[i], 4); // centred: no shift
        assert_int_equal(left[i], 4);
        assert_int_equal(flip[i], 0);
    }
    // training without crop or flip (MNIST-like) still shuffles, but never flips
    plan(N, 1, 0, 0, 42, 3, perm, top, left, flip);
    assert_permutation(perm, N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(top[i], 0);
        assert_int_equal(left[i], 0);
        assert_int_equal(flip[i], 0);
    }
}

// ---------------------------------------------------------------- loader

enum { LN = 50 };

static void make_dataset(dataset *d, int n) {
    dataset_alloc(d, n, 3, 32, 32, 10);
    for (int i = 0; i < n; i++) {
        d->labels[i] = (uint16_t)((i * 7 + 3) % 10);
        for (int j = 0; j < IMG; j++) d->pixels[(size_t)i * IMG + j] = byte_at(9, i, j);
    }
    dataset_default_class_names(d);
}

// Drains one epoch; checks the batch shapes, labels and that every image is
// seen once. Returns the order seen in `order` (n).
static void drain_epoch(loader *ld, const dataset *d, int batch_size, int *order) {
    int expect_batches = (d->n + batch_size - 1) / batch_size;
    assert_int_equal(loader_num_batches(ld), expect_batches);
    char *seen = calloc((size_t)d->n, 1);
    assert_non_null(seen);
    const batch *b;
    int got = 0, nb = 0;
    while ((b = loader_next(ld)) != NULL) {
        int want_n = d->n - nb * batch_size < batch_size ? d->n - nb * batch_size : batch_size;
        assert_int_equal(b->n, want_n);
        assert_int_equal(b->groups, (want_n + LANES - 1) / LANES);
        for (int k = 0; k < b->groups * LANES; k++) {
            if (k >= b->n) {
                if (b->labels[k] != -1) fail_msg("batch %d lane %d: label %d, expected -1", nb, k, b->labels[k]);
                continue;
            }
            int i = b->index[k];
            assert_in_range(i, 0, d->n - 1);
            if (seen[i]) fail_msg("image %d seen twice in one epoch", i);
            seen[i] = 1;
            assert_int_equal(b->labels[k], d->labels[i]);
            order[got + k] = i;
        }
        got += b->n;
        nb++;
    }
    assert_int_equal(nb, expect_batches);
    assert_int_equal(got, d->n);
    assert_null(loader_next(ld)); // stays at the end
    free(seen);
}

// The transformed input of group g: batch.x when the loader prefilled it,
// else loader_fill_group into buf.
static const float *group_x(const loader *ld, const batch *b, int g, float *buf) {
    if (b->x) return b->x + (size_t)g * IMG * LANES;
    loader_fill_group(ld, b, g, buf);
    return buf;
}

static void check_train_batches(int prefill) {
    dataset d;
    make_dataset(&d, LN);
    const dataset_info *info = dataset_find("cifar10");
    loader *ld = loader_create(&d, info, 16, 1, 7, prefill);
    int o0[LN], o1[LN], o0b[LN];
    loader_start_epoch(ld, 0);
    // 4 batches: 16, 16, 16, 2 (the last partial batch kept)
    int sizes[4], nb = 0;
    const batch *b;
    while ((b = loader_next(ld)) != NULL) {
        assert_true(nb < 4);
        sizes[nb++] = b->n;
        assert_int_equal(b->groups, 1);
        if (prefill) assert_non_null(b->x);
        else assert_null(b->x);
    }
    assert_int_equal(nb, 4);
    assert_int_equal(sizes[0], 16);
    assert_int_equal(sizes[1], 16);
    assert_int_equal(sizes[2], 16);
    assert_int_equal(sizes[3], 2);
    loader_start_epoch(ld, 0);
    drain_epoch(ld, &d, 16, o0);
    loader_start_epoch(ld, 1); // two consecutive epochs
    drain_epoch(ld, &d, 16, o1);
    assert_memory_not_equal(o0, o1, sizeof o0);
    loader_start_epoch(ld, 0); // the same epoch again: the same order
    drain_epoch(ld, &d, 16, o0b);
    assert_memory_equal(o0, o0b, sizeof o0);
    // the order is the plan's
    int perm[LN];
    uint8_t top[LN], left[LN], flip[LN];
    loader_plan_epoch(LN, 1, info->crop_padding, info->hflip, 7, 1, perm, top, left, flip);
    assert_memory_equal(o1, perm, sizeof perm);
    loader_destroy(ld);

    // batch 20: groups 2, 2, 1
    ld = loader_create(&d, info, 20, 1, 7, prefill);
    loader_start_epoch(ld, 0);
    drain_epoch(ld, &d, 20, o0);
    loader_destroy(ld);
    dataset_free(&d);
}

static void test_loader_train_batches_prefill(void **state) {
    (void)state;
    check_train_batches(1);
}

static void test_loader_train_batches_no_prefill(void **state) {
    (void)state;
    check_train_batches(0);
}

// The x of each training batch equals augment_image with the plan's draws,
// whether the loader thread or loader_fill_group transformed it.
static void check_train_x_matches_plan(int prefill, int batch_size) {
    dataset d;
    make_dataset(&d, LN);
    const dataset_info *info = dataset_find("cifar10");
    int perm[LN];
    uint8_t top[LN], left[LN], flip[LN];
    loader_plan_epoch(LN, 1, info->crop_padding, info->hflip, 11, 2, perm, top, left, flip);
    float lut[3 * 256];
    augment_build_lut(lut, 3, info->mean, info->std);
    size_t img_floats = (size_t)IMG * LANES;
    float *want = malloc(img_floats * sizeof(float));
    float *buf = malloc(img_floats * sizeof(float));
    assert_non_null(want);
    assert_non_null(buf);
    loader *ld = loader_create(&d, info, batch_size, 1, 11, prefill);
    loader_start_epoch(ld, 2);
    const batch *b;
    int pos = 0, bad = 0;
    while ((b = loader_next(ld)) != NULL) {
        for (int k = 0; k < b->n; k++) {
            assert_int_equal(b->index[k], perm[pos + k]);
            assert_int_equal(b->top[k], top[pos + k]);
            assert_int_equal(b->left[k], left[pos + k]);
            assert_int_equal(b->flip[k], flip[pos + k]);
        }
        for (int g = 0; g < b->groups; g++) {
            const float *x = group_x(ld, b, g, buf);
            for (int l = 0; l < LANES; l++) {
                int k = g * LANES + l;
                if (k >= b->n) continue;
                augment_image(want, 0, d.pixels + (size_t)perm[pos + k] * IMG, 3, 32, 32,
                              info->crop_padding, top[pos + k], left[pos + k], flip[pos + k], lut);
                for (int j = 0; j < IMG; j++)
                    if (x[(size_t)j * LANES + l] != want[(size_t)j * LANES] && bad++ < 5)
                        print_error("image %d (batch position %d) value %d differs\n", perm[pos + k], k, j);
            }
        }
        pos += b->n;
    }
    assert_int_equal(pos, LN);
    assert_int_equal(bad, 0);
    loader_destroy(ld);
    free(want);
    free(buf);
    dataset_free(&d);
}

static void test_loader_train_x_matches_plan(void **state) {
    (void)state;
    check_train_x_matches_plan(1, 16);
    check_train_x_matches_plan(0, 16);
    check_train_x_matches_plan(1, 20); // a partial second group in every batch
    check_train_x_matches_plan(0, 20);
}

static void check_eval_values(int prefill) {
    dataset d;
    make_dataset(&d, LN);
    const dataset_info *info = dataset_find("cifar10");
    float *buf = malloc((size_t)IMG * LANES * sizeof(float));
    assert_non_null(buf);
    for (int bs = 16; bs <= 20; bs += 4) {
        loader *ld = loader_create(&d, info, bs, 0, 5, prefill);
        for (int epoch = 0; epoch < 2; epoch++) {
            loader_start_epoch(ld, epoch);
            const batch *b;
            int pos = 0, bad = 0;
            while ((b = loader_next(ld)) != NULL) {
                for (int g = 0; g < b->groups; g++) {
                    const float *x = group_x(ld, b, g, buf);
                    for (int l = 0; l < LANES; l++) {
                        int k = g * LANES + l;
                        if (k >= b->n) {
                            assert_int_equal(b->labels[k], -1);
                            continue;
                        }
                        int i = b->index[k];
                        assert_int_equal(i, pos + k); // no shuffle
                        assert_int_equal(b->labels[k], d.labels[i]);
                        for (int c = 0; c < 3; c++)
                            for (int j = 0; j < 1024; j++) {
                                uint8_t v = d.pixels[(size_t)i * IMG + c * 1024 + j];
                                float want = ((float)v / 255.0f - info->mean[c]) / info->std[c];
                                if (x[((size_t)c * 1024 + j) * LANES + l] != want) bad++;
                            }
                    }
                }
                pos += b->n;
            }
            assert_int_equal(pos, LN);
            assert_int_equal(bad, 0);
        }
        loader_destroy(ld);
    }
    free(buf);
    dataset_free(&d);
}

static void test_loader_eval_values(void **state) {
    (void)state;
    check_eval_values(1);
    check_eval_values(0);
}

static void check_stop_mid_epoch(int prefill) {
    dataset d;
    make_dataset(&d, LN);
    const dataset_info *info = dataset_find("cifar10");
    loader *ld = loader_create(&d, info, 16, 1, 3, prefill);
    int order[LN], first[LN];
    loader_start_epoch(ld, 0);
    drain_epoch(ld, &d, 16, first);
    for (int round = 0; round < 3; round++) {
        loader_start_epoch(ld, 0);
        const batch *b = loader_next(ld);
        assert_non_null(b);
        assert_int_equal(b->n, 16);
        for (int k = 0; k < 16; k++) assert_int_equal(b->index[k], first[k]);
        loader_stop_epoch(ld);
        loader_start_epoch(ld, 0);
        drain_epoch(ld, &d, 16, order);
        assert_memory_equal(order, first, sizeof order);
    }
    // stop before taking anything, and stop right after start
    loader_start_epoch(ld, 1);
    loader_stop_epoch(ld);
    loader_start_epoch(ld, 1);
    drain_epoch(ld, &d, 16, order);
    // destroying mid-epoch must not hang
    loader_start_epoch(ld, 2);
    assert_non_null(loader_next(ld));
    loader_destroy(ld);
    dataset_free(&d);
}

static void test_loader_stop_mid_epoch(void **state) {
    (void)state;
    check_stop_mid_epoch(1);
    check_stop_mid_epoch(0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cifar10_good_folder),
        cmocka_unit_test(test_cifar10_missing_file),
        cmocka_unit_test(test_cifar10_truncated_file),
        cmocka_unit_test(test_cifar10_empty_file),
        cmocka_unit_test(test_cifar10_label_out_of_range),
        cmocka_unit_test(test_cifar10_uneven_train_files),
        cmocka_unit_test(test_cifar10_missing_folder),
        cmocka_unit_test(test_augment_matches_reference),
        cmocka_unit_test(test_augment_plain_normalise),
        cmocka_unit_test(test_augment_group_matches_reference),
        cmocka_unit_test(test_augment_group_image_narrower_than_padding),
        cmocka_unit_test(test_plan_epoch_train),
        cmocka_unit_test(test_plan_epoch_eval),
        cmocka_unit_test(test_loader_train_batches_prefill),
        cmocka_unit_test(test_loader_train_batches_no_prefill),
        cmocka_unit_test(test_loader_train_x_matches_plan),
        cmocka_unit_test(test_loader_eval_values),
        cmocka_unit_test(test_loader_stop_mid_epoch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
