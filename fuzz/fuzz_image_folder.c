// fuzz_image_folder.c: image folders (src/data/image_folder.c) and the PNG
// and JPEG decoding behind them. Input: four image files, split on FUZZ_SEP,
// placed in two classes of the train and test splits.
#include "fuzz_data_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
    static const char *const names[] = {"train/cat/a.png", "train/dog/b.jpg", "test/cat/c.png",
                                        "test/dog/d.jpeg"};
    return fuzz_load(image_folder_load, names, 4, data, n);
}
