// fuzz_cifar100.c: the CIFAR-100 binary files (src/data/cifar100.c), fine
// and coarse labels. Input: train.bin, test.bin, fine_label_names.txt,
// coarse_label_names.txt, split on FUZZ_SEP; the first byte picks fine or coarse.
#include "fuzz_data_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
    static const char *const names[] = {"train.bin", "test.bin", "fine_label_names.txt",
                                        "coarse_label_names.txt"};
    if (n == 0) return 0;
    return fuzz_load(data[0] & 1 ? cifar100_coarse_load : cifar100_load, names, 4, data + 1, n - 1);
}
