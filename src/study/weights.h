// weights.h: the trained-weights file (docs/output-format.md): magic LRSW,
// version, model description, input shape, the parameters, (version 3) the
// model's buffers (batch norm's running statistics), then what the
// model was trained on (data set name, normalisation constants, class
// names), and a CRC-32 of everything before it.
//
//   weights_meta meta;
//   if (weights_read(path, NULL, &m, &params, &meta, &err) != 0) ...   // exit 2
//   ... meta.dataset, meta.mean[c], meta.class_names[k], meta.note ...
//   weights_meta_free(&meta); free(params);
#ifndef LRSCOPE_WEIGHTS_H
#define LRSCOPE_WEIGHTS_H

#include "../data/dataset.h"
#include "../model/model.h"

// Version 3 is written for models with buffers (batch norm), version 2 for
// the others (byte for byte what earlier lrscopes wrote); 1, 2 and 3 load.
#define WEIGHTS_VERSION 3
enum { WEIGHTS_NAME_MAX = 255 }; // bytes of a data set or class name in the file

typedef struct {
    int version;              // of the file read (1, 2 or 3)
    char dataset[WEIGHTS_NAME_MAX + 1];
    int c;                    // channels: mean and std hold c values
    float mean[DATASET_MAX_CHANNELS], std[DATASET_MAX_CHANNELS];
    int num_classes;
    char **class_names;       // (num_classes) owned
    char note[512];           // a version-1 file: what came from the data set's defaults
} weights_meta;

// Fills meta from a data set description and its class names (copied).
void weights_meta_from(weights_meta *w, const dataset_info *info, int c, int num_classes,
                       char *const *class_names);
void weights_meta_free(weights_meta *w);

// params: the model's state, model_state_floats(m) floats (parameters, then buffers).
int weights_save(const char *path, const model_desc *m, const float *params, const weights_meta *meta,
                 lr_err *e);
// Reads a file into a freshly built model, state array (model_state_floats; owned by caller)
// and meta (weights_meta_free). A version-1 file lacks the data set: it is
// dataset_hint when given (NULL: the one known data set of its input shape
// and class count), with that data set's normalisation and class names, said
// in meta->note; refused when neither tells it.
int weights_read(const char *path, const char *dataset_hint, model_desc *m, float **params,
                 weights_meta *meta, lr_err *e);
// weights_read without the description.
int weights_load(const char *path, model_desc *m, float **params, lr_err *e);

#endif
