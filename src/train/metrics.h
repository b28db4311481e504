// metrics.h: confusion matrices and the scores drawn from them. Macro-F1 is
// the mean of every class's F1, a class with no true and no predicted
// samples scoring 0 (scikit-learn's zero_division=0).
#ifndef LRSCOPE_METRICS_H
#define LRSCOPE_METRICS_H

#include "../util/common.h"

// cm (K, K): rows the true class, columns the predicted one.
double metrics_accuracy(const int64_t *cm, int K);
double metrics_macro_f1(const int64_t *cm, int K);
// Per class precision, recall, F1 (each may be NULL) and support.
void metrics_per_class(const int64_t *cm, int K, double *precision, double *recall,
                       double *f1, int64_t *support);

#endif
