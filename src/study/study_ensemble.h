// study_ensemble.h: ensembles of trained models: members read from run
// folders or weights files, checked to agree (model, data set, input shape,
// normalisation, class names), each evaluated on the test split by the
// trainer's own machinery (train_predict_probs) and averaged (ensemble.h).
// Used by `lrscope ensemble` and at the end of a study (ensemble.csv).
//
//     ensemble_eval x;
//     if (ensemble_evaluate(paths, n, "data/cifar-10-batches-bin", NULL, "auto", 0, &x, &e) != 0) ... // exit 2
//     ... x.member_acc[m], x.acc, x.cm ...
//     ensemble_eval_free(&x);
#ifndef LRSCOPE_STUDY_ENSEMBLE_H
#define LRSCOPE_STUDY_ENSEMBLE_H

#include <stdint.h>

#include "../util/common.h"

typedef struct {
    int n_members;
    char **paths;             // (n_members) the weights file read for each member, owned
    double *member_loss, *member_acc, *member_f1; // (n_members) each, as `lrscope evaluate` gives them
    double loss, acc, f1;     // the ensemble's (ensemble.h)
    int K;                    // classes
    char **class_names;       // (K) owned
    int64_t *cm;              // (K, K) the ensemble's confusion matrix, rows true class
    int images;               // test images
    char dataset[256];
    char spec[512];           // the members' model
} ensemble_eval;

// Members are run folders (their weights.lrsw) or weights files, at most
// ENSEMBLE_MAX_MEMBERS; data_dir the data set's folder; dataset_hint as
// `lrscope evaluate --dataset` (may be NULL). Refuses (-1 with e) a missing,
// truncated or foreign file (naming it), and members that differ, naming the
// pair and what differs. threads 0 = all cores; the results do not depend on it.
int ensemble_evaluate(const char *const *members, int n, const char *data_dir, const char *dataset_hint,
                      const char *isa, int threads, ensemble_eval *out, lr_err *e);
void ensemble_eval_free(ensemble_eval *x);

// The ensembles of a finished study, written to STUDY/ensemble.csv: in a
// seeds study (some condition with several runs) each condition's finished
// runs; otherwise all the study's finished runs. Runs that did not finish
// are left out and listed. Members that cannot form an ensemble (different
// models or data sets) are said on stderr (unless quiet) and that ensemble
// is not written. -1 with e when the study cannot be read or the file written.
int study_ensemble_write(const char *study_dir, int quiet, lr_err *e);

#endif
