// test_inputs.c: input from outside is bounded and checked (issue 8, point 5).
// One block per class of fault:
//   sizes      IDX, weights and image headers, CIFAR files with too many
//              whole records, decompression bombs, whole-file reads, and
//              out of memory (exit 2 with a message, never abort)
//   types      folders, FIFOs and /dev/zero where a data file, metrics.csv,
//              run.json, study.json, weights file or archive is expected:
//              named as what they are, and nothing blocks (alarm() guards)
//   links      archive symlinks and hard links become regular files, or are refused
//   paths      paths of any length give a message naming them
//   reasons    a library's NULL failure reason never prints as "(null)"
// The download caps (a server announcing or sending too much, file:///dev/zero)
// are in test_fetch.c, beside its HTTP server; the CLI cases in test_cli.c.
#include "test_util.h"
#include "study_fixture.h"

#include "../src/data/dataset.h"
#include "../src/fetch/unpack.h"
#include "../src/report/report.h"
#include "../src/study/weights.h"
#include "../src/util/fsutil.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <zlib.h>

// Under AddressSanitizer, a huge malloc returns NULL (as it does without
// it) instead of stopping the process, so the out-of-memory path is tested
// in both builds.
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }

// ---------------------------------------------------------------- helpers

static void assert_has(const char *msg, const char *part) {
    if (!strstr(msg, part)) fail_msg("message lacks \"%s\": %s", part, msg);
}

static void assert_no_null_text(const char *msg) {
    if (strstr(msg, "(null)")) fail_msg("message prints a NULL reason: %s", msg);
}

// Every test that could block on a FIFO runs under this alarm: a hang
// becomes a failure (SIGALRM kills the binary) instead of a stuck suite.
static void guard(void) { alarm(20); }
static void unguard(void) { alarm(0); }

static void join(char *out, size_t cap, const char *a, const char *b) {
    snprintf(out, cap, "%s/%s", a, b);
}

// Replaces path with a special file: 'd' folder, 'f' FIFO, 'z' a symlink
// to /dev/zero (a character device), with the text stat names it by.
static const char *make_special(const char *path, int kind) {
    remove(path);
    switch (kind) {
    case 'd':
        assert_int_equal(mkdir(path, 0755), 0);
        return "is a directory";
    case 'f':
        assert_int_equal(mkfifo(path, 0644), 0);
        return "is a FIFO";
    default:
        assert_int_equal(symlink("/dev/zero", path), 0);
        return "is a character device";
    }
}
static const int KINDS[3] = {'d', 'f', 'z'};

enum { IMG = 3 * 32 * 32, REC10 = 1 + IMG, REC100 = 2 + IMG };

static void write_zeros(const char *path, size_t n) {
    uint8_t *buf = calloc(n ? n : 1, 1);
    assert_non_null(buf);
    test_write_file(path, buf, n);
    free(buf);
}

static void write_cifar10(const char *dir, int n) {
    static const char *names[6] = {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                                   "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"};
    for (int b = 0; b < 6; b++) {
        char path[2048];
        join(path, sizeof path, dir, names[b]);
        write_zeros(path, (size_t)n * REC10);
    }
}

static int load_fails(const char *name, const char *dir, lr_err *e) {
    dataset train, test;
    memset(e, 0, sizeof *e);
    int rc = dataset_load(dataset_find(name), dir, &train, &test, e);
    if (rc == 0) {
        dataset_free(&train);
        dataset_free(&test);
    }
    assert_no_null_text(e->msg);
    return rc != 0;
}

static void be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

// An IDX images file header (magic 0x803) of n images of rows x cols,
// followed by body_bytes zero bytes.
static void write_idx_images(const char *path, uint32_t n, uint32_t rows, uint32_t cols,
                             size_t body_bytes) {
    size_t len = 16 + body_bytes;
    uint8_t *buf = calloc(len, 1);
    assert_non_null(buf);
    be32(buf, 0x803);
    be32(buf + 4, n);
    be32(buf + 8, rows);
    be32(buf + 12, cols);
    test_write_file(path, buf, len);
    free(buf);
}

static void write_idx_labels(const char *path, uint32_t n) {
    uint8_t *buf = calloc(8 + n, 1);
    assert_non_null(buf);
    be32(buf, 0x801);
    be32(buf + 4, n);
    test_write_file(path, buf, 8 + n);
    free(buf);
}

// A good tiny MNIST folder of 4 training and 2 test images of 28x28.
static void write_mnist(const char *dir) {
    char path[2048];
    join(path, sizeof path, dir, "train-images-idx3-ubyte");
    write_idx_images(path, 4, 28, 28, 4 * 28 * 28);
    join(path, sizeof path, dir, "train-labels-idx1-ubyte");
    write_idx_labels(path, 4);
    join(path, sizeof path, dir, "t10k-images-idx3-ubyte");
    write_idx_images(path, 2, 28, 28, 2 * 28 * 28);
    join(path, sizeof path, dir, "t10k-labels-idx1-ubyte");
    write_idx_labels(path, 2);
}

// ---------------------------------------------------------------- sizes

static void test_cifar10_too_many_whole_records(void **state) {
    (void)state;
    char dir[1024], path[2048];
    test_mkdtemp(dir, sizeof dir);
    write_cifar10(dir, 2);
    join(path, sizeof path, dir, "data_batch_1.bin");
    write_zeros(path, (size_t)10001 * REC10); // a whole number of records, one too many
    lr_err e;
    assert_true(load_fails("cifar10", dir, &e));
    assert_has(e.msg, "data_batch_1.bin");
    assert_has(e.msg, "10001 whole records");
    assert_has(e.msg, "more than the 10000");
    if (strstr(e.msg, "expected a whole number"))
        fail_msg("a whole number of records is refused as if it were not: %s", e.msg);
    // 10,000 exactly is the official size and loads (the cap is not off by one)
    write_cifar10(dir, 10000);
    dataset train, test;
    if (dataset_load(dataset_find("cifar10"), dir, &train, &test, &e) != 0) fail_msg("%s", e.msg);
    assert_int_equal(train.n, 50000);
    dataset_free(&train);
    dataset_free(&test);
    test_rmtree(dir);
}

static void test_cifar100_too_many_whole_records(void **state) {
    (void)state;
    char dir[1024], path[2048];
    test_mkdtemp(dir, sizeof dir);
    join(path, sizeof path, dir, "train.bin");
    write_zeros(path, (size_t)10 * REC100);
    join(path, sizeof path, dir, "test.bin");
    write_zeros(path, (size_t)10001 * REC100);
    lr_err e;
    assert_true(load_fails("cifar100", dir, &e));
    assert_has(e.msg, "test.bin");
    assert_has(e.msg, "10001 whole records");
    assert_has(e.msg, "more than the 10000");
    test_rmtree(dir);
}

static void test_idx_header_caps(void **state) {
    (void)state;
    char dir[1024], path[2048];
    test_mkdtemp(dir, sizeof dir);
    write_mnist(dir);
    join(path, sizeof path, dir, "train-images-idx3-ubyte");
    lr_err e;
    // A count far past the cap, in a tiny file: refused from the header,
    // before any allocation (ASan would report a 4 GB one as a failure).
    write_idx_images(path, 0x7fffffffu, 28, 28, 100);
    assert_true(load_fails("mnist", dir, &e));
    assert_has(e.msg, "header says 2147483647 images");
    // Sides past the cap.
    write_idx_images(path, 1, 5000, 5000, 100);
    assert_true(load_fails("mnist", dir, &e));
    assert_has(e.msg, "5000x5000");
    // Within every cap, but more pixels in all than a file may hold (2^30).
    write_idx_images(path, 100000, 4096, 4096, 100);
    assert_true(load_fails("mnist", dir, &e));
    assert_has(e.msg, "header says 100000 images of 4096x4096");
    // An unpacked file bigger than its header announces: said so, before
    // reading (the header's count of 4 images, 5 in the file).
    write_idx_images(path, 4, 28, 28, 5 * 28 * 28);
    assert_true(load_fails("mnist", dir, &e));
    assert_has(e.msg, "more than the");
    assert_has(e.msg, "4 images of 28x28 its header announces");
    // The same in a gzipped file, seen at its end.
    {
        size_t raw_len = 16 + 5 * 28 * 28;
        uint8_t *raw = calloc(raw_len, 1);
        assert_non_null(raw);
        be32(raw, 0x803);
        be32(raw + 4, 4);
        be32(raw + 8, 28);
        be32(raw + 12, 28);
        remove(path);
        char gz_path[2200];
        snprintf(gz_path, sizeof gz_path, "%s.gz", path);
        gzFile g = gzopen(gz_path, "wb");
        assert_non_null(g);
        assert_int_equal(gzwrite(g, raw, (unsigned)raw_len), (int)raw_len);
        gzclose(g);
        free(raw);
        assert_true(load_fails("mnist", dir, &e));
        assert_has(e.msg, "holds more data than the 4 images of 28x28 its header announces");
    }
    // And the good folder loads.
    test_rmtree(dir);
    test_mkdtemp(dir, sizeof dir);
    write_mnist(dir);
    dataset train, test;
    if (dataset_load(dataset_find("mnist"), dir, &train, &test, &e) != 0) fail_msg("%s", e.msg);
    assert_int_equal(train.n, 4);
    dataset_free(&train);
    dataset_free(&test);
    test_rmtree(dir);
}

// Rewrites the CRC-32 at the end of a weights file after a header change.
static void fix_crc(uint8_t *buf, size_t len) {
    uint32_t crc = (uint32_t)crc32_z(0L, buf, len - 4);
    for (int i = 0; i < 4; i++) buf[len - 4 + (size_t)i] = (uint8_t)(crc >> (8 * i));
}

static void put_le32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void test_weights_header_caps(void **state) {
    (void)state;
    char dir[1024], path[2048];
    test_mkdtemp(dir, sizeof dir);
    join(path, sizeof path, dir, "w.lrsw");
    model_desc m;
    lr_err e;
    if (model_build(&m, "linear:4,relu,linear", 1, 2, 2, 3, &e) != 0) fail_msg("%s", e.msg);
    float *params = lr_aligned_alloc(m.n_params * sizeof(float));
    weights_meta meta;
    weights_meta_from(&meta, dataset_find("folder"), 1, 3, NULL);
    assert_int_equal(weights_save(path, &m, params, &meta, &e), 0);
    weights_meta_free(&meta);
    free(params);
    size_t len;
    char *orig;
    assert_int_equal(fs_read_all(path, &orig, &len, &e), 0);
    size_t slen = strlen(m.spec), fields = 12 + slen; // c, h, w, k, n_lo, n_hi
    uint8_t *buf = malloc(len);
    assert_non_null(buf);

    // The untouched file loads.
    model_desc back;
    float *p2 = NULL;
    if (weights_load(path, &back, &p2, &e) != 0) fail_msg("%s", e.msg);
    free(p2);

    // An input side of 100,000 with a valid checksum: refused by the header check.
    memcpy(buf, orig, len);
    put_le32(buf + fields + 4, 100000);
    fix_crc(buf, len);
    test_write_file(path, buf, len);
    assert_int_equal(weights_load(path, &back, &p2, &e), -1);
    assert_has(e.msg, "header says inputs of 1 channels of 100000x2");

    // 2^40 parameters announced: refused before any model is built or allocated.
    memcpy(buf, orig, len);
    put_le32(buf + fields + 16, 0);
    put_le32(buf + fields + 20, 256);
    fix_crc(buf, len);
    test_write_file(path, buf, len);
    assert_int_equal(weights_load(path, &back, &p2, &e), -1);
    assert_has(e.msg, "header says 1099511627776 parameters");

    // Classes past the cap.
    memcpy(buf, orig, len);
    put_le32(buf + fields + 12, 0x7fffffff);
    fix_crc(buf, len);
    test_write_file(path, buf, len);
    assert_int_equal(weights_load(path, &back, &p2, &e), -1);
    assert_has(e.msg, "2147483647 classes");
    free(buf);
    free(orig);
    test_rmtree(dir);
}

// A PNG whose IHDR announces width x height (stb reads no further to refuse it).
static void write_png_header(const char *path, uint32_t w, uint32_t h) {
    uint8_t png[8 + 25 + 12] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    uint8_t *c = png + 8;
    be32(c, 13);
    memcpy(c + 4, "IHDR", 4);
    be32(c + 8, w);
    be32(c + 12, h);
    c[16] = 8; // bit depth
    c[17] = 2; // RGB
    be32(c + 21, (uint32_t)crc32_z(0L, c + 4, 17));
    uint8_t *end = c + 25;
    be32(end, 0);
    memcpy(end + 4, "IEND", 4);
    be32(end + 8, (uint32_t)crc32_z(0L, end + 4, 4));
    test_write_file(path, png, sizeof png);
}

static void make_image_folder(const char *dir) {
    char path[2048];
    const char *sub[] = {"train", "test", "train/a", "test/a"};
    for (int i = 0; i < 4; i++) {
        join(path, sizeof path, dir, sub[i]);
        assert_int_equal(mkdir(path, 0755), 0);
    }
}

static void test_image_dimension_caps(void **state) {
    (void)state;
    char dir[1024], path[2048];
    test_mkdtemp(dir, sizeof dir);
    make_image_folder(dir);
    join(path, sizeof path, dir, "train/a/big.png");
    write_png_header(path, 100000, 100000);
    join(path, sizeof path, dir, "test/a/big.png");
    write_png_header(path, 100000, 100000);
    lr_err e;
    assert_true(load_fails("folder", dir, &e));
    assert_has(e.msg, "big.png");
    // Over an encoded-file cap of 64 MiB: refused by its size before reading.
    join(path, sizeof path, dir, "train/a/big.png");
    int fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)65 << 20), 0); // sparse: no disk used
    close(fd);
    assert_true(load_fails("folder", dir, &e));
    assert_has(e.msg, "68157440 bytes, more than the");
    test_rmtree(dir);
}

static void test_read_all_cap(void **state) {
    (void)state;
    char dir[1024], path[2048];
    test_mkdtemp(dir, sizeof dir);
    join(path, sizeof path, dir, "f.txt");
    test_write_file(path, "0123456789", 10);
    char *buf;
    size_t len;
    lr_err e;
    assert_int_equal(fs_read_all_max(path, 9, &buf, &len, &e), -1);
    assert_has(e.msg, "10 bytes, more than the 9 bytes");
    assert_int_equal(fs_read_all_max(path, 10, &buf, &len, &e), 0);
    assert_int_equal(len, 10);
    assert_memory_equal(buf, "0123456789", 10);
    free(buf);
    // fs_read_all's documented global cap: a sparse file one byte over it.
    int fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)FS_READ_MAX + 1), 0);
    close(fd);
    assert_int_equal(fs_read_all(path, &buf, &len, &e), -1);
    assert_has(e.msg, "more than the 268435456 bytes (256 MiB)");
    test_rmtree(dir);
}

// A .tar.gz of one file of n zero bytes (tiny compressed) plus n_empty empty files.
static void write_bomb(const char *path, size_t n, int n_empty) {
    struct archive *a = archive_write_new();
    assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
    assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
    assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
    struct archive_entry *ent = archive_entry_new();
    archive_entry_set_pathname(ent, "zeros.bin");
    archive_entry_set_filetype(ent, AE_IFREG);
    archive_entry_set_perm(ent, 0644);
    archive_entry_set_size(ent, (la_int64_t)n);
    assert_int_equal(archive_write_header(a, ent), ARCHIVE_OK);
    static uint8_t zero[1 << 16];
    for (size_t done = 0; done < n;) {
        size_t k = n - done < sizeof zero ? n - done : sizeof zero;
        assert_int_equal(archive_write_data(a, zero, k), (la_ssize_t)k);
        done += k;
    }
    for (int i = 0; i < n_empty; i++) {
        char name[32];
        snprintf(name, sizeof name, "empty-%d", i);
        archive_entry_clear(ent);
        archive_entry_set_pathname(ent, name);
        archive_entry_set_filetype(ent, AE_IFREG);
        archive_entry_set_perm(ent, 0644);
        archive_entry_set_size(ent, 0);
        assert_int_equal(archive_write_header(a, ent), ARCHIVE_OK);
    }
    archive_entry_free(ent);
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
}

static void test_unpack_bomb(void **state) {
    (void)state;
    char dir[1024], archive[2048], out[2048], path[2200];
    test_mkdtemp(dir, sizeof dir);
    join(archive, sizeof archive, dir, "bomb.tar.gz");
    join(out, sizeof out, dir, "out");
    write_bomb(archive, (size_t)32 << 20, 0); // 32 MiB of zeros
    struct stat st;
    assert_int_equal(stat(archive, &st), 0);
    assert_true(st.st_size < (1 << 20)); // small compressed, big expanded
    lr_err e;
    int bad = 0;
    unpack_limits lim = {(long long)4 << 20, 0};
    assert_int_equal(unpack_archive_limited(archive, out, &lim, &bad, &e), -1);
    assert_int_equal(bad, 1);
    assert_has(e.msg, "unpacks to more than 4194304 bytes");
    assert_has(e.msg, "zeros.bin");
    // Refused from the entry's announced size, before writing any of it.
    join(path, sizeof path, out, "zeros.bin");
    assert_false(fs_exists(path));
    // Within the default limits it unpacks.
    test_rmtree(out);
    if (unpack_archive(archive, out, &bad, &e) != 0) fail_msg("%s", e.msg);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 32 << 20);
    // Too many entries.
    test_rmtree(out);
    write_bomb(archive, 10, 20);
    unpack_limits few = {0, 10};
    assert_int_equal(unpack_archive_limited(archive, out, &few, &bad, &e), -1);
    assert_has(e.msg, "more than 10 entries");
    test_rmtree(dir);
}

// ---------------------------------------------------------------- links

typedef struct {
    const char *name;
    int type;           // AE_IFREG, AE_IFDIR, AE_IFLNK, or 'h' hard link
    const char *target; // link target; file contents for AE_IFREG
} member;

static void write_tar(const char *path, const member *m, int n) {
    struct archive *a = archive_write_new();
    assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
    assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
    for (int i = 0; i < n; i++) {
        struct archive_entry *ent = archive_entry_new();
        archive_entry_set_pathname(ent, m[i].name);
        archive_entry_set_perm(ent, 0644);
        size_t len = 0;
        if (m[i].type == 'h') {
            archive_entry_set_filetype(ent, AE_IFREG);
            archive_entry_set_hardlink(ent, m[i].target);
        } else if (m[i].type == AE_IFLNK) {
            archive_entry_set_filetype(ent, AE_IFLNK);
            archive_entry_set_symlink(ent, m[i].target);
        } else if (m[i].type == AE_IFDIR) {
            archive_entry_set_filetype(ent, AE_IFDIR);
            archive_entry_set_perm(ent, 0755);
        } else {
            archive_entry_set_filetype(ent, AE_IFREG);
            len = strlen(m[i].target);
        }
        archive_entry_set_size(ent, (la_int64_t)len);
        assert_int_equal(archive_write_header(a, ent), ARCHIVE_OK);
        if (len) assert_int_equal(archive_write_data(a, m[i].target, len), (la_ssize_t)len);
        archive_entry_free(ent);
    }
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
}

static void assert_regular_with(const char *dir, const char *name, const char *text) {
    char path[2200];
    join(path, sizeof path, dir, name);
    struct stat st;
    if (lstat(path, &st) != 0) fail_msg("%s: missing", path);
    if (!S_ISREG(st.st_mode)) fail_msg("%s: a %s, expected a regular file", path, fs_kind(st.st_mode));
    char *got;
    size_t len;
    lr_err e;
    if (fs_read_all(path, &got, &len, &e) != 0) fail_msg("%s", e.msg);
    assert_string_equal(got, text);
    free(got);
}

static void test_unpack_links_become_regular_files(void **state) {
    (void)state;
    char dir[1024], archive[2048], out[2048];
    test_mkdtemp(dir, sizeof dir);
    join(archive, sizeof archive, dir, "links.tar");
    join(out, sizeof out, dir, "out");
    const member good[] = {
        {"d", AE_IFDIR, NULL},
        {"d/a.bin", AE_IFREG, "alpha"},
        {"d/sym.bin", AE_IFLNK, "a.bin"},     // relative to d/
        {"d/hard.bin", 'h', "d/a.bin"},
    };
    write_tar(archive, good, 4);
    lr_err e;
    int bad = 0;
    if (unpack_archive(archive, out, &bad, &e) != 0) fail_msg("%s", e.msg);
    assert_regular_with(out, "d/a.bin", "alpha");
    assert_regular_with(out, "d/sym.bin", "alpha");
    assert_regular_with(out, "d/hard.bin", "alpha");

    // Refused: a symlink to a folder, to an entry not unpacked before it, to
    // a missing one, climbing with "..", and a hard link to a later entry.
    const member folder_link[] = {{"d", AE_IFDIR, NULL}, {"d/sub", AE_IFDIR, NULL},
                                  {"d/to-dir", AE_IFLNK, "sub"}};
    const member later_link[] = {{"d", AE_IFDIR, NULL}, {"d/early", AE_IFLNK, "late.bin"},
                                 {"d/late.bin", AE_IFREG, "late"}};
    const member climbing[] = {{"d", AE_IFDIR, NULL}, {"d/a.bin", AE_IFREG, "alpha"},
                               {"d/up", AE_IFLNK, "../d/a.bin"}};
    const member hard_later[] = {{"d", AE_IFDIR, NULL}, {"d/h", 'h', "d/late.bin"},
                                 {"d/late.bin", AE_IFREG, "late"}};
    const member *cases[] = {folder_link, later_link, climbing, hard_later};
    const char *names[] = {"d/to-dir", "d/early", "d/up", "d/h"};
    for (int c = 0; c < 4; c++) {
        test_rmtree(out);
        write_tar(archive, cases[c], 3);
        assert_int_equal(unpack_archive(archive, out, &bad, &e), -1);
        assert_int_equal(bad, 1);
        assert_has(e.msg, "refusing archive entry");
        assert_has(e.msg, names[c]);
        char path[2200];
        join(path, sizeof path, out, names[c]);
        struct stat st;
        assert_int_not_equal(lstat(path, &st), 0); // nothing of it was written
    }
    test_rmtree(dir);
}

// ---------------------------------------------------------------- types

static void test_fs_helpers_name_special_files(void **state) {
    (void)state;
    guard();
    char dir[1024], path[2048];
    test_mkdtemp(dir, sizeof dir);
    join(path, sizeof path, dir, "x");
    for (int k = 0; k < 3; k++) {
        const char *kind = make_special(path, KINDS[k]);
        lr_err e;
        char *buf;
        size_t len;
        assert_int_equal(fs_read_all(path, &buf, &len, &e), -1);
        assert_has(e.msg, kind);
        assert_has(e.msg, path);
        assert_int_equal(fs_open_regular(path, "a thing", NULL, &e), -1);
        assert_has(e.msg, kind);
        assert_has(e.msg, "expected a thing");
        if (KINDS[k] == 'd') rmdir(path);
    }
    lr_err e;
    assert_int_equal(fs_check_regular("", "a data file", NULL, &e), -1);
    assert_has(e.msg, "empty path");
    assert_string_equal(fs_kind(S_IFSOCK), "socket");
    assert_string_equal(fs_kind(S_IFBLK), "block device");
    test_rmtree(dir);
    unguard();
}

static void test_loaders_refuse_special_files(void **state) {
    (void)state;
    guard();
    char dir[1024], path[2048];
    lr_err e;
    for (int k = 0; k < 3; k++) {
        // CIFAR-10: a batch file, then the optional names file
        test_mkdtemp(dir, sizeof dir);
        write_cifar10(dir, 2);
        join(path, sizeof path, dir, "data_batch_2.bin");
        const char *kind = make_special(path, KINDS[k]);
        assert_true(load_fails("cifar10", dir, &e));
        assert_has(e.msg, "data_batch_2.bin");
        assert_has(e.msg, kind);
        test_rmtree(dir);
        test_mkdtemp(dir, sizeof dir);
        write_cifar10(dir, 2);
        join(path, sizeof path, dir, "batches.meta.txt");
        kind = make_special(path, KINDS[k]);
        assert_true(load_fails("cifar10", dir, &e));
        assert_has(e.msg, "batches.meta.txt");
        assert_has(e.msg, kind);
        test_rmtree(dir);
        // CIFAR-100
        test_mkdtemp(dir, sizeof dir);
        join(path, sizeof path, dir, "train.bin");
        write_zeros(path, REC100);
        join(path, sizeof path, dir, "test.bin");
        kind = make_special(path, KINDS[k]);
        assert_true(load_fails("cifar100", dir, &e));
        assert_has(e.msg, "test.bin");
        assert_has(e.msg, kind);
        test_rmtree(dir);
        // MNIST
        test_mkdtemp(dir, sizeof dir);
        write_mnist(dir);
        join(path, sizeof path, dir, "t10k-labels-idx1-ubyte");
        kind = make_special(path, KINDS[k]);
        assert_true(load_fails("mnist", dir, &e));
        assert_has(e.msg, "t10k-labels-idx1-ubyte");
        assert_has(e.msg, kind);
        test_rmtree(dir);
        // image folder: a FIFO or device named like an image ('d' is a class-like folder: skipped)
        if (KINDS[k] != 'd') {
            test_mkdtemp(dir, sizeof dir);
            make_image_folder(dir);
            join(path, sizeof path, dir, "train/a/x.png");
            kind = make_special(path, KINDS[k]);
            assert_true(load_fails("folder", dir, &e));
            assert_has(e.msg, "x.png");
            assert_has(e.msg, kind);
            test_rmtree(dir);
        }
        // the image folder's train/ split ('d' is the normal case)
        if (KINDS[k] != 'd') {
            test_mkdtemp(dir, sizeof dir);
            join(path, sizeof path, dir, "test");
            assert_int_equal(mkdir(path, 0755), 0);
            join(path, sizeof path, dir, "train");
            kind = make_special(path, KINDS[k]);
            assert_true(load_fails("folder", dir, &e));
            assert_has(e.msg, "train: ");
            assert_has(e.msg, kind);
            test_rmtree(dir);
        }
        // --data itself ('d' is the normal case)
        if (KINDS[k] != 'd') {
            test_mkdtemp(dir, sizeof dir);
            join(path, sizeof path, dir, "data");
            kind = make_special(path, KINDS[k]);
            assert_true(load_fails("cifar10", path, &e));
            assert_has(e.msg, kind);
            test_rmtree(dir);
        }
    }
    unguard();
}

static void test_weights_archive_refuse_special_files(void **state) {
    (void)state;
    guard();
    char dir[1024], path[2048], out[2048];
    test_mkdtemp(dir, sizeof dir);
    join(path, sizeof path, dir, "x");
    join(out, sizeof out, dir, "out");
    for (int k = 0; k < 3; k++) {
        const char *kind = make_special(path, KINDS[k]);
        lr_err e;
        model_desc m;
        float *p = NULL;
        assert_int_equal(weights_load(path, &m, &p, &e), -1);
        assert_has(e.msg, kind);
        int bad = 0;
        assert_int_equal(unpack_archive(path, out, &bad, &e), -1);
        assert_has(e.msg, kind);
        assert_has(e.msg, "expected an archive file");
        if (KINDS[k] == 'd') rmdir(path);
    }
    test_rmtree(dir);
    unguard();
}

// A minimal study folder: study.json with one run, lr=0.1 (its folder in
// *f), and its metrics.csv of one epoch; no run.json.
static void write_study(const char *dir, study_fixture *f) {
    study_fixture_write(f, dir, "0.1", 1, 0);
    assert_int_equal(f->n, 1);
    study_fixture_put(dir, f->folder[0], "metrics.csv",
                      "epoch,lr,train_loss,train_acc,train_f1,test_loss,test_acc,test_f1,seconds\n"
                      "1,0.1,2.3,0.1,0.1,2.3,0.1,0.1,1\n");
}

static void test_study_read_refuses_special_files(void **state) {
    (void)state;
    guard();
    for (int f = 0; f < 3; f++) {
        for (int k = 0; k < 3; k++) {
            char dir[1024], path[2048], file[1024];
            test_mkdtemp(dir, sizeof dir);
            study_fixture fx;
            write_study(dir, &fx);
            // study.json, runs/lr=0.1/seed-1/metrics.csv, runs/lr=0.1/seed-1/run.json
            if (f == 0) snprintf(file, sizeof file, "study.json");
            else snprintf(file, sizeof file, "%s/%s", fx.folder[0], f == 1 ? "metrics.csv" : "run.json");
            report_study s;
            lr_err e;
            if (f == 0 && k == 0) { // the good folder reads
                if (report_study_read(dir, &s, &e) != 0) fail_msg("%s", e.msg);
                assert_int_equal(s.n_runs, 1);
                assert_int_equal(s.runs[0].n_epochs, 1);
                report_study_free(&s);
            }
            join(path, sizeof path, dir, file);
            const char *kind = make_special(path, KINDS[k]);
            assert_int_equal(report_study_read(dir, &s, &e), -1);
            assert_has(e.msg, file);
            assert_has(e.msg, kind);
            test_rmtree(dir);
        }
    }
    unguard();
}

// ---------------------------------------------------------------- paths

static void test_long_paths_named(void **state) {
    (void)state;
    char long_dir[5001];
    memset(long_dir, 'a', 5000);
    long_dir[0] = '/';
    long_dir[5000] = '\0';
    char out[FS_PATH_MAX];
    lr_err e;
    assert_int_equal(fs_path(out, sizeof out, long_dir, "data_batch_1.bin", &e), -1);
    assert_has(e.msg, "path too long");
    assert_has(e.msg, "/aaaaaaaaaa");
    // A folder that fits FS_PATH_MAX, but not with the names inside it.
    char near[4081];
    memset(near, 'b', 4080);
    near[0] = '/';
    near[4080] = '\0';
    assert_int_equal(fs_check_room(near, FS_STUDY_NAME_MAX, "--out", &e), -1);
    assert_has(e.msg, "--out /bbbb");
    assert_has(e.msg, "Choose a shorter folder");
    assert_int_equal(fs_check_room("results/x", FS_STUDY_NAME_MAX, "--out", &e), 0);
    assert_int_equal(fs_check_room("", FS_STUDY_NAME_MAX, "--out", &e), -1);
    assert_has(e.msg, "--out is empty");
    // Every loader and the report reader: a message, not an assertion.
    const char *sets[] = {"cifar10", "cifar100", "mnist", "folder"};
    for (int i = 0; i < 4; i++) {
        assert_true(load_fails(sets[i], long_dir, &e));
        assert_has(e.msg, "--data");
        assert_true(load_fails(sets[i], near, &e));
        assert_has(e.msg, "--data");
        assert_true(load_fails(sets[i], "", &e));
        assert_has(e.msg, "empty");
    }
    report_study s;
    assert_int_equal(report_study_read(long_dir, &s, &e), -1);
    assert_has(e.msg, "/aaaa");
    assert_int_equal(report_study_read("", &s, &e), -1);
    assert_has(e.msg, "empty");
}

// ---------------------------------------------------------------- reasons, memory

static void test_reasons_never_null(void **state) {
    (void)state;
    assert_string_equal(lr_reason(NULL), "no reason given");
    assert_string_equal(lr_reason(""), "no reason given");
    assert_string_equal(lr_reason("bad header"), "bad header");
    assert_string_not_equal(lr_strerror(0), strerror(0)); // not "Success"
    assert_string_equal(lr_strerror(ENOENT), strerror(ENOENT));
    // Undecodable images go through stb's reason: a message, no "(null)".
    char dir[1024], path[2048];
    test_mkdtemp(dir, sizeof dir);
    make_image_folder(dir);
    join(path, sizeof path, dir, "train/a/x.png");
    test_write_file(path, "not a png", 9);
    join(path, sizeof path, dir, "test/a/x.png");
    test_write_file(path, "not a png", 9);
    lr_err e;
    assert_true(load_fails("folder", dir, &e)); // load_fails checks for "(null)"
    assert_has(e.msg, "cannot read image");
    test_rmtree(dir);
}

// Runs fn in a child; returns its exit status (fails if it was killed by a signal).
static int child_status(void (*fn)(void)) {
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        freopen("/dev/null", "w", stderr);
        fn();
        _exit(0);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (WIFSIGNALED(st)) fail_msg("killed by signal %d (an abort?), expected exit 2", WTERMSIG(st));
    return WEXITSTATUS(st);
}

static void huge_malloc(void) {
    volatile size_t n = SIZE_MAX / 2;
    void *p = lr_malloc(n);
    free(p);
}
static void huge_calloc(void) {
    volatile size_t n = SIZE_MAX / 4;
    void *p = lr_calloc(n, 8); // overflows size_t
    free(p);
}
static void huge_realloc(void) {
    volatile size_t n = SIZE_MAX / 2;
    void *p = lr_realloc(NULL, n);
    free(p);
}
static void huge_dataset(void) {
    dataset d;
    dataset_alloc(&d, 1 << 30, 3, 1 << 10, 1 << 10, 10); // 3 PiB
    dataset_free(&d);
}

static void long_join(void) {
    char long_dir[5001], out[FS_PATH_MAX];
    memset(long_dir, 'j', 5000);
    long_dir[5000] = '\0';
    fs_join(out, sizeof out, long_dir, "x");
}

// fs_join, kept for code that checked its lengths first, still never
// aborts: a path that does not fit is a message and exit 2.
static void test_fs_join_exits_2(void **state) {
    (void)state;
    assert_int_equal(child_status(long_join), EXIT_BAD_INPUT);
    char out[16];
    fs_join(out, sizeof out, "a", "b");
    assert_string_equal(out, "a/b");
}

static void test_out_of_memory_exits_2(void **state) {
    (void)state;
    assert_int_equal(child_status(huge_malloc), EXIT_BAD_INPUT);
    assert_int_equal(child_status(huge_calloc), EXIT_BAD_INPUT);
    assert_int_equal(child_status(huge_realloc), EXIT_BAD_INPUT);
    assert_int_equal(child_status(huge_dataset), EXIT_BAD_INPUT);
    volatile size_t n = SIZE_MAX / 4;
    assert_null(lr_try_calloc(n, 8));
    assert_null(lr_try_malloc(n * 2));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cifar10_too_many_whole_records),
        cmocka_unit_test(test_cifar100_too_many_whole_records),
        cmocka_unit_test(test_idx_header_caps),
        cmocka_unit_test(test_weights_header_caps),
        cmocka_unit_test(test_image_dimension_caps),
        cmocka_unit_test(test_read_all_cap),
        cmocka_unit_test(test_unpack_bomb),
        cmocka_unit_test(test_unpack_links_become_regular_files),
        cmocka_unit_test(test_fs_helpers_name_special_files),
        cmocka_unit_test(test_loaders_refuse_special_files),
        cmocka_unit_test(test_weights_archive_refuse_special_files),
        cmocka_unit_test(test_study_read_refuses_special_files),
        cmocka_unit_test(test_long_paths_named),
        cmocka_unit_test(test_reasons_never_null),
        cmocka_unit_test(test_out_of_memory_exits_2),
        cmocka_unit_test(test_fs_join_exits_2),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
