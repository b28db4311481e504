// test_datasets.c: the loaders beyond CIFAR-10 on small files written here in
// each format: CIFAR-100 binary, MNIST/Fashion-MNIST IDX (gzipped and plain),
// and a folder of PNG/JPEG images per class; each loader's errors name the
// file and what was expected. Also the data set table's constants.
#include "test_util.h"

#include "../src/data/dataset.h"
#include "../src/util/fsutil.h"

#include <sys/stat.h>
#include <zlib.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wunused-function"
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>
#pragma GCC diagnostic pop

static void assert_contains(const char *msg, const char *part) {
    if (!strstr(msg, part)) fail_msg("message lacks \"%s\": %s", part, msg);
}

static void mkdir_p(const char *path) {
    lr_err e;
    if (fs_mkdirs(path, &e) != 0) fail_msg("%s", e.msg);
}

// Loads name from dir, expecting failure; returns the message.
static void expect_load_error(const char *name, const char *dir, const char *part1,
                              const char *part2) {
    dataset tr, te;
    lr_err e;
    assert_int_equal(dataset_load(dataset_find(name), dir, &tr, &te, &e), -1);
    assert_contains(e.msg, part1);
    if (part2) assert_contains(e.msg, part2);
    assert_null(tr.pixels);
    assert_null(te.pixels);
}

// ---------------------------------------------------------------- table

static void test_table_entries(void **state) {
    (void)state;
    const dataset_info *c100 = dataset_find("cifar100");
    assert_non_null(c100);
    assert_string_equal(c100->folder, "cifar-100-binary");
    assert_int_equal(c100->num_classes, 100);
    assert_float_equal(c100->mean[0], 0.5071f, 1e-6);
    assert_float_equal(c100->std[2], 0.2762f, 1e-6);
    assert_int_equal(c100->crop_padding, 4);
    assert_int_equal(c100->hflip, 1);
    const dataset_info *coarse = dataset_find("cifar100-coarse");
    assert_non_null(coarse);
    assert_int_equal(coarse->num_classes, 20);
    assert_string_equal(coarse->folder, c100->folder);
    const dataset_info *m = dataset_find("mnist");
    assert_non_null(m);
    assert_int_equal(m->c, 1);
    assert_float_equal(m->mean[0], 0.1307f, 1e-6);
    assert_float_equal(m->std[0], 0.3081f, 1e-6);
    assert_int_equal(m->crop_padding, 0);
    assert_int_equal(m->hflip, 0);
    const dataset_info *fm = dataset_find("fashion-mnist");
    assert_non_null(fm);
    assert_float_equal(fm->mean[0], 0.2860f, 1e-6);
    assert_float_equal(fm->std[0], 0.3530f, 1e-6);
    assert_non_null(dataset_find("folder"));
    assert_null(dataset_find("cifar-100"));
    assert_non_null(strstr(dataset_names(), "fashion-mnist"));
}

// ---------------------------------------------------------------- CIFAR-100

enum { C100_REC = 2 + 3072 };

static void write_cifar100(const char *dir, const char *name, int n, int bad_record) {
    uint8_t *buf = malloc((size_t)n * C100_REC);
    for (int i = 0; i < n; i++) {
        uint8_t *r = buf + (size_t)i * C100_REC;
        r[0] = (uint8_t)(i % 20);
        r[1] = (uint8_t)((i * 7) % 100);
        if (i == bad_record) r[1] = 100;
        for (int j = 0; j < 3072; j++) r[2 + j] = test_pixel(i, j);
    }
    char path[2048];
    fs_join(path, sizeof path, dir, name);
    test_write_file(path, buf, (size_t)n * C100_REC);
    free(buf);
}

static void test_cifar100_fine_and_coarse(void **state) {
    (void)state;
    char dir[1024];
    test_mkdtemp(dir, sizeof dir);
    write_cifar100(dir, "train.bin", 20, -1);
    write_cifar100(dir, "test.bin", 7, -1);
    char names[2048];
    fs_join(names, sizeof names, dir, "fine_label_names.txt");
    const char *text = "apple\naquarium_fish\nbaby\n\n";
    test_write_file(names, text, strlen(text));

    dataset tr, te;
    lr_err e;
    if (dataset_load(dataset_find("cifar100"), dir, &tr, &te, &e) != 0) fail_msg("%s", e.msg);
    assert_int_equal(tr.n, 20);
    assert_int_equal(te.n, 7);
    assert_int_equal(tr.c * tr.h * tr.w, 3072);
    assert_int_equal(tr.num_classes, 100);
    for (int i = 0; i < 20; i++) assert_int_equal(tr.labels[i], (i * 7) % 100);
    assert_int_equal(tr.pixels[(size_t)5 * 3072 + 1000], test_pixel(5, 1000));
    assert_string_equal(tr.class_names[1], "aquarium_fish");
    assert_string_equal(tr.class_names[3], "3"); // beyond the file: numbered
    dataset_free(&tr);
    dataset_free(&te);

    if (dataset_load(dataset_find("cifar100-coarse"), dir, &tr, &te, &e) != 0) fail_msg("%s", e.msg);
    assert_int_equal(tr.num_classes, 20);
    for (int i = 0; i < 20; i++) assert_int_equal(tr.labels[i], i % 20);
    assert_int_equal(te.labels[6], 6);
    dataset_free(&tr);
    dataset_free(&te);
    test_rmtree(dir);
}

static void test_cifar100_errors(void **state) {
    (void)state;
    char dir[1024];
    test_mkdtemp(dir, sizeof dir);
    expect_load_error("cifar100", dir, "train.bin", "missing");
    write_cifar100(dir, "train.bin", 20, 3);
    write_cifar100(dir, "test.bin", 5, -1);
    expect_load_error("cifar100", dir, "train.bin", "record 3");
    write_cifar100(dir, "train.bin", 20, -1);
    char path[2048];
    fs_join(path, sizeof path, dir, "test.bin");
    uint8_t odd[C100_REC + 10] = {0};
    test_write_file(path, odd, sizeof odd);
    expect_load_error("cifar100", dir, "test.bin", "3,074");
    char missing[2048];
    fs_join(missing, sizeof missing, dir, "nope");
    expect_load_error("cifar100", missing, "no such folder", NULL);
    test_rmtree(dir);
}

// ---------------------------------------------------------------- MNIST

static void be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

typedef struct {
    int n, rows, cols;
    uint32_t magic;        // 0 = the right one
    int label_n;           // labels in the file (0 = n)
    int bad_label_at;      // -1 = none
    size_t cut;            // bytes dropped from the end of the images file
} idx_spec;

static void write_maybe_gz(const char *path, const uint8_t *p, size_t n, int gz) {
    if (!gz) {
        test_write_file(path, p, n);
        return;
    }
    gzFile g = gzopen(path, "wb");
    if (!g) fail_msg("cannot write %s", path);
    if (n && gzwrite(g, p, (unsigned)n) != (int)n) fail_msg("gzwrite %s", path);
    gzclose(g);
}

static uint8_t idx_pixel(int i, int j) { return (uint8_t)(i * 5 + j); }

// Writes SPLIT-images-idx3-ubyte[.gz] and SPLIT-labels-idx1-ubyte[.gz].
static void write_idx(const char *dir, const char *split, idx_spec s, int gz) {
    size_t npx = (size_t)s.n * s.rows * s.cols;
    uint8_t *img = malloc(16 + npx);
    be32(img, s.magic ? s.magic : 0x803);
    be32(img + 4, (uint32_t)s.n);
    be32(img + 8, (uint32_t)s.rows);
    be32(img + 12, (uint32_t)s.cols);
    for (int i = 0; i < s.n; i++)
        for (int j = 0; j < s.rows * s.cols; j++)
            img[16 + (size_t)i * s.rows * s.cols + j] = idx_pixel(i, j);
    int ln = s.label_n ? s.label_n : s.n;
    uint8_t *lab = malloc(8 + (size_t)ln);
    be32(lab, 0x801);
    be32(lab + 4, (uint32_t)ln);
    for (int i = 0; i < ln; i++) lab[8 + i] = (uint8_t)(i == s.bad_label_at ? 10 : (i * 3) % 10);
    char path[2048];
    snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte%s", dir, split, gz ? ".gz" : "");
    write_maybe_gz(path, img, 16 + npx - s.cut, gz);
    snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte%s", dir, split, gz ? ".gz" : "");
    write_maybe_gz(path, lab, 8 + (size_t)ln, gz);
    free(img);
    free(lab);
}

static const idx_spec GOOD_TRAIN = {20, 28, 28, 0, 0, -1, 0};
static const idx_spec GOOD_TEST = {10, 28, 28, 0, 0, -1, 0};

static void check_mnist(const char *name, const char *dir, int n_train, int rows, int cols) {
    dataset tr, te;
    lr_err e;
    if (dataset_load(dataset_find(name), dir, &tr, &te, &e) != 0) fail_msg("%s", e.msg);
    assert_int_equal(tr.n, n_train);
    assert_int_equal(tr.c, 1);
    assert_int_equal(tr.h, rows);
    assert_int_equal(tr.w, cols);
    assert_int_equal(tr.num_classes, 10);
    for (int i = 0; i < tr.n; i++) assert_int_equal(tr.labels[i], (i * 3) % 10);
    assert_int_equal(tr.pixels[(size_t)7 * rows * cols + 11], idx_pixel(7, 11));
    assert_int_equal(te.h, rows);
    dataset_free(&tr);
    dataset_free(&te);
}

static void test_mnist_gz_and_plain(void **state) {
    (void)state;
    char dir[1024];
    test_mkdtemp(dir, sizeof dir);
    write_idx(dir, "train", GOOD_TRAIN, 1);
    write_idx(dir, "t10k", GOOD_TEST, 1);
    check_mnist("mnist", dir, 20, 28, 28);
    test_rmtree(dir);

    // Already unpacked, and not 28x28: the header decides.
    test_mkdtemp(dir, sizeof dir);
    idx_spec tr = {13, 7, 5, 0, 0, -1, 0}, te = {4, 7, 5, 0, 0, -1, 0};
    write_idx(dir, "train", tr, 0);
    write_idx(dir, "t10k", te, 0);
    check_mnist("mnist", dir, 13, 7, 5);
    test_rmtree(dir);
}

static void test_fashion_mnist_names(void **state) {
    (void)state;
    char dir[1024];
    test_mkdtemp(dir, sizeof dir);
    write_idx(dir, "train", GOOD_TRAIN, 1);
    write_idx(dir, "t10k", GOOD_TEST, 1);
    dataset tr, te;
    lr_err e;
    if (dataset_load(dataset_find("fashion-mnist"), dir, &tr, &te, &e) != 0) fail_msg("%s", e.msg);
    assert_string_equal(tr.class_names[0], "T-shirt/top");
    assert_string_equal(te.class_names[9], "Ankle boot");
    dataset_free(&tr);
    dataset_free(&te);
    test_rmtree(dir);
}

// Found by fuzz/fuzz_mnist (corpus/mnist/oom-idx-header): a 123-byte raw IDX
// file announcing 67,108,866 images of 4x8 made the loader allocate 2.1 GB
// before reading. The header's count is refused before any allocation.
static void test_mnist_fuzz_huge_count(void **state) {
    (void)state;
    char dir[1024], path[2048];
    test_mkdtemp(dir, sizeof dir);
    uint8_t images[16 + 32] = {0, 0, 8, 3, 0x04, 0, 0, 0x02, 0, 0, 0, 4, 0, 0, 0, 8};
    uint8_t labels[8 + 1] = {0, 0, 8, 1, 0x04, 0, 0, 0x02, 3};
    const char *split[2] = {"train", "t10k"};
    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte", dir, split[k]);
        test_write_file(path, images, sizeof images);
        snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte", dir, split[k]);
        test_write_file(path, labels, sizeof labels);
    }
    expect_load_error("mnist", dir, "train-images-idx3-ubyte", "header says 67108866 images");
    test_rmtree(dir);
}

static void test_mnist_errors(void **state) {
    (void)state;
    char dir[1024];
    test_mkdtemp(dir, sizeof dir);
    expect_load_error("mnist", dir, "train-images-idx3-ubyte.gz", "missing");

    idx_spec s = GOOD_TRAIN;
    s.magic = 0x801;
    write_idx(dir, "train", s, 1);
    write_idx(dir, "t10k", GOOD_TEST, 1);
    expect_load_error("mnist", dir, "train-images-idx3-ubyte.gz", "0x00000803");

    s = GOOD_TRAIN;
    s.bad_label_at = 4;
    write_idx(dir, "train", s, 1);
    expect_load_error("mnist", dir, "train-labels-idx1-ubyte.gz", "label 4 is 10");

    s = GOOD_TRAIN;
    s.label_n = 19;
    write_idx(dir, "train", s, 1);
    expect_load_error("mnist", dir, "19 labels", "20 images");

    s = GOOD_TRAIN;
    s.cut = 100;
    write_idx(dir, "train", s, 1);
    expect_load_error("mnist", dir, "train-images-idx3-ubyte.gz", "truncated");

    // A gzip stream cut short (a download that stopped).
    write_idx(dir, "train", GOOD_TRAIN, 1);
    char path[2048];
    snprintf(path, sizeof path, "%s/train-images-idx3-ubyte.gz", dir);
    char *data;
    size_t len;
    lr_err e;
    assert_int_equal(fs_read_all(path, &data, &len, &e), 0);
    test_write_file(path, data, len / 2);
    free(data);
    expect_load_error("mnist", dir, "train-images-idx3-ubyte.gz", NULL);

    // Test images of another size than the training images.
    write_idx(dir, "train", GOOD_TRAIN, 1);
    idx_spec small = {10, 14, 14, 0, 0, -1, 0};
    write_idx(dir, "t10k", small, 1);
    expect_load_error("mnist", dir, "14x14", "28x28");
    test_rmtree(dir);
}

// ---------------------------------------------------------------- folder

enum { IW = 6, IH = 4 };

static uint8_t img_value(int seed, int p, int c) { return (uint8_t)(seed * 40 + p * 3 + c * 80); }

// Writes an IW x IH PNG with `comp` channels (1 grey, 3 RGB, 4 RGBA).
static void write_png(const char *dir, const char *cls, const char *file, int seed, int comp,
                      int w, int h) {
    char cdir[2048], path[2300];
    fs_join(cdir, sizeof cdir, dir, cls);
    mkdir_p(cdir);
    snprintf(path, sizeof path, "%s/%s", cdir, file);
    uint8_t px[64 * 64 * 4];
    for (int p = 0; p < w * h; p++)
        for (int c = 0; c < comp; c++) px[p * comp + c] = img_value(seed, p, c);
    if (!stbi_write_png(path, w, h, comp, px, w * comp)) fail_msg("cannot write %s", path);
}

// A 6x4 baseline JPEG of one colour, rgb(200, 100, 50), made once with
// ImageMagick (`convert -size 6x4 xc:'rgb(200,100,50)' -type TrueColor
// -quality 95 -strip`): stb's JPEG writer shifts into the sign bit, which
// UBSan reports in `make DEBUG=1 test`.
static const uint8_t ORANGE_JPEG[] = {
  0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01,
  0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0xff, 0xdb, 0x00, 0x43,
  0x00, 0x02, 0x01, 0x01, 0x01, 0x01, 0x01, 0x02, 0x01, 0x01, 0x01, 0x02,
  0x02, 0x02, 0x02, 0x02, 0x04, 0x03, 0x02, 0x02, 0x02, 0x02, 0x05, 0x04,
  0x04, 0x03, 0x04, 0x06, 0x05, 0x06, 0x06, 0x06, 0x05, 0x06, 0x06, 0x06,
  0x07, 0x09, 0x08, 0x06, 0x07, 0x09, 0x07, 0x06, 0x06, 0x08, 0x0b, 0x08,
  0x09, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x06, 0x08, 0x0b, 0x0c, 0x0b, 0x0a,
  0x0c, 0x09, 0x0a, 0x0a, 0x0a, 0xff, 0xdb, 0x00, 0x43, 0x01, 0x02, 0x02,
  0x02, 0x02, 0x02, 0x02, 0x05, 0x03, 0x03, 0x05, 0x0a, 0x07, 0x06, 0x07,
  0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a,
  0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a,
  0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a,
  0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a,
  0x0a, 0x0a, 0xff, 0xc0, 0x00, 0x11, 0x08, 0x00, 0x04, 0x00, 0x06, 0x03,
  0x01, 0x11, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01, 0xff, 0xc4, 0x00,
  0x14, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0xff, 0xc4, 0x00, 0x14, 0x10,
  0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xc4, 0x00, 0x14, 0x01, 0x01, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x08, 0xff, 0xc4, 0x00, 0x14, 0x11, 0x01, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0xff, 0xda, 0x00, 0x0c, 0x03, 0x01, 0x00, 0x02, 0x11, 0x03, 0x11,
  0x00, 0x3f, 0x00, 0x3c, 0x57, 0x36, 0x1f, 0xff, 0xd9
};

// A small folder data set: classes dog, ant, cat (sorted: ant, cat, dog).
static void make_folder(const char *root, int comp) {
    char tr[2048], te[2048];
    fs_join(tr, sizeof tr, root, "train");
    fs_join(te, sizeof te, root, "test");
    write_png(tr, "dog", "b.png", 1, comp, IW, IH);
    write_png(tr, "dog", "a.png", 2, comp, IW, IH);
    write_png(tr, "ant", "x.PNG", 3, comp, IW, IH);
    write_png(tr, "cat", "c.png", 4, comp, IW, IH);
    write_png(te, "cat", "t.png", 5, comp, IW, IH);
    write_png(te, "dog", "u.png", 6, comp, IW, IH);
    char junk[2300];
    snprintf(junk, sizeof junk, "%s/dog/README.txt", tr); // not an image: skipped
    test_write_file(junk, "hi", 2);
    snprintf(junk, sizeof junk, "%s/dog/.DS_Store", tr);
    test_write_file(junk, "x", 1);
}

static void test_folder_png_rgb(void **state) {
    (void)state;
    char dir[1024];
    test_mkdtemp(dir, sizeof dir);
    make_folder(dir, 3);
    dataset tr, te;
    lr_err e;
    if (dataset_load(dataset_find("folder"), dir, &tr, &te, &e) != 0) fail_msg("%s", e.msg);
    assert_int_equal(tr.n, 4);
    assert_int_equal(te.n, 2);
    assert_int_equal(tr.c, 3);
    assert_int_equal(tr.h, IH);
    assert_int_equal(tr.w, IW);
    assert_int_equal(tr.num_classes, 3);
    assert_string_equal(tr.class_names[0], "ant");
    assert_string_equal(tr.class_names[2], "dog");
    // Order: class by class, files sorted: ant/x, cat/c, dog/a, dog/b.
    const int labels[4] = {0, 1, 2, 2}, seeds[4] = {3, 4, 2, 1};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(tr.labels[i], labels[i]);
        for (int c = 0; c < 3; c++)
            for (int p = 0; p < IW * IH; p++)
                assert_int_equal(tr.pixels[((size_t)i * 3 + c) * IW * IH + p], img_value(seeds[i], p, c));
    }
    assert_int_equal(te.labels[0], 1);
    assert_int_equal(te.labels[1], 2);
    assert_int_equal(te.num_classes, 3);
    assert_string_equal(te.class_names[1], "cat");
    dataset_free(&tr);
    dataset_free(&te);
    test_rmtree(dir);
}

static void test_folder_grey_alpha_and_jpeg(void **state) {
    (void)state;
    char dir[1024];
    test_mkdtemp(dir, sizeof dir);
    make_folder(dir, 2); // grey + alpha: alpha dropped, 1 channel
    dataset tr, te;
    lr_err e;
    if (dataset_load(dataset_find("folder"), dir, &tr, &te, &e) != 0) fail_msg("%s", e.msg);
    assert_int_equal(tr.c, 1);
    assert_int_equal(tr.pixels[5], img_value(3, 5, 0));
    dataset_free(&tr);
    dataset_free(&te);
    test_rmtree(dir);

    test_mkdtemp(dir, sizeof dir);
    make_folder(dir, 4); // RGBA: 3 channels
    char path[2048];
    snprintf(path, sizeof path, "%s/train/cat/j.jpg", dir);
    test_write_file(path, ORANGE_JPEG, sizeof ORANGE_JPEG);
    if (dataset_load(dataset_find("folder"), dir, &tr, &te, &e) != 0) fail_msg("%s", e.msg);
    assert_int_equal(tr.c, 3);
    assert_int_equal(tr.n, 5);
    // The JPEG (cat/j.jpg, the third image) decodes close to its colour.
    const int rgb[3] = {200, 100, 50};
    for (int c = 0; c < 3; c++)
        for (int p = 0; p < IW * IH; p++) {
            int v = tr.pixels[((size_t)2 * 3 + c) * IW * IH + p];
            if (abs(v - rgb[c]) > 4) fail_msg("JPEG pixel %d channel %d is %d, expected ~%d", p, c, v, rgb[c]);
        }
    dataset_free(&tr);
    dataset_free(&te);
    test_rmtree(dir);
}

// Found by fuzz/fuzz_image_folder: a JPEG Huffman table (DHT) whose 16
// counts add up to more than 256 symbols overflowed stb_image 2.27's tables
// (UBSan: index 257 out of bounds for 'stbi_uc[257]'). It is refused by name.
static void test_folder_jpeg_huffman_overflow(void **state) {
    (void)state;
    char dir[1024], path[2048];
    test_mkdtemp(dir, sizeof dir);
    make_folder(dir, 3);
    uint8_t bad[sizeof ORANGE_JPEG];
    memcpy(bad, ORANGE_JPEG, sizeof bad);
    // The last DHT segment (FF C4 00 14 11 ...): every count 255, 4080 symbols.
    size_t at = 0;
    for (size_t i = 0; i + 1 < sizeof bad; i++)
        if (bad[i] == 0xFF && bad[i + 1] == 0xC4) at = i;
    assert_true(at > 0 && bad[at + 4] == 0x11);
    for (int k = 0; k < 16; k++) bad[at + 5 + k] = 0xFF;
    snprintf(path, sizeof path, "%s/train/cat/j.jpg", dir);
    test_write_file(path, bad, sizeof bad);
    expect_load_error("folder", dir, "cat/j.jpg", "Huffman table holds more than 256 symbols");
    // The same table read past the end of a DHT segment whose length leaves
    // one byte after its first table: stb reads a second table there.
    memcpy(bad, ORANGE_JPEG, sizeof bad);
    uint8_t longer[sizeof ORANGE_JPEG + 17];
    size_t seg_end = at + 2 + 0x14; // FF C4, then 0x14 bytes: length, 17-byte table, 1 symbol
    memcpy(longer, bad, seg_end);
    longer[at + 3] = 0x15;
    longer[seg_end] = 0x11;         // the second table: class 1, id 1, every count 255
    memset(longer + seg_end + 1, 0xFF, 16);
    memcpy(longer + seg_end + 17, bad + seg_end, sizeof bad - seg_end);
    test_write_file(path, longer, sizeof longer);
    expect_load_error("folder", dir, "cat/j.jpg", "Huffman table holds more than 256 symbols");
    // Found by the fuzzer in CI: stb skips fill bytes before the start
    // marker, so FF FF D8 is a JPEG to it, and must be checked as one.
    uint8_t filled[sizeof ORANGE_JPEG + 2];
    filled[0] = filled[1] = filled[2] = 0xFF;
    memcpy(filled + 3, ORANGE_JPEG + 1, sizeof ORANGE_JPEG - 1);
    for (int k = 0; k < 16; k++) filled[at + 2 + 5 + k] = 0xFF;
    test_write_file(path, filled, sizeof filled);
    expect_load_error("folder", dir, "cat/j.jpg", "Huffman table holds more than 256 symbols");

    // Counts that add up to exactly 256 are within the tables: not refused
    // as such (the file is still corrupt further on, and stb says so).
    for (int k = 0; k < 16; k++) bad[at + 5 + k] = k == 0 ? 1 : 17; // 1 + 15 * 17 = 256
    test_write_file(path, bad, sizeof bad);
    dataset tr, te;
    lr_err e;
    if (dataset_load(dataset_find("folder"), dir, &tr, &te, &e) == 0) {
        dataset_free(&tr);
        dataset_free(&te);
    } else if (strstr(e.msg, "Huffman table holds")) {
        fail_msg("a table of 256 symbols was refused: %s", e.msg);
    }
    test_rmtree(dir);
}

// Found by fuzz/fuzz_image_folder: a PNG chunk whose length runs past the end
// of the file made stb_image allocate that length (2 GB from a 317-byte
// file) before finding the data missing. It is refused by name first.
static void test_folder_png_chunk_past_end(void **state) {
    (void)state;
    char dir[1024], path[2048];
    test_mkdtemp(dir, sizeof dir);
    make_folder(dir, 3);
    snprintf(path, sizeof path, "%s/train/cat/c.png", dir);
    uint8_t png[4096];
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t len = fread(png, 1, sizeof png, f);
    fclose(f);
    // The first chunk after IHDR (8 + 25 bytes in): its length becomes 2^31 - 1.
    size_t at = 8 + 25;
    assert_true(len > at + 12 && len < sizeof png);
    uint8_t bad[4096];
    memcpy(bad, png, len);
    bad[at] = 0x7F, bad[at + 1] = bad[at + 2] = bad[at + 3] = 0xFF;
    test_write_file(path, bad, len);
    expect_load_error("folder", dir, "cat/c.png", "a chunk is longer than the rest of the file");
    // A file cut inside a chunk is refused the same way.
    test_write_file(path, png, at + 10);
    expect_load_error("folder", dir, "cat/c.png", "a chunk is longer than the rest of the file");
    test_rmtree(dir);
}

static void test_folder_errors(void **state) {
    (void)state;
    char dir[1024], path[2048], tr[1100];
    test_mkdtemp(dir, sizeof dir);
    expect_load_error("folder", dir, "train/ and test/", NULL);

    make_folder(dir, 3);
    snprintf(tr, sizeof tr, "%s/train", dir);
    write_png(tr, "cat", "d.png", 9, 3, IW + 1, IH); // another size
    expect_load_error("folder", dir, "cat/d.png", "7x4");
    snprintf(path, sizeof path, "%s/train/cat/d.png", dir);
    remove(path);

    write_png(tr, "cat", "g.png", 9, 1, IW, IH); // grey among colour
    expect_load_error("folder", dir, "cat/g.png", "1 channel");
    snprintf(path, sizeof path, "%s/train/cat/g.png", dir);
    remove(path);

    snprintf(path, sizeof path, "%s/train/cat/broken.png", dir);
    test_write_file(path, "not a png at all", 16);
    expect_load_error("folder", dir, "cat/broken.png", "cannot read image");
    remove(path);

    snprintf(path, sizeof path, "%s/train/cat/old.bmp", dir);
    test_write_file(path, "BM", 2);
    expect_load_error("folder", dir, "cat/old.bmp", "PNG or JPEG");
    remove(path);

    char te[1100];
    snprintf(te, sizeof te, "%s/test", dir);
    write_png(te, "zebra", "z.png", 1, 3, IW, IH); // a class training lacks
    expect_load_error("folder", dir, "zebra", "training split");
    snprintf(path, sizeof path, "%s/test/zebra", dir);
    test_rmtree(path);

    // And the folder loads again once fixed.
    dataset a, b;
    lr_err e;
    if (dataset_load(dataset_find("folder"), dir, &a, &b, &e) != 0) fail_msg("%s", e.msg);
    dataset_free(&a);
    dataset_free(&b);
    test_rmtree(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_entries),
        cmocka_unit_test(test_cifar100_fine_and_coarse),
        cmocka_unit_test(test_cifar100_errors),
        cmocka_unit_test(test_mnist_gz_and_plain),
        cmocka_unit_test(test_fashion_mnist_names),
        cmocka_unit_test(test_mnist_errors),
        cmocka_unit_test(test_folder_png_rgb),
        cmocka_unit_test(test_folder_jpeg_huffman_overflow),
        cmocka_unit_test(test_folder_png_chunk_past_end),
        cmocka_unit_test(test_mnist_fuzz_huge_count),
        cmocka_unit_test(test_folder_grey_alpha_and_jpeg),
        cmocka_unit_test(test_folder_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
