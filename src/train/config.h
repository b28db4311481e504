// config.h: one run = one complete configuration: every knob of the
// training, the seed included. A study is a list of these.
#ifndef LRSCOPE_CONFIG_H
#define LRSCOPE_CONFIG_H

#include "../util/common.h"

typedef struct {
    char name[64];         // the run's folder inside the study, e.g. "lr-0.1"
    char dataset[32];      // dataset_find() name
    char data_dir[4096];   // folder holding the data set's files
    char model[512];       // model description (model.h)
    double lr;             // base learning rate
    double momentum;       // SGD momentum (PyTorch form)
    double weight_decay;   // L2 added to the gradient (PyTorch form)
    int epochs;
    int batch_size;
    char schedule[16];     // "step" or "constant"
    int step_size;         // StepLR step (epochs)
    double gamma;          // StepLR factor
    int eval_interval;     // evaluate on the test set every N epochs (and after the last)
    uint64_t seed;
    int threads;           // compute threads for this run (results do not depend on it)
    char isa[16];          // "auto", "scalar", "avx2", "avx512"
    int prefetch;          // transform images on a loader thread: 1 on, 0 off (the compute
                           // threads do it), -1 auto (on when a core is spare)
} run_config;

// The seed study's settings (without name, data_dir and lr).
void config_defaults(run_config *c);

#endif
