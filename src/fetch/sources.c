// sources.c: the table of official download locations and checksums. URLs
// and MD5s are those of torchvision's CIFAR10/CIFAR100 (binary versions from
// the author's site), MNIST and FashionMNIST classes.
#include "sources.h"

#include <string.h>

static const fetch_source SOURCES[] = {
    {"cifar-10-batches-bin", "cifar10",
     {"https://www.cs.toronto.edu/~kriz/"},
     {{"cifar-10-binary.tar.gz", "c32a1d4ab5d03f1284b67883e8d87530", 170052171}}, 1,
     "cifar-10-batches-bin",
     {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
      "data_batch_5.bin", "test_batch.bin"},
     256LL << 20, 64}, // unpacks to 185 MB in 9 entries
    {"cifar-100-binary", "cifar100, cifar100-coarse",
     {"https://www.cs.toronto.edu/~kriz/"},
     {{"cifar-100-binary.tar.gz", "03b5dce01913d631647c71ecec9e9cb8", 0}}, 1,
     "cifar-100-binary",
     {"train.bin", "test.bin"},
     256LL << 20, 64}, // unpacks to 185 MB in 6 entries
    // yann.lecun.com often refuses robots now; torchvision tries S3 first too.
    {"mnist", "mnist",
     {"https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"},
     {{"train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873", 0},
      {"train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432", 0},
      {"t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3", 0},
      {"t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c", 0}}, 4,
     NULL,
     {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
      "t10k-labels-idx1-ubyte.gz"},
     0, 0},
    {"fashion-mnist", "fashion-mnist",
     {"http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
      "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"},
     {{"train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d", 0},
      {"train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe", 0},
      {"t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79", 0},
      {"t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310", 0}}, 4,
     NULL,
     {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
      "t10k-labels-idx1-ubyte.gz"},
     0, 0},
};
enum { N_SOURCES = sizeof SOURCES / sizeof SOURCES[0] };

const fetch_source *sources_find(const char *folder) {
    for (int i = 0; i < N_SOURCES; i++)
        if (strcmp(SOURCES[i].folder, folder) == 0) return &SOURCES[i];
    return NULL;
}

int sources_count(void) { return N_SOURCES; }

const fetch_source *sources_at(int i) {
    LR_ASSERT(i >= 0 && i < N_SOURCES);
    return &SOURCES[i];
}
