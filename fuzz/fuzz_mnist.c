// fuzz_mnist.c: the IDX files of MNIST (src/data/mnist.c), raw or gzipped
// (zlib reads both under the same name). Input: train images, train labels,
// test images, test labels, split on FUZZ_SEP.
#include "fuzz_data_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
    static const char *const names[] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                        "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
    return fuzz_load(mnist_load, names, 4, data, n);
}
