// study_file.h: a study described in a YAML file (README, "A study file"):
//
//     name: lr-vs-momentum
//     dataset: cifar10          # any knob here is a base setting too
//     epochs: 30
//     seeds: 5                  # seeds 1..5, or a list: [1, 2, 7]
//     base:                     # any knob; omitted ones keep their defaults
//       momentum: 0.9
//     grid:                     # axis -> list, {logspace: [a, b, n]} or {linspace: [a, b, n]}
//       lr: {logspace: [1.0e-4, 1.0, 9]}
//       momentum: [0.0, 0.9]
//
// The knob table (knobs.h) is the schema. Errors name the file, the line
// and the key, and suggest the closest known key for a misspelt one.
#ifndef LRSCOPE_STUDY_FILE_H
#define LRSCOPE_STUDY_FILE_H

#include "grid.h"

enum { STUDY_FILE_MAX_BYTES = 1 << 20 };

// Reads path into sp, which holds the defaults (spec_init) on entry.
int study_file_read(const char *path, study_spec *sp, lr_err *e);

#endif
