// weights.h: the trained-weights file (docs/output-format.md): magic LRSW,
// version, model description, input shape, classes, the parameters, and a
// CRC-32 of everything before it.
#ifndef LRSCOPE_WEIGHTS_H
#define LRSCOPE_WEIGHTS_H

#include "../model/model.h"

#define WEIGHTS_VERSION 1

int weights_save(const char *path, const model_desc *m, const float *params, lr_err *e);
// Reads a file into a freshly built model and parameter array (owned by caller).
int weights_load(const char *path, model_desc *m, float **params, lr_err *e);

#endif
