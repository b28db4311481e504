// conditions.h: a study's runs grouped by condition, the input of the
// statistics (owned by the "stats" work; this copy is the agreed contract,
// to be replaced by theirs on merge).
#ifndef LRSCOPE_CONDITIONS_H
#define LRSCOPE_CONDITIONS_H

#include <stdint.h>

enum { REPORT_N_CURVES = 6 }; // train_loss, train_acc, train_f1, test_loss, test_acc, test_f1

typedef struct {
    char name[256];          // condition name, e.g. "lr=0.01,momentum=0.9"
    int n_axes; char axis_key[8][32]; double axis_num[8]; char axis_text[8][128]; // the varying keys' values (axis_num NAN for non-numeric)
    int n_runs;              // seeds of this condition
    uint64_t *seeds;         // (n_runs)
    double *final_test_acc, *final_test_f1, *best_test_acc, *final_test_loss, *seconds; // (n_runs), NAN when missing (diverged, no test)
    int n_epochs;            // max epochs
    double *curves;          // (n_runs, REPORT_N_CURVES, n_epochs): train_loss, train_acc, train_f1, test_loss, test_acc, test_f1; NAN when missing
} report_condition;

#endif
