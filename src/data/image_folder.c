// image_folder.c: a data set stored as image files in one folder per class,
// like torchvision's ImageFolder:
//   DIR/train/CLASS/*.png|*.jpg|*.jpeg   training images
//   DIR/test/CLASS/*.png|*.jpg|*.jpeg    test images
// Class folder names of DIR/train, sorted bytewise (as Python's sorted()),
// become labels 0..k-1; DIR/test uses the same labels, so a test class
// folder must also exist under train (a missing one just has no images).
// Images are decoded with stb_image in their own channel count, an alpha
// channel dropped (as PIL's convert does): grey gives 1 channel, colour 3.
// Every image must have the size and channel count of the first one.
// Hidden files and files with other extensions are skipped; BMP, GIF, PPM,
// PGM, TIFF and WebP, which torchvision would read, are refused by name.
#define _POSIX_C_SOURCE 200809L
#include "dataset.h"
#include "../util/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <strings.h>
#include <string.h>
#include <sys/stat.h>

#if defined(__has_include)
#if !__has_include(<stb/stb_image.h>)
#error "stb_image.h not found: install the Debian package libstb-dev"
#endif
#endif

// stb_image is compiled into this file, privately and with only the two
// decoders needed: less code facing untrusted files, no link dependency.
// Its header declares stbi_set_unpremultiply_on_load_thread, which it never
// defines; as a static that warns at the end of the file, hence file-wide.
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#define STBI_MAX_DIMENSIONS 8192 // = MAX_SIDE: stb refuses larger images itself
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_NO_STDIO
#define STBI_NO_GIF
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#include <stb/stb_image.h>
#pragma GCC diagnostic pop

enum { MAX_SIDE = 8192, MAX_CLASSES = 65535, MAX_IMAGES = 10000000 };
static const long long MAX_BYTES = 1LL << 34; // pixels held in memory, all images
static const size_t MAX_FILE_BYTES = (size_t)64 << 20; // one encoded image file

typedef struct {
    char **items;
    int n, cap;
} str_list;

typedef struct {
    str_list paths;          // every image, class by class
    uint16_t *labels;        // (paths.n)
    int labels_cap;
} file_list;

static void list_push(str_list *l, const char *s) {
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        l->items = lr_realloc(l->items, (size_t)cap * sizeof *l->items);
        l->cap = cap;
    }
    l->items[l->n++] = lr_strdup(s);
}

static void list_free(str_list *l) {
    for (int i = 0; i < l->n; i++) free(l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

// Sorted names in dir: folders (want_dirs) or everything else (an image
// name that is a FIFO or device is listed, to be refused by type when read),
// hidden skipped.
static int list_dir(const char *dir, int want_dirs, str_list *out, lr_err *e) {
    DIR *d = opendir(dir);
    if (!d) return lr_fail(e, "%s: cannot open folder: %s", dir, lr_strerror(errno));
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') continue;
        char path[FS_PATH_MAX];
        struct stat st;
        if (fs_path(path, sizeof path, dir, de->d_name, e) != 0) {
            closedir(d);
            list_free(out);
            return -1;
        }
        if (stat(path, &st) != 0) continue; // a dangling link: not an image
        if (want_dirs == !!S_ISDIR(st.st_mode)) list_push(out, de->d_name);
        if (out->n > MAX_IMAGES) {
            closedir(d);
            list_free(out);
            return lr_fail(e, "%s: more than %d entries; at most %d images are read", dir,
                           MAX_IMAGES, MAX_IMAGES);
        }
    }
    closedir(d);
    if (out->n > 1) qsort(out->items, (size_t)out->n, sizeof *out->items, cmp_str);
    return 0;
}

// 1 for PNG/JPEG, -1 for an image format we do not decode, 0 for other files.
static int image_kind(const char *name) {
    static const char *ok[] = {".png", ".jpg", ".jpeg"};
    static const char *refused[] = {".bmp", ".gif", ".ppm", ".pgm", ".pbm", ".tif", ".tiff", ".webp"};
    const char *dot = strrchr(name, '.');
    if (!dot) return 0;
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        if (strcasecmp(dot, ok[i]) == 0) return 1;
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++)
        if (strcasecmp(dot, refused[i]) == 0) return -1;
    return 0;
}

// Every image of split_dir, class by class, each labelled by its class's
// index in classes (sorted).
static int list_images(const char *split_dir, const str_list *classes, file_list *fl, lr_err *e) {
    str_list present = {0};
    if (list_dir(split_dir, 1, &present, e) != 0) return -1;
    for (int i = 0; i < present.n; i++) {
        if (!bsearch(&present.items[i], classes->items, (size_t)classes->n, sizeof(char *), cmp_str)) {
            lr_fail(e, "%s/%s: a class folder that the training split lacks; the test split "
                       "must use the training split's classes",
                    split_dir, present.items[i]);
            list_free(&present);
            return -1;
        }
    }
    list_free(&present);
    for (int k = 0; k < classes->n; k++) {
        char cdir[FS_PATH_MAX];
        if (fs_path(cdir, sizeof cdir, split_dir, classes->items[k], e) != 0) return -1;
        if (!fs_is_dir(cdir)) continue;
        str_list files = {0};
        if (list_dir(cdir, 0, &files, e) != 0) return -1;
        for (int i = 0; i < files.n; i++) {
            int kind = image_kind(files.items[i]);
            if (kind < 0) {
                lr_fail(e, "%s/%s: unsupported image format; expected PNG or JPEG (convert it, "
                           "or move it out of the folder)",
                        cdir, files.items[i]);
                list_free(&files);
                return -1;
            }
            if (kind == 0) continue;
            char path[FS_PATH_MAX];
            if (fs_path(path, sizeof path, cdir, files.items[i], e) != 0 ||
                fs_check_regular(path, "a PNG or JPEG image file", NULL, e) != 0) {
                list_free(&files);
                return -1;
            }
            if (fl->paths.n >= MAX_IMAGES) {
                list_free(&files);
                return lr_fail(e, "%s: more than %d images; not a data set lrscope can hold",
                               split_dir, MAX_IMAGES);
            }
            list_push(&fl->paths, path);
            if (fl->paths.n > fl->labels_cap) {
                fl->labels_cap = fl->paths.cap;
                fl->labels = lr_realloc(fl->labels, (size_t)fl->labels_cap * sizeof *fl->labels);
            }
            fl->labels[fl->paths.n - 1] = (uint16_t)k;
        }
        list_free(&files);
    }
    if (fl->paths.n == 0)
        return lr_fail(e, "%s: no PNG or JPEG images in its class folders; expected "
                          "%s/CLASS/IMAGE.png",
                       split_dir, split_dir);
    return 0;
}

// Shape of one decoded image: channels after dropping alpha.
typedef struct {
    int w, h, c;
} shape;

// stb_image 2.27 (Debian's libstb-dev) trusts a JPEG Huffman table's symbol
// count (up to 16 x 255) and overflows its 256-entry arrays when it is larger
// (fixed in stb 2.28). Every DHT segment, wherever it appears, is checked first.
// stb takes any file that starts FF, more FF fill bytes, D8 for a JPEG; a
// file that starts otherwise is never read as one.
static int jpeg_huffman_ok(const uint8_t *buf, size_t len) {
    if (len < 2 || buf[0] != 0xFF) return 1; // not a JPEG
    for (size_t i = 2; i + 4 <= len; i++) {
        if (buf[i] != 0xFF || buf[i + 1] != 0xC4) continue;
        // As stb reads it: tables while the segment length lasts, bytes past
        // the end of the file reading as 0.
        long left = ((long)buf[i + 2] << 8 | buf[i + 3]) - 2;
        for (size_t q = i + 4; left > 0 && q < len;) {
            long n = 0;
            for (size_t k = q + 1; k <= q + 16 && k < len; k++) n += buf[k];
            if (n > 256) return 0;
            left -= 17 + n;
            q += 17 + (size_t)n;
        }
    }
    return 1;
}

// stb_image grows its PNG data buffer to a chunk's declared length before
// reading it, so a few hundred bytes can ask for 2 GB. No chunk of a valid
// PNG runs past the end of the file: checked first, up to IEND.
static int png_chunks_ok(const uint8_t *buf, size_t len) {
    static const uint8_t SIG[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    if (len < 8 || memcmp(buf, SIG, 8) != 0) return 1; // not a PNG
    for (size_t pos = 8; pos + 8 <= len;) {
        size_t n = (size_t)buf[pos] << 24 | (size_t)buf[pos + 1] << 16 | (size_t)buf[pos + 2] << 8 | buf[pos + 3];
        if (n > len - pos - 8) return 0; // data (and CRC) past the end
        if (memcmp(buf + pos + 4, "IEND", 4) == 0) break;
        pos += 12 + n;
    }
    return 1;
}

static int probe(const char *path, const uint8_t *buf, size_t len, shape *s, lr_err *e) {
    int comp;
    if (!png_chunks_ok(buf, len))
        return lr_fail(e, "%s: corrupt PNG: a chunk is longer than the rest of the file", path);
    if (!jpeg_huffman_ok(buf, len))
        return lr_fail(e, "%s: corrupt JPEG: a Huffman table holds more than 256 symbols", path);
    if (len > INT32_MAX || !stbi_info_from_memory(buf, (int)len, &s->w, &s->h, &comp))
        return lr_fail(e, "%s: cannot read image: %s; expected a PNG or JPEG file", path,
                       lr_reason(stbi_failure_reason()));
    s->c = comp >= 3 ? 3 : 1;
    if (s->w < 1 || s->h < 1 || s->w > MAX_SIDE || s->h > MAX_SIDE)
        return lr_fail(e, "%s: %dx%d pixels; expected sides of 1..%d", path, s->w, s->h, MAX_SIDE);
    return 0;
}

// Decodes path into image idx of d (planes), checking its shape against d's.
static int decode_into(const char *path, const char *first, dataset *d, int idx, lr_err *e) {
    char *buf;
    size_t len;
    if (fs_read_all_max(path, MAX_FILE_BYTES, &buf, &len, e) != 0) return -1;
    shape s;
    if (probe(path, (const uint8_t *)buf, len, &s, e) != 0) {
        free(buf);
        return -1;
    }
    if (s.w != d->w || s.h != d->h || s.c != d->c) {
        free(buf);
        return lr_fail(e, "%s: %dx%d with %d channel%s, expected %dx%d with %d channel%s like "
                          "%s; all images must share one size and channel count",
                       path, s.w, s.h, s.c, s.c == 1 ? "" : "s", d->w, d->h, d->c,
                       d->c == 1 ? "" : "s", first);
    }
    int w, h, comp;
    uint8_t *px = stbi_load_from_memory((const uint8_t *)buf, (int)len, &w, &h, &comp, d->c);
    free(buf);
    if (!px)
        return lr_fail(e, "%s: cannot decode image: %s", path, lr_reason(stbi_failure_reason()));
    size_t plane = (size_t)d->h * d->w;
    uint8_t *dst = d->pixels + (size_t)idx * d->c * plane;
    for (size_t p = 0; p < plane; p++)
        for (int c = 0; c < d->c; c++) dst[c * plane + p] = px[p * d->c + c];
    stbi_image_free(px);
    return 0;
}

int image_decode_file(const char *path, int c, uint8_t **pixels, int *h, int *w, lr_err *e) {
    LR_ASSERT(c == 1 || c == 3);
    *pixels = NULL;
    char *buf;
    size_t len;
    if (fs_read_all_max(path, MAX_FILE_BYTES, &buf, &len, e) != 0) return -1;
    shape s;
    if (probe(path, (const uint8_t *)buf, len, &s, e) != 0) {
        free(buf);
        return -1;
    }
    int comp;
    uint8_t *px = stbi_load_from_memory((const uint8_t *)buf, (int)len, w, h, &comp, c);
    free(buf);
    if (!px)
        return lr_fail(e, "%s: cannot decode image: %s", path, lr_reason(stbi_failure_reason()));
    size_t plane = (size_t)*h * *w;
    uint8_t *out = lr_malloc((size_t)c * plane);
    for (size_t p = 0; p < plane; p++)
        for (int k = 0; k < c; k++) out[k * plane + p] = px[p * c + k];
    stbi_image_free(px);
    *pixels = out;
    return 0;
}

// Decodes a listed split into d; shape0 fixes the size (from the first
// training image, first0 names it).
static int load_split(const file_list *fl, const shape *s0, const char *first0,
                      const str_list *classes, dataset *d, lr_err *e) {
    if ((long long)fl->paths.n * s0->c * s0->h * s0->w > MAX_BYTES)
        return lr_fail(e, "%s: %d images of %dx%dx%d need more than %lld bytes of memory", first0,
                       fl->paths.n, s0->c, s0->h, s0->w, MAX_BYTES);
    dataset_alloc(d, fl->paths.n, s0->c, s0->h, s0->w, classes->n);
    for (int i = 0; i < fl->paths.n; i++) {
        if (decode_into(fl->paths.items[i], first0, d, i, e) != 0) return -1;
        d->labels[i] = fl->labels[i];
    }
    d->class_names = lr_calloc((size_t)classes->n, sizeof *d->class_names);
    for (int k = 0; k < classes->n; k++) d->class_names[k] = lr_strdup(classes->items[k]);
    return 0;
}

static int first_shape(const char *path, shape *s, lr_err *e) {
    char *buf;
    size_t len;
    if (fs_read_all_max(path, MAX_FILE_BYTES, &buf, &len, e) != 0) return -1;
    int rc = probe(path, (const uint8_t *)buf, len, s, e);
    free(buf);
    return rc;
}

int image_folder_load(const char *dir, dataset *train, dataset *test, lr_err *e) {
    char train_dir[FS_PATH_MAX], test_dir[FS_PATH_MAX];
    if (dataset_check_dir(dir, e) != 0 || fs_path(train_dir, sizeof train_dir, dir, "train", e) != 0 ||
        fs_path(test_dir, sizeof test_dir, dir, "test", e) != 0)
        return -1;
    const char *split_dirs[2] = {train_dir, test_dir};
    for (int i = 0; i < 2; i++) {
        struct stat st;
        if (stat(split_dirs[i], &st) == 0 && !S_ISDIR(st.st_mode))
            return lr_fail(e, "%s: is a %s, expected a folder holding one folder of PNG or JPEG "
                              "images per class", split_dirs[i], fs_kind(st.st_mode));
    }
    if (!fs_is_dir(train_dir) || !fs_is_dir(test_dir))
        return lr_fail(e, "%s: expected sub-folders train/ and test/, each holding one folder "
                          "of PNG or JPEG images per class (%s/train/CLASS/IMAGE.png); %s is "
                          "missing",
                       dir, dir, fs_is_dir(train_dir) ? test_dir : train_dir);
    str_list classes = {0};
    file_list tr = {0}, te = {0};
    shape s0;
    int rc = list_dir(train_dir, 1, &classes, e);
    if (rc == 0 && classes.n == 0)
        rc = lr_fail(e, "%s: no class folders; expected one folder of images per class", train_dir);
    if (rc == 0 && classes.n > MAX_CLASSES)
        rc = lr_fail(e, "%s: %d class folders, at most %d supported", train_dir, classes.n,
                     MAX_CLASSES);
    if (rc == 0) rc = list_images(train_dir, &classes, &tr, e);
    if (rc == 0) rc = list_images(test_dir, &classes, &te, e);
    if (rc == 0) rc = first_shape(tr.paths.items[0], &s0, e);
    if (rc == 0) rc = load_split(&tr, &s0, tr.paths.items[0], &classes, train, e);
    if (rc == 0) rc = load_split(&te, &s0, tr.paths.items[0], &classes, test, e);
    list_free(&classes);
    list_free(&tr.paths);
    list_free(&te.paths);
    free(tr.labels);
    free(te.labels);
    return rc;
}
