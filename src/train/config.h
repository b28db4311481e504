// config.h: one run = one complete configuration: every knob of the
// training, the seed included, plus where the run sits in its study (its
// condition and folder). A study is a list of these. The knobs themselves
// (names, types, ranges, defaults, help) are described once, in knobs.c:
// add a field here and a row there.
#ifndef LRSCOPE_CONFIG_H
#define LRSCOPE_CONFIG_H

#include "../util/common.h"

enum { CONFIG_LIST_MAX = 32 };

// A list of whole numbers (e.g. MultiStepLR milestones), a knob of type KNOB_INT_LIST.
typedef struct {
    int n;
    int v[CONFIG_LIST_MAX];
} int_list;

typedef struct {
    // Where the run sits in its study (not knobs).
    char condition[256];   // the condition's name, e.g. "lr=0.01,momentum=0.9"
    char name[320];        // the run's folder inside the study, "runs/<condition>/seed-<k>"

    // Knobs (knobs.c describes each one).
    char dataset[32];      // dataset_find() name
    char data_dir[4096];   // folder holding the data set's files; "" = data/<the data set's folder>
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
    char prefetch[8];      // transform images on a loader thread: "on", "off" (the compute
                           // threads do it), "auto" (on when a core is spare)
} run_config;

// Every knob at its default (the seed study's settings); name and condition empty.
void config_defaults(run_config *c);

#endif
