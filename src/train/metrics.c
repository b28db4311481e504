// metrics.c: accuracy and F1 scores from a confusion matrix.
#include "metrics.h"

double metrics_accuracy(const int64_t *cm, int K) {
    int64_t total = 0, right = 0;
    for (int t = 0; t < K; t++)
        for (int p = 0; p < K; p++) {
            total += cm[t * K + p];
            if (t == p) right += cm[t * K + p];
        }
    return total ? (double)right / (double)total : 0.0;
}

void metrics_per_class(const int64_t *cm, int K, double *precision, double *recall,
                       double *f1, int64_t *support) {
    for (int k = 0; k < K; k++) {
        int64_t tp = cm[k * K + k], row = 0, col = 0;
        for (int j = 0; j < K; j++) {
            row += cm[k * K + j];
            col += cm[j * K + k];
        }
        int64_t fp = col - tp, fn = row - tp;
        if (precision) precision[k] = col ? (double)tp / (double)col : 0.0;
        if (recall) recall[k] = row ? (double)tp / (double)row : 0.0;
        // 2tp / (2tp + fp + fn), 0 when nothing was true or predicted
        if (f1) f1[k] = (2 * tp + fp + fn) ? 2.0 * (double)tp / (double)(2 * tp + fp + fn) : 0.0;
        if (support) support[k] = row;
    }
}

double metrics_macro_f1(const int64_t *cm, int K) {
    double f1[K > 0 ? K : 1], sum = 0.0;
    metrics_per_class(cm, K, NULL, NULL, f1, NULL);
    for (int k = 0; k < K; k++) sum += f1[k];
    return K ? sum / K : 0.0;
}
