// dataset.c: the table of known data sets and the dataset struct's lifetime.
#include "dataset.h"

#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "../util/fsutil.h"

static const dataset_info DATASETS[] = {
    // torchvision's CIFAR-10 constants as used by the seed study.
    {"cifar10", "cifar-10-batches-bin", 3, 32, 32, 10,
     {0.4914f, 0.4822f, 0.4465f}, {0.2023f, 0.1994f, 0.2010f}, 4, 1, cifar10_load},
    // CIFAR-100 training-set statistics, as commonly used with torchvision.
    {"cifar100", "cifar-100-binary", 3, 32, 32, 100,
     {0.5071f, 0.4865f, 0.4409f}, {0.2673f, 0.2564f, 0.2762f}, 4, 1, cifar100_load},
    {"cifar100-coarse", "cifar-100-binary", 3, 32, 32, 20,
     {0.5071f, 0.4865f, 0.4409f}, {0.2673f, 0.2564f, 0.2762f}, 4, 1, cifar100_coarse_load},
    // torchvision's MNIST example constants; digits must not be flipped.
    {"mnist", "mnist", 1, 28, 28, 10, {0.1307f}, {0.3081f}, 0, 0, mnist_load},
    {"fashion-mnist", "fashion-mnist", 1, 28, 28, 10, {0.2860f}, {0.3530f}, 0, 0,
     fashion_mnist_load},
    // Your own images (image_folder.c): shape and classes follow the files;
    // Normalize(0.5, 0.5) maps pixels to [-1, 1] whatever they hold.
    {"folder", "images", 0, 0, 0, 0,
     {0.5f, 0.5f, 0.5f}, {0.5f, 0.5f, 0.5f}, 0, 0, image_folder_load},
};
enum { N_DATASETS = sizeof DATASETS / sizeof DATASETS[0] };

const dataset_info *dataset_find(const char *name) {
    for (int i = 0; i < N_DATASETS; i++)
        if (strcmp(DATASETS[i].name, name) == 0) return &DATASETS[i];
    return NULL;
}

const char *dataset_names(void) {
    static char names[256];
    if (!names[0]) {
        for (int i = 0; i < N_DATASETS; i++) {
            if (i) strcat(names, ", ");
            strcat(names, DATASETS[i].name);
        }
    }
    return names;
}

int dataset_load(const dataset_info *info, const char *dir, dataset *train,
                 dataset *test, lr_err *e) {
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    if (info->load(dir, train, test, e) != 0) {
        dataset_free(train);
        dataset_free(test);
        return -1;
    }
    dataset_default_class_names(train);
    dataset_default_class_names(test);
    return 0;
}

int dataset_check_dir(const char *dir, lr_err *e) {
    if (!dir[0]) return lr_fail(e, "the data folder (--data) is empty; expected a folder path");
    // 64: the longest file name a loader opens directly inside the folder.
    if (fs_check_room(dir, 64, "--data", e) != 0) return -1;
    struct stat st;
    if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
        return lr_fail(e, "%s: is a %s, expected the folder holding the data set's files",
                       dir, fs_kind(st.st_mode));
    return 0;
}

void dataset_alloc(dataset *d, int n, int c, int h, int w, int num_classes) {
    memset(d, 0, sizeof *d);
    d->n = n;
    d->c = c;
    d->h = h;
    d->w = w;
    d->num_classes = num_classes;
    // Large, read often, never freed until the end: ask for huge pages
    // (fewer page faults at load, fewer TLB misses while shuffling through it).
    size_t bytes = (size_t)n * c * h * w, align = (size_t)2 << 20;
    void *p = NULL;
    if (bytes >= align && posix_memalign(&p, align, (bytes + align - 1) / align * align) == 0) {
        madvise(p, (bytes + align - 1) / align * align, MADV_HUGEPAGE);
        d->pixels = p;
    } else {
        d->pixels = lr_malloc(bytes);
    }
    d->labels = lr_calloc((size_t)n, sizeof *d->labels);
}

void dataset_default_class_names(dataset *d) {
    if (d->class_names || d->num_classes <= 0) return;
    d->class_names = lr_calloc((size_t)d->num_classes, sizeof *d->class_names);
    for (int k = 0; k < d->num_classes; k++) {
        char buf[16];
        snprintf(buf, sizeof buf, "%d", k);
        d->class_names[k] = lr_strdup(buf);
    }
}

void dataset_free(dataset *d) {
    free(d->pixels);
    free(d->lanes);
    free(d->labels);
    if (d->class_names)
        for (int k = 0; k < d->num_classes; k++) free(d->class_names[k]);
    free(d->class_names);
    memset(d, 0, sizeof *d);
}
