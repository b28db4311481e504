// dataset.h: an image-classification data set held in memory as raw bytes,
// and the registry of data sets lrscope knows (CIFAR-10 and friends).
//
//   dataset train, test;
//   lr_err err;
//   const dataset_info *info = dataset_find("cifar10");
//   if (dataset_load(info, "data/cifar-10-batches-bin", &train, &test, &err) != 0)
//       fprintf(stderr, "lrscope: %s\n", err.msg);
//   ...
//   dataset_free(&train); dataset_free(&test);
#ifndef LRSCOPE_DATASET_H
#define LRSCOPE_DATASET_H

#include "../util/common.h"

#define DATASET_MAX_CHANNELS 3

typedef struct {
    int n;                 // number of images
    int c, h, w;           // image shape: channels, height, width
    int num_classes;
    uint8_t *pixels;       // (n, c, h, w), planes row-major, owned
    uint16_t *labels;      // (n), each < num_classes, owned
    char **class_names;    // (num_classes) owned strings
    float *lanes;          // optional, owned: every image normalised (no augmentation), in
                           // groups of LANES in order: (ceil(n / LANES), c, h, w, LANES);
                           // see loader_prepare_lanes
} dataset;

// What lrscope knows about one data set: where its files live, how to
// normalise it (torchvision's Normalize constants) and how to augment it.
typedef struct dataset_info {
    const char *name;          // "cifar10", "cifar100", "mnist", ...
    const char *folder;        // default sub-folder of the data root
    int c, h, w, num_classes;  // shape; 0 where it follows the files ("folder")
    float mean[DATASET_MAX_CHANNELS];
    float std[DATASET_MAX_CHANNELS];
    int crop_padding;          // RandomCrop padding for training (0 = no crop)
    int hflip;                 // RandomHorizontalFlip(p=0.5) for training
    // Loads train and test splits from dir (the folder holding the files).
    int (*load)(const char *dir, dataset *train, dataset *test, lr_err *e);
} dataset_info;

const dataset_info *dataset_find(const char *name);
// Comma-separated list of known names, for messages and --help.
const char *dataset_names(void);

int dataset_load(const dataset_info *info, const char *dir, dataset *train,
                 dataset *test, lr_err *e);
void dataset_free(dataset *d);

// Checks a data folder given from outside before a loader looks inside:
// fails for an empty path, a path too long for the files inside it, or
// something that exists but is not a folder (naming what it is). A missing
// folder passes: each loader says what belongs there.
int dataset_check_dir(const char *dir, lr_err *e);

// Allocates an empty data set of the given shape (used by loaders and tests).
void dataset_alloc(dataset *d, int n, int c, int h, int w, int num_classes);
// Sets class names "0".."k-1" unless already set.
void dataset_default_class_names(dataset *d);

// Loaders, one per format (each in its own file).
int cifar10_load(const char *dir, dataset *train, dataset *test, lr_err *e);
// CIFAR-10's standard class names (cifar10.c), label order.
extern const char *const CIFAR10_CLASS_NAMES[10];
// cifar100.c: train.bin/test.bin; fine labels (100 classes) or coarse (20).
int cifar100_load(const char *dir, dataset *train, dataset *test, lr_err *e);
int cifar100_coarse_load(const char *dir, dataset *train, dataset *test, lr_err *e);
// mnist.c: {train,t10k}-{images-idx3,labels-idx1}-ubyte, gzipped or not.
int mnist_load(const char *dir, dataset *train, dataset *test, lr_err *e);
int fashion_mnist_load(const char *dir, dataset *train, dataset *test, lr_err *e);
// image_folder.c: DIR/train/CLASS/*.png|jpg and DIR/test/CLASS/*.png|jpg.
int image_folder_load(const char *dir, dataset *train, dataset *test, lr_err *e);
// One PNG or JPEG file, with the loader's checks and caps, decoded to c
// channels (1 or 3: grey is repeated, alpha dropped, colour made grey as
// stb_image does) into *pixels (c, h, w), owned by the caller.
int image_decode_file(const char *path, int c, uint8_t **pixels, int *h, int *w, lr_err *e);

#endif
