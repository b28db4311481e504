// fuzz_cifar10.c: the CIFAR-10 binary batches (src/data/cifar10.c). Input:
// data_batch_1..5.bin, test_batch.bin and batches.meta.txt, split on FUZZ_SEP.
#include "fuzz_data_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
    static const char *const names[] = {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                                        "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin",
                                        "batches.meta.txt"};
    return fuzz_load(cifar10_load, names, 7, data, n);
}
