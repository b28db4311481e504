// ensemble.h: the arithmetic of an ensemble (the mean of its members' softmax
// outputs), the file ensemble.csv that holds a study's ensembles, and the
// report's sentences about them. Pure functions: the members' probabilities
// come from train_predict_probs (study_ensemble.c does the loading).
//
//     ensemble_acc a;
//     ensemble_init(&a, n_images, classes);
//     for (int m = 0; m < members; m++) ensemble_add(&a, probs[m]);   // (n, K) each, member order
//     double loss = ensemble_finish(&a, labels, cm);                   // cm (K, K)
//     ensemble_free(&a);
//
// Definitions (docs/output-format.md, ensemble.csv):
//   p_ens(i, k) = (1 / M) sum_m p_m(i, k), summed in double in member order,
//   so the result is the same bits whatever the thread count;
//   prediction(i) = argmax_k p_ens(i, k), the first (lowest class index) of
//   equal maxima, as torch.argmax;
//   loss = (1 / n) sum_i -log p_ens(i, y_i) (infinite when a member-average
//   gives the true class probability 0).
#ifndef LRSCOPE_ENSEMBLE_H
#define LRSCOPE_ENSEMBLE_H

#include <stdint.h>
#include <stdio.h>

#include "../util/common.h"

enum { ENSEMBLE_MAX_MEMBERS = 256 };

typedef struct {
    int n, K;        // images, classes
    int members;     // added so far
    double *sum;     // (n, K) sum of the members' probabilities
} ensemble_acc;

void ensemble_init(ensemble_acc *a, int n, int K);
// Adds one member's probabilities (n, K), row i for image i.
void ensemble_add(ensemble_acc *a, const float *probs);
// The averaged probabilities' mean NLL over the images with labels (n); the
// confusion matrix cm (K, K) (rows true class) of their arg-max. At least
// one member must have been added.
double ensemble_finish(const ensemble_acc *a, const int *labels, int64_t *cm);
void ensemble_free(ensemble_acc *a);

// ---- ensemble.csv ----
// One row per member, per ensemble and per run left out, grouped by ensemble:
//   ensemble  the ensemble's name: a condition of a seeds study, "all" for the
//             runs of a one-seed study, "ensemble" for `lrscope ensemble --out`
//   role      member | ensemble | left_out
//   run       a member or left-out run's folder in the study (or the weights
//             path given); empty for the ensemble row
//   status    the run's status (finished, diverged, ...); empty for the ensemble
//   test_loss, test_acc, test_f1   on the test split; empty for left_out rows
// Fields with a comma or quote are quoted (RFC 4180); numbers are %.17g.
enum { ENS_COL_ENSEMBLE, ENS_COL_ROLE, ENS_COL_RUN, ENS_COL_STATUS, ENS_COL_TEST_LOSS, ENS_COL_TEST_ACC,
       ENS_COL_TEST_F1, ENS_N_COLS };
extern const char *const ensemble_csv_columns[ENS_N_COLS];

typedef struct {
    char run[4096];       // FS_PATH_MAX
    char status[32];
    double test_loss, test_acc, test_f1; // NAN for a run left out
} ensemble_row;

typedef struct {
    char name[256];
    int formed;                 // 1: the ensemble row exists (at least 2 members)
    double test_loss, test_acc, test_f1; // the ensemble's; NAN when not formed
    ensemble_row *members;      // (n_members,) owned
    int n_members;
    ensemble_row *left_out;     // (n_left_out,) owned
    int n_left_out;
} ensemble_group;

// Appends a member or left-out row to g (grows its arrays).
void ensemble_group_add(ensemble_group *g, int left_out, const char *run, const char *status, double loss,
                        double acc, double f1);
void ensemble_groups_free(ensemble_group *g, int n);

// Writes the groups to f / to path atomically.
void ensemble_csv_print(FILE *f, const ensemble_group *g, int n);
int ensemble_csv_write(const char *path, const ensemble_group *g, int n, lr_err *e);
// Reads ensemble.csv; -1 with e naming the file, line and what was expected.
int ensemble_csv_read(const char *path, ensemble_group **g, int *n, lr_err *e);

// ---- the report ----

// The best member (highest test accuracy, the first of equals) and the
// ensemble's gains over it and over the members' mean, in accuracy fractions.
typedef struct {
    int best;                    // index into members, -1 when there are none
    double best_acc, best_f1, mean_acc;
    double gain_best, gain_mean; // ensemble - best member, ensemble - mean member; NAN if not formed
} ensemble_gain;
ensemble_gain ensemble_gain_of(const ensemble_group *g);

// The report's sentences: for one ensemble, its gain over its best member
// (no interval: one test set, one ensemble); for several (a seeds study, one
// per condition), the mean gain with its 95% t-interval over the ensembles,
// "no detectable gain" when the interval covers 0; the groups not formed and
// the runs left out. *out: malloc'd strings (ensemble_lines_free).
int ensemble_sentences(const ensemble_group *g, int n, char ***out);
void ensemble_lines_free(char **lines, int n);

#endif
