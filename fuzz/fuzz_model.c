// fuzz_model.c: the model description parser (src/model/model.c). The input
// is the description; its first byte picks the input shape. Descriptions
// that build into a small model are also run forward and backward on the
// scalar kernels, so a shape the parser accepts but a kernel cannot take
// shows up as an out-of-bounds access.
#include "../src/model/model.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
    if (n == 0 || n > 1024) return 0;
    static const int SHAPES[4][4] = {{3, 32, 32, 10}, {1, 28, 28, 10}, {3, 12, 12, 100}, {1, 5, 7, 2}};
    const int *s = SHAPES[data[0] & 3];
    char spec[1024];
    memcpy(spec, data + 1, n - 1);
    spec[n - 1] = '\0';
    model_desc m;
    lr_err e;
    if (model_build(&m, spec, s[0], s[1], s[2], s[3], &e) != 0) {
        LR_ASSERT(e.msg[0] != '\0');
        return 0;
    }
    char text[2048];
    model_describe(&m, text, sizeof text);
    // Forward and backward only for models small enough to keep fuzzing fast.
    if (m.max_act_floats > (1u << 16) || m.n_params > (1u << 16) || m.flops_forward > 2e5) return 0;
    float *params = lr_aligned_alloc((model_state_floats(&m) + 1) * sizeof(float)); // parameters, buffers
    float *grads = lr_aligned_alloc((m.n_params + 1) * sizeof(float));
    float *x = lr_aligned_alloc(m.act_floats[0] * sizeof(float));
    model_init_params(&m, params, 1);
    memset(grads, 0, (m.n_params + 1) * sizeof(float));
    for (size_t i = 0; i < m.act_floats[0]; i++) x[i] = (float)(i % 7) - 3.0f;
    model_ws ws;
    model_ws_alloc(&ws, &m);
    const float *logits = model_forward(&m, &kernels_scalar, params, &ws, x);
    int labels[LANES];
    for (int l = 0; l < LANES; l++) labels[l] = l % m.num_classes;
    softmax_xent(ws.dlogits, ws.loss, ws.pred, logits, labels, m.num_classes, 1.0f / LANES);
    model_backward(&m, &kernels_scalar, params, grads, &ws, ws.dlogits);
    model_ws_free(&ws);
    free(params);
    free(grads);
    free(x);
    return 0;
}
