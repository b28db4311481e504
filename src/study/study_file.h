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
//     search:                   # a search instead of (or beside) the grid (docs/search.md)
//       method: tpe             # random | tpe | grid
//       trials: 40
//       metric: test_acc        # direction: maximize | minimize (default from the metric)
//       seed: 1                 # the search's seed
//       seeds: 3                # every point on seeds 1..3, their mean optimised
//       space:                  # knob -> spec text or {type, low, high, log, choices}
//         lr: loguniform:1e-4:1
//         optimizer: {type: categorical, choices: [sgd, adam]}
//       pruner: {type: asha, grace: 1, eta: 3, max_epochs: 27}   # or median, none
//
// The knob table (knobs.h) is the schema. Errors name the file, the line
// and the key, and suggest the closest known key for a misspelt one.
#ifndef LRSCOPE_STUDY_FILE_H
#define LRSCOPE_STUDY_FILE_H

#include "grid.h"
#include "../search/search.h"

enum { STUDY_FILE_MAX_BYTES = 1 << 20 };

// Reads path into sp, which holds the defaults (spec_init) on entry.
// A `search:` section is refused ("this command does not search").
int study_file_read(const char *path, study_spec *sp, lr_err *e);
// The same, and a `search:` section into *search, which holds the defaults
// (search_spec_init) on entry; *has_search says whether there was one. The
// section's keys are checked here; search_spec_check, which needs the run's
// epochs, is the caller's.
int study_file_read_search(const char *path, study_spec *sp, search_spec *search, int *has_search, lr_err *e);

#endif
