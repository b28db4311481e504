// cli_table.c: the table of lrscope's commands and of the flags that are not
// run knobs. It drives the top-level usage, dispatch, the man page and the
// shell completion; the run knobs come from their own table (knobs.h).
#include "commands.h"

#include <string.h>

static const cli_flag RUN_FLAGS[] = {
    {"--out", "DIR", "study folder; must not hold files (default results/study-YYYYmmdd-HHMMSS)", "@dir"},
    {"--lrs", "LIST", "comma-separated learning rates: shorthand for --grid lr=LIST; auto: the range test "
     "picks valley x 1/10, 1/3, 1, 3", NULL},
    {"--grid", "KEY=LIST", "a study axis: KEY=V1,V2,... or KEY=logspace:A:B:N (repeatable)", NULL},
    {"--seeds", "N|LIST", "seeds per condition: N means 1..N, or a list such as 1,2,7", NULL},
    {"--jobs", "N", "runs trained side by side; 0 = auto", NULL},
    {"--no-report", NULL, "skip the figures and report at the end", NULL},
    {"--no-ensemble", NULL, "skip the study's ensembles at the end (ensemble.csv)", NULL},
    {"--tensorboard", "DIR", "TensorBoard event files under DIR/<study name>/ instead of the study folder", "@dir"},
    {"--quiet", NULL, "no progress output", NULL},
    {"--search", "METHOD", "search the space instead of a grid: random, tpe or grid", "random|tpe|grid"},
    {"--trials", "N", "the search's number of trials", NULL},
    {"--space", "KEY=SPEC", "a searched knob: loguniform:A:B, uniform:A:B, int:A:B[:log], categorical:V1,V2 "
     "(repeatable)", NULL},
    {"--metric", "NAME", "the search's objective (default test_acc)",
     "test_acc|test_loss|test_f1|train_acc|train_loss|train_f1|best_test_acc"},
    {"--direction", "DIR", "maximize or minimize the metric (default from the metric)", "maximize|minimize"},
    {"--pruner", "SPEC", "early stopping: none, asha[:grace=G,eta=E,max_epochs=R], median[:startup=S,warmup=W]",
     "none|asha|median"},
    {"--search-seed", "N", "the search's own seed (default 1)", NULL},
    {"--search-seeds", "K", "every point on seeds 1..K, their mean optimised (default 1)", NULL},
    {"--grid-points", "N", "grid search: values per continuous knob (default 5)", NULL},
    {"--search-lag", "N", "trials read as running when the next is suggested (default 3)", NULL},
    {"--help", NULL, "show the options and their defaults", NULL},
    {NULL, NULL, NULL, NULL},
};

static const cli_flag RESUME_FLAGS[] = {
    {"--jobs", "N", "runs trained side by side; 0 = auto", NULL},
    {"--threads", "N", "compute threads per run, 0 = all cores (default: as the study was run)", NULL},
    {"--no-report", NULL, "skip the figures and report at the end", NULL},
    {"--quiet", NULL, "no progress output", NULL},
    {"--help", NULL, "show the command's help", NULL},
    {NULL, NULL, NULL, NULL},
};

static const cli_flag REPORT_FLAGS[] = {
    {"--help", NULL, "show the command's help", NULL},
    {NULL, NULL, NULL, NULL},
};

static const cli_flag FETCH_FLAGS[] = {
    {"--dir", "DIR", "data root (default data); the set goes to DIR/FOLDER", "@dir"},
    {"--url", "URL", "a mirror: the archive's whole URL, or a base URL ending in /", NULL},
    {"--md5", "HEX", "expected MD5 of a single-archive download from a mirror", NULL},
    {"--quiet", NULL, "no progress on stderr", NULL},
    {"--help", NULL, "show the command's help and the known data sets", NULL},
    {NULL, NULL, NULL, NULL},
};

static const cli_flag LRFIND_FLAGS[] = {
    {"--steps", "N", "at most N optimiser steps (default 100)", NULL},
    {"--start-lr", "X", "first rate (default 1e-07)", NULL},
    {"--end-lr", "X", "the rate the test heads to (default 10)", NULL},
    {"--seeds", "N", "repeat with seeds 1..N and show each suggestion's spread", NULL},
    {"--out", "DIR", "folder for lrfind.csv and the figure; must not hold files (default "
     "results/lrfind-YYYYmmdd-HHMMSS)", "@dir"},
    {"--quiet", NULL, "only the suggestions", NULL},
    {"--help", NULL, "show the options and their defaults", NULL},
    {NULL, NULL, NULL, NULL},
};

static const cli_flag EVALUATE_FLAGS[] = {
    {"--data", "DIR", "the data set's folder (required); its test split is evaluated", "@dir"},
    {"--dataset", "NAME", "the data set; must be the one the weights name (or tells a version-1 file's)",
     "@dataset"},
    {"--json", NULL, "one JSON document on stdout", NULL},
    {"--isa", "NAME", "kernels (default auto)", "auto|scalar|avx2|avx512"},
    {"--threads", "N", "threads, 0 = all cores (results do not depend on it)", NULL},
    {"--help", NULL, "show the command's help", NULL},
    {NULL, NULL, NULL, NULL},
};

static const cli_flag ENSEMBLE_FLAGS[] = {
    {"--data", "DIR", "the data set's folder (required); its test split is evaluated", "@dir"},
    {"--dataset", "NAME", "the data set; must be the one the weights name", "@dataset"},
    {"--json", NULL, "one JSON document on stdout", NULL},
    {"--isa", "NAME", "kernels (default auto)", "auto|scalar|avx2|avx512"},
    {"--threads", "N", "threads, 0 = all cores (results do not depend on it)", NULL},
    {"--out", "FILE", "also write the results as CSV, in ensemble.csv's format", "@file"},
    {"--help", NULL, "show the command's help", NULL},
    {NULL, NULL, NULL, NULL},
};

static const cli_flag PREDICT_FLAGS[] = {
    {"--top", "K", "classes shown per image (default 5)", NULL},
    {"--index", "N", "the record of a CIFAR-10 .bin IMAGE, from 0", NULL},
    {"--dataset", "NAME", "the data set of a version-1 weights file its shape does not tell", "@dataset"},
    {"--json", NULL, "one JSON document on stdout: logits and top classes per image", NULL},
    {"--isa", "NAME", "kernels (default auto)", "auto|scalar|avx2|avx512"},
    {"--help", NULL, "show the command's help", NULL},
    {NULL, NULL, NULL, NULL},
};

static const cli_flag DOC_FLAGS[] = {
    {"--help", NULL, "show the command's help", NULL},
    {NULL, NULL, NULL, NULL},
};

const cli_command CLI_COMMANDS[] = {
    {"run", "[STUDY.yaml] [options]",
     "train each condition of a study over its seeds, record every epoch, report",
     cmd_run, RUN_FLAGS, 1, "@yaml"},
    {"resume", "STUDY_DIR [options]",
     "continue an interrupted or killed study from its checkpoints, bit for bit",
     cmd_resume, RESUME_FLAGS, 0, "@dir"},
    {"report", "STUDY_DIR", "rebuild the figures and report of a study folder", cmd_report,
     REPORT_FLAGS, 0, "@dir"},
    {"fetch", "NAME [options]", "download a data set: cifar10, cifar100, mnist, fashion-mnist",
     cmd_fetch, FETCH_FLAGS, 0, "@dataset"},
    {"lrfind", "[STUDY.yaml] [options]",
     "the learning-rate range test: suggested rates and their spread over seeds",
     cmd_lrfind, LRFIND_FLAGS, 1, "@yaml"},
    {"evaluate", "RUN_DIR_or_WEIGHTS --data DIR [options]",
     "test metrics and confusion matrix of saved weights, as training computed them",
     cmd_evaluate, EVALUATE_FLAGS, 0, "@file"},
    {"ensemble", "RUN_DIR_or_WEIGHTS... --data DIR [options]",
     "the mean of several trained models' softmax outputs: each member's and the ensemble's test metrics",
     cmd_ensemble, ENSEMBLE_FLAGS, 0, "@file"},
    {"predict", "RUN_DIR_or_WEIGHTS IMAGE... [options]",
     "classify PNG or JPEG images (or CIFAR-10 records) with saved weights: top classes",
     cmd_predict, PREDICT_FLAGS, 0, "@file"},
    {"doc", "man1|man5-study|bash|zsh",
     "print a generated manual page or shell completion (used by the build)", cmd_doc, DOC_FLAGS,
     0, "man1|man5-study|bash|zsh"},
    {NULL, NULL, NULL, NULL, NULL, 0, NULL},
};

const cli_command *cli_command_find(const char *name) {
    for (const cli_command *c = CLI_COMMANDS; c->name; c++)
        if (strcmp(c->name, name) == 0) return c;
    return NULL;
}
