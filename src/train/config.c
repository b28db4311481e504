// config.c: the defaults of a run: the seed study's settings.
#include "config.h"
#include "../model/model.h"

#include <string.h>

void config_defaults(run_config *c) {
    memset(c, 0, sizeof *c);
    snprintf(c->dataset, sizeof c->dataset, "cifar10");
    snprintf(c->data_dir, sizeof c->data_dir, "data/cifar-10-batches-bin");
    snprintf(c->model, sizeof c->model, "%s", MODEL_SEED_SPEC);
    c->lr = 0.01;
    c->momentum = 0.9;
    c->weight_decay = 0.0;
    c->epochs = 30;
    c->batch_size = 128;
    snprintf(c->schedule, sizeof c->schedule, "step");
    c->step_size = 5;
    c->gamma = 0.5;
    c->eval_interval = 1;
    c->seed = 1;
    c->threads = 0; // 0 = all cores
    snprintf(c->isa, sizeof c->isa, "auto");
    c->prefetch = -1;
}
