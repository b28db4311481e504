// model.c: builds a layer list from its description, initialises parameters
// like PyTorch, and runs forward and backward over one group of images.
#include "model.h"
#include "../util/rng.h"

#include <math.h>
#include <string.h>

static const char *KIND_NAMES[] = {"conv", "relu", "maxpool", "linear"};
enum { FAN_LIMIT = 1 << 24 }; // inputs per output: far beyond any model here, far below INT_MAX

// Parses one positive integer field of a layer token; -1 on error.
static int parse_field(const char *s, const char **end) {
    if (*s != ':') return -1;
    s++;
    char *e;
    long v = strtol(s, &e, 10);
    if (e == s || v <= 0 || v > 1000000) return -1;
    *end = e;
    return (int)v;
}

static int add_layer(model_desc *m, const char *tok, size_t len, int is_last, lr_err *e) {
    char t[64];
    if (len == 0 || len >= sizeof t)
        return lr_fail(e, "--model: empty or overlong layer in \"%s\"", m->spec);
    memcpy(t, tok, len);
    t[len] = '\0';
    if (m->n_layers == MODEL_MAX_LAYERS)
        return lr_fail(e, "--model: more than %d layers", MODEL_MAX_LAYERS);
    layer *prev = m->n_layers ? &m->layers[m->n_layers - 1] : NULL;
    layer *ly = &m->layers[m->n_layers];
    memset(ly, 0, sizeof *ly);
    ly->c = prev ? prev->oc : m->in_c;
    ly->h = prev ? prev->oh : m->in_h;
    ly->w = prev ? prev->ow : m->in_w;
    const char *end = NULL;
    if (strncmp(t, "conv", 4) == 0 && t[4] == ':') {
        ly->kind = LAYER_CONV;
        ly->oc = parse_field(t + 4, &end);
        ly->k = ly->oc > 0 ? parse_field(end, &end) : -1;
        if (ly->oc <= 0 || ly->k <= 0 || *end)
            return lr_fail(e, "--model: layer \"%s\": expected conv:OUT:K", t);
        if (prev && prev->kind == LAYER_LINEAR)
            return lr_fail(e, "--model: layer \"%s\": a convolution cannot follow a linear layer", t);
        ly->oh = ly->h - ly->k + 1;
        ly->ow = ly->w - ly->k + 1;
        size_t fan = (size_t)ly->c * (size_t)ly->k * (size_t)ly->k;
        if (fan > FAN_LIMIT) return lr_fail(e, "--model: layer \"%s\" has %zu inputs per output, at most %d", t, fan, FAN_LIMIT);
        ly->fan_in = (int)fan;
        ly->w_n = (size_t)ly->oc * ly->fan_in;
        ly->b_n = (size_t)ly->oc;
    } else if (strcmp(t, "relu") == 0) {
        ly->kind = LAYER_RELU;
        ly->oc = ly->c, ly->oh = ly->h, ly->ow = ly->w;
    } else if (strncmp(t, "maxpool", 7) == 0 && t[7] == ':') {
        ly->kind = LAYER_MAXPOOL;
        ly->k = parse_field(t + 7, &end);
        if (ly->k <= 0 || *end) return lr_fail(e, "--model: layer \"%s\": expected maxpool:P", t);
        ly->oc = ly->c, ly->oh = ly->h / ly->k, ly->ow = ly->w / ly->k;
    } else if (strncmp(t, "linear", 6) == 0 && (t[6] == ':' || (t[6] == '\0' && is_last))) {
        ly->kind = LAYER_LINEAR;
        ly->oc = t[6] ? parse_field(t + 6, &end) : m->num_classes;
        if (ly->oc <= 0 || (end && *end))
            return lr_fail(e, "--model: layer \"%s\": expected linear:OUT (bare `linear` only last)", t);
        size_t fan = (size_t)ly->c * (size_t)ly->h * (size_t)ly->w;
        if (fan > FAN_LIMIT) return lr_fail(e, "--model: layer \"%s\" has %zu inputs per output, at most %d", t, fan, FAN_LIMIT);
        ly->fan_in = (int)fan;
        ly->oh = ly->ow = 1;
        ly->w_n = (size_t)ly->oc * ly->fan_in;
        ly->b_n = (size_t)ly->oc;
    } else {
        return lr_fail(e, "--model: unknown layer \"%s\"; expected conv:OUT:K, relu, maxpool:P or linear:OUT", t);
    }
    if (ly->oh <= 0 || ly->ow <= 0)
        return lr_fail(e, "--model: layer \"%s\" gets a %dx%d input and would have no output", t, ly->h, ly->w);
    // Sizes in size_t, bounded so that every count fits the int and float
    // index arithmetic of the kernels (and memory stays within reason).
    const size_t limit = (size_t)1 << 28;
    size_t outputs = (size_t)ly->oc * (size_t)ly->oh * (size_t)ly->ow;
    size_t weights = ly->kind == LAYER_CONV ? (size_t)ly->oc * ly->c * ly->k * ly->k
                   : ly->kind == LAYER_LINEAR ? (size_t)ly->oc * ((size_t)ly->c * ly->h * ly->w) : 0;
    if (outputs > limit / LANES || weights > limit)
        return lr_fail(e, "--model: layer \"%s\" is too large: %zu outputs per image (at most %zu) and "
                          "%zu weights (at most %zu)", t, outputs, limit / LANES, weights, limit);
    ly->w_off = m->n_params;
    ly->b_off = m->n_params + ly->w_n;
    m->n_params += ly->w_n + ly->b_n;
    m->n_layers++;
    return 0;
}

int model_build(model_desc *m, const char *spec, int c, int h, int w, int num_classes, lr_err *e) {
    memset(m, 0, sizeof *m);
    if (snprintf(m->spec, sizeof m->spec, "%s", spec) >= (int)sizeof m->spec)
        return lr_fail(e, "--model: description too long");
    m->in_c = c, m->in_h = h, m->in_w = w, m->num_classes = num_classes;
    const char *s = spec;
    while (*s) {
        size_t len = strcspn(s, ",");
        int last = s[len] == '\0';
        if (add_layer(m, s, len, last, e) != 0) return -1;
        s += len + (s[len] == ',');
    }
    if (m->n_layers == 0) return lr_fail(e, "--model: no layers");
    const layer *out = &m->layers[m->n_layers - 1];
    if (out->kind != LAYER_LINEAR || out->oc != num_classes)
        return lr_fail(e, "--model: the last layer must be linear with %d outputs (one per class); "
                          "end the description with a bare `linear`", num_classes);
    m->act_floats[0] = (size_t)c * h * w * LANES;
    m->max_act_floats = m->act_floats[0];
    for (int i = 0; i < m->n_layers; i++) {
        const layer *ly = &m->layers[i];
        m->act_floats[i + 1] = (size_t)ly->oc * ly->oh * ly->ow * LANES;
        if (m->act_floats[i + 1] > m->max_act_floats) m->max_act_floats = m->act_floats[i + 1];
        size_t s_need = 0;
        double macs = 0;
        if (ly->kind == LAYER_CONV) {
            s_need = conv_scratch_floats(ly->c, ly->h, ly->w, ly->oc, ly->k);
            macs = (double)ly->oc * ly->oh * ly->ow * ly->fan_in;
        } else if (ly->kind == LAYER_LINEAR) {
            s_need = linear_scratch_floats(ly->fan_in);
            macs = (double)ly->oc * ly->fan_in;
        }
        if (s_need > m->scratch_floats) m->scratch_floats = s_need;
        m->flops_forward += 2 * macs;
        m->flops_backward += (i == 0 ? 2 : 4) * macs;
    }
    return 0;
}

void model_init_params(const model_desc *m, float *params, uint64_t seed) {
    rng_state r;
    rng_seed(&r, seed, RNG_INIT, 0);
    for (int i = 0; i < m->n_layers; i++) {
        const layer *ly = &m->layers[i];
        if (ly->w_n == 0) continue;
        // kaiming_uniform_(a=sqrt(5)) and the bias rule both give 1/sqrt(fan_in).
        float bound = 1.0f / sqrtf((float)ly->fan_in);
        for (size_t j = 0; j < ly->w_n; j++) params[ly->w_off + j] = (2.0f * rng_float(&r) - 1.0f) * bound;
        for (size_t j = 0; j < ly->b_n; j++) params[ly->b_off + j] = (2.0f * rng_float(&r) - 1.0f) * bound;
    }
}

void model_describe(const model_desc *m, char *out, size_t cap) {
    size_t n = 0;
    n += (size_t)snprintf(out + n, cap - n, "input %dx%dx%d", m->in_c, m->in_h, m->in_w);
    for (int i = 0; i < m->n_layers && n < cap; i++) {
        const layer *ly = &m->layers[i];
        n += (size_t)snprintf(out + n, cap - n, " -> %s", KIND_NAMES[ly->kind]);
        if (n < cap) n += (size_t)snprintf(out + n, cap - n, " %dx%dx%d", ly->oc, ly->oh, ly->ow);
    }
    if (n < cap) snprintf(out + n, cap - n, " (%zu parameters)", m->n_params);
}

// ReLU works in place (its output overwrites its input, which nothing else
// needs afterwards), keeping a group's working set small enough for L2.
static int in_place(const model_desc *m, int i) { return i > 0 && m->layers[i].kind == LAYER_RELU; }

void model_ws_alloc(model_ws *ws, const model_desc *m) {
    memset(ws, 0, sizeof *ws);
    for (int i = 1; i <= m->n_layers; i++)
        ws->act[i] = in_place(m, i - 1) ? ws->act[i - 1] : lr_aligned_alloc(m->act_floats[i] * sizeof(float));
    ws->n_layers = m->n_layers;
    for (int i = 0; i < m->n_layers; i++) ws->owned[i + 1] = !in_place(m, i);
    for (int j = 0; j < 2; j++) ws->dact[j] = lr_aligned_alloc(m->max_act_floats * sizeof(float));
    ws->scratch = lr_aligned_alloc((m->scratch_floats + LANES) * sizeof(float));
    ws->dlogits = lr_aligned_alloc((size_t)m->num_classes * LANES * sizeof(float));
    ws->loss = lr_aligned_alloc(LANES * sizeof(float));
}

void model_ws_free(model_ws *ws) {
    for (int i = 1; i <= ws->n_layers; i++)
        if (ws->owned[i]) free(ws->act[i]);
    free(ws->dact[0]);
    free(ws->dact[1]);
    free(ws->scratch);
    free(ws->dlogits);
    free(ws->loss);
    memset(ws, 0, sizeof *ws);
}

const float *model_forward(const model_desc *m, const kernel_table *kt, const float *params,
                           model_ws *ws, const float *x) {
    ws->act[0] = (float *)x;
    for (int i = 0; i < m->n_layers; i++) {
        const layer *ly = &m->layers[i];
        const float *in = ws->act[i];
        float *out = ws->act[i + 1];
        switch (ly->kind) {
        case LAYER_CONV:
            if (i + 1 < m->n_layers && m->layers[i + 1].kind == LAYER_RELU) {
                // The ReLU works in place on this output, so apply it while storing.
                kt->conv_relu_forward(out, in, params + ly->w_off, params + ly->b_off, ly->c, ly->h, ly->w,
                                      ly->oc, ly->k);
                i++;
            } else {
                kt->conv_forward(out, in, params + ly->w_off, params + ly->b_off, ly->c, ly->h, ly->w, ly->oc, ly->k);
            }
            break;
        case LAYER_RELU: kt->relu_forward(out, in, m->act_floats[i]); break;
        case LAYER_MAXPOOL: kt->maxpool_forward(out, in, ly->c, ly->h, ly->w, ly->k); break;
        case LAYER_LINEAR:
            kt->linear_forward(out, in, params + ly->w_off, params + ly->b_off, ly->fan_in, ly->oc);
            break;
        }
    }
    return ws->act[m->n_layers];
}

void model_backward(const model_desc *m, const kernel_table *kt, const float *params,
                    float *grads, model_ws *ws, const float *dlogits) {
    const float *dout = dlogits;
    int slot = 0; // the two gradient buffers alternate: din of one layer is dout of the next
    for (int i = m->n_layers - 1; i >= 0; i--) {
        const layer *ly = &m->layers[i];
        // The first layer's input gradient is never needed.
        float *din = i > 0 ? ws->dact[slot] : NULL;
        const float *in = ws->act[i], *out = ws->act[i + 1];
        switch (ly->kind) {
        case LAYER_CONV:
            kt->conv_backward(din, grads + ly->w_off, grads + ly->b_off, dout, in, params + ly->w_off,
                              ws->scratch, ly->c, ly->h, ly->w, ly->oc, ly->k);
            break;
        case LAYER_RELU:
            if (din) kt->relu_backward(din, dout, out, m->act_floats[i]);
            break;
        case LAYER_MAXPOOL:
            if (!din) break;
            if (i >= 2 && m->layers[i - 1].kind == LAYER_RELU) {
                // The ReLU before works in place, so `in` is its output: apply its
                // backward while routing, and skip it.
                kt->maxpool_relu_backward(din, dout, in, out, ly->c, ly->h, ly->w, ly->k);
                i--;
            } else {
                kt->maxpool_backward(din, dout, in, out, ly->c, ly->h, ly->w, ly->k);
            }
            break;
        case LAYER_LINEAR:
            kt->linear_backward(din, grads + ly->w_off, grads + ly->b_off, dout, in, params + ly->w_off,
                                ws->scratch, ly->fan_in, ly->oc);
            break;
        }
        if (!din) break;
        dout = din;
        slot ^= 1;
    }
}
