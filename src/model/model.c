// model.c: builds a layer graph from its description (docs/models.md),
// initialises parameters like PyTorch, and runs forward and backward over
// one group of images.
#include "model.h"
#include "layers.h"
#include "../util/rng.h"

#include <ctype.h>
#include <math.h>
#include <string.h>

static const char *KIND_NAMES[] = {"conv", "relu", "maxpool", "linear", "bn", "add", "gap",
                                   "avgpool", "flatten", "dropout"};
enum { FAN_LIMIT = 1 << 24 }; // inputs per output: far beyond any model here, far below INT_MAX
static const float BN_EPS = 1e-5f;

// ---- named models -------------------------------------------------------------

// He et al.'s CIFAR ResNet-(6n+2), option A, as akamaster/pytorch_resnet_cifar10
// builds it (kaiming_normal_ fan_in for conv and linear weights).
static int resnet_spec(int n, char *out, size_t cap) {
    const char *I = ":init=kaiming_normal_fan_in";
    size_t len = 0;
#define PUT(...)                                                          \
    do {                                                                  \
        int r_ = snprintf(out + len, cap - len, __VA_ARGS__);             \
        if (r_ < 0 || (size_t)r_ >= cap - len) return -1;                 \
        len += (size_t)r_;                                                \
    } while (0)
    PUT("conv:16:3:p=1:bias=0%s,bn,r0=relu", I);
    int block = 0;
    for (int stage = 0; stage < 3; stage++) {
        int ch = 16 << stage;
        for (int b = 0; b < n; b++) {
            int down = stage > 0 && b == 0;
            PUT(",conv:%d:3%s:p=1:bias=0%s,bn,relu,conv:%d:3:p=1:bias=0%s,bn,add:r%d%s,r%d=relu", ch,
                down ? ":s=2" : "", I, ch, I, block, down ? ":A" : "", block + 1);
            block++;
        }
    }
    PUT(",gap,linear%s", I);
#undef PUT
    return 0;
}

int model_spec_expand(const char *spec, char *out, size_t cap, lr_err *e) {
    const char *fixed = NULL;
    if (!strcmp(spec, "seed")) fixed = MODEL_SEED_SPEC;
    else if (!strcmp(spec, "lenet5"))
        fixed = "conv:6:5,relu,maxpool:2,conv:16:5,relu,maxpool:2,linear:120,relu,linear:84,relu,linear";
    else if (!strcmp(spec, "mlp")) fixed = "linear:512,relu,linear:256,relu,linear";
    else if (!strcmp(spec, "resnet20") || !strcmp(spec, "resnet32") || !strcmp(spec, "resnet56")) {
        int depth = atoi(spec + 6);
        if (resnet_spec((depth - 2) / 6, out, cap) != 0) return lr_fail(e, "--model %s: expansion too long", spec);
        return 0;
    }
    if (!fixed) fixed = spec;
    if (snprintf(out, cap, "%s", fixed) >= (int)cap) return lr_fail(e, "--model: description too long");
    return 0;
}

// ---- parsing --------------------------------------------------------------------

typedef struct {
    const char *pos[4]; // positional fields after the kind
    int npos;
    const char *key[8], *val[8];
    int used[8];
    int nkey;
} fields;

// Splits "kind:a:b:k=v" in place; returns -1 when there are too many fields.
static int split_fields(char *t, fields *f) {
    memset(f, 0, sizeof *f);
    char *s = strchr(t, ':');
    if (!s) return 0;
    *s++ = '\0';
    for (;;) {
        char *next = strchr(s, ':');
        if (next) *next = '\0';
        char *eq = strchr(s, '=');
        if (eq) {
            if (f->nkey == 8) return -1;
            *eq = '\0';
            f->key[f->nkey] = s;
            f->val[f->nkey++] = eq + 1;
        } else {
            if (f->npos == 4 || f->nkey) return -1; // positional fields come first
            f->pos[f->npos++] = s;
        }
        if (!next) return 0;
        s = next + 1;
    }
}

static const char *get_key(fields *f, const char *k) {
    for (int i = 0; i < f->nkey; i++)
        if (!strcmp(f->key[i], k)) {
            f->used[i] = 1;
            return f->val[i];
        }
    return NULL;
}

static int to_int(const char *s, int lo, int hi, int *out) {
    if (!s || !*s) return -1;
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || v < lo || v > hi) return -1;
    *out = (int)v;
    return 0;
}

static int valid_name(const char *s) {
    if (!*s || strlen(s) >= 32 || !(isalpha((unsigned char)*s) || *s == '_')) return 0;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_')) return 0;
    return 1;
}

// The activation a name refers to: layer j's output is j + 1, `input` is 0.
static int find_name(const model_desc *m, const char *name) {
    if (!strcmp(name, "input")) return 0;
    for (int j = 0; j < m->n_layers; j++)
        if (!strcmp(m->layers[j].name, name)) return j + 1;
    return -1;
}

static void act_shape(const model_desc *m, int a, int *c, int *h, int *w) {
    if (a == 0) *c = m->in_c, *h = m->in_h, *w = m->in_w;
    else *c = m->layers[a - 1].oc, *h = m->layers[a - 1].oh, *w = m->layers[a - 1].ow;
}

#define LFAIL(fmt, ...) lr_fail(e, "--model: layer %d (%s): " fmt, idx + 1, ly->text, __VA_ARGS__)

static int add_layer(model_desc *m, const char *tok, size_t len, int is_last, lr_err *e) {
    const int idx = m->n_layers;
    char t[96];
    if (len == 0 || len >= sizeof t)
        return lr_fail(e, "--model: layer %d: empty or longer than %zu bytes", idx + 1, sizeof t - 1);
    if (idx == MODEL_MAX_LAYERS) return lr_fail(e, "--model: more than %d layers", MODEL_MAX_LAYERS);
    layer *ly = &m->layers[idx];
    memset(ly, 0, sizeof *ly);
    memcpy(ly->text, tok, len);
    ly->text[len] = '\0';
    memcpy(t, tok, len);
    t[len] = '\0';
    // NAME=LAYER: an '=' before any ':' names the layer.
    char *body = t, *eq = strchr(t, '='), *colon = strchr(t, ':');
    if (eq && (!colon || eq < colon)) {
        *eq = '\0';
        if (!valid_name(t) || !strcmp(t, "input"))
            return LFAIL("\"%s\" is not a layer name; expected a letter or _ then letters, digits "
                         "or _, at most 31, not `input`", t);
        if (find_name(m, t) > 0) return LFAIL("the name %s is already taken", t);
        memcpy(ly->name, t, strlen(t) + 1); // valid_name: under 32 bytes
        body = eq + 1;
    }
    fields f;
    if (split_fields(body, &f) != 0)
        return LFAIL("%s", "too many fields, or a positional field after a KEY=VALUE one");
    const char *kind = body;
    ly->in = idx;
    const char *from = get_key(&f, "from");
    if (from) {
        ly->in = find_name(m, from);
        if (ly->in < 0) return LFAIL("from=%s names no earlier layer", from);
    }
    act_shape(m, ly->in, &ly->c, &ly->h, &ly->w);
    const layer *prev = ly->in > 0 ? &m->layers[ly->in - 1] : NULL;
    ly->oc = ly->c, ly->oh = ly->h, ly->ow = ly->w;
    const char *v;
    if (!strcmp(kind, "conv")) {
        ly->kind = LAYER_CONV;
        ly->s = 1, ly->bias = 1;
        if (f.npos != 2 || to_int(f.pos[0], 1, 1000000, &ly->oc) || to_int(f.pos[1], 1, 1000000, &ly->k))
            return LFAIL("%s", "expected conv:OUT:K[:s=S][:p=P][:bias=0]");
        if ((v = get_key(&f, "s")) && to_int(v, 1, 1024, &ly->s)) return LFAIL("stride s=%s; expected 1..1024", v);
        if ((v = get_key(&f, "p")) && to_int(v, 0, 1024, &ly->p)) return LFAIL("padding p=%s; expected 0..1024", v);
        if ((v = get_key(&f, "bias")) && to_int(v, 0, 1, &ly->bias)) return LFAIL("bias=%s; expected 0 or 1", v);
        if (prev && prev->kind == LAYER_LINEAR)
            return LFAIL("%s", "a convolution cannot follow a linear layer");
        ly->oh = conv_out_size(ly->h, ly->k, ly->s, ly->p);
        ly->ow = conv_out_size(ly->w, ly->k, ly->s, ly->p);
        if (ly->oh <= 0 || ly->ow <= 0)
            return LFAIL("a %dx%dx%d input gives no output (kernel %d, stride %d, padding %d)", ly->c, ly->h,
                         ly->w, ly->k, ly->s, ly->p);
        size_t fan = (size_t)ly->c * (size_t)ly->k * (size_t)ly->k;
        if (fan > FAN_LIMIT) return LFAIL("%zu inputs per output, at most %d", fan, FAN_LIMIT);
        ly->fan_in = (int)fan;
        ly->fan_out = ly->oc * ly->k * ly->k;
        ly->w_n = (size_t)ly->oc * ly->fan_in;
        ly->b_n = ly->bias ? (size_t)ly->oc : 0;
        ly->std_conv = ly->s == 1 && ly->p == 0 && ly->bias;
    } else if (!strcmp(kind, "linear")) {
        ly->kind = LAYER_LINEAR;
        if (f.npos > 1 || (f.npos == 1 && to_int(f.pos[0], 1, 1000000, &ly->oc)) || (f.npos == 0 && !is_last))
            return LFAIL("%s", "expected linear:OUT (a bare `linear` only last)");
        if (f.npos == 0) ly->oc = m->num_classes;
        size_t fan = (size_t)ly->c * (size_t)ly->h * (size_t)ly->w;
        int want;
        if ((v = get_key(&f, "in"))) {
            if (to_int(v, 1, FAN_LIMIT, &want)) return LFAIL("in=%s; expected a positive count", v);
            if ((size_t)want != fan)
                return LFAIL("expects %d inputs, gets %dx%dx%d = %zu", want, ly->c, ly->h, ly->w, fan);
        }
        if (fan > FAN_LIMIT) return LFAIL("%zu inputs per output, at most %d", fan, FAN_LIMIT);
        ly->fan_in = (int)fan;
        ly->fan_out = ly->oc;
        ly->oh = ly->ow = 1;
        ly->w_n = (size_t)ly->oc * ly->fan_in;
        ly->b_n = (size_t)ly->oc;
    } else if (!strcmp(kind, "relu") || !strcmp(kind, "bn") || !strcmp(kind, "gap") || !strcmp(kind, "flatten")) {
        ly->kind = !strcmp(kind, "relu") ? LAYER_RELU : !strcmp(kind, "bn") ? LAYER_BN
                 : !strcmp(kind, "gap") ? LAYER_GAP : LAYER_FLATTEN;
        if (f.npos) return LFAIL("`%s` takes no arguments", kind);
        if (ly->kind == LAYER_BN) {
            ly->w_n = ly->b_n = (size_t)ly->c;
            ly->buf_off = m->n_buffers;
            m->n_buffers += 2 * (size_t)ly->c;
            m->n_bn++;
            if (ly->c > m->max_bn_channels) m->max_bn_channels = ly->c;
        } else if (ly->kind == LAYER_GAP) {
            ly->oh = ly->ow = 1;
        } else if (ly->kind == LAYER_FLATTEN) {
            ly->oc = ly->c * ly->h * ly->w, ly->oh = ly->ow = 1;
        }
    } else if (!strcmp(kind, "maxpool")) {
        ly->kind = LAYER_MAXPOOL;
        if (f.npos != 1 || to_int(f.pos[0], 1, 1000000, &ly->k)) return LFAIL("%s", "expected maxpool:P");
        ly->s = ly->k;
        ly->oh = ly->h / ly->k, ly->ow = ly->w / ly->k;
    } else if (!strcmp(kind, "avgpool")) {
        ly->kind = LAYER_AVGPOOL;
        if (f.npos != 1 || to_int(f.pos[0], 1, 1000000, &ly->k)) return LFAIL("%s", "expected avgpool:K[:s=S]");
        ly->s = ly->k;
        if ((v = get_key(&f, "s")) && to_int(v, 1, 1024, &ly->s)) return LFAIL("stride s=%s; expected 1..1024", v);
        ly->oh = conv_out_size(ly->h, ly->k, ly->s, 0), ly->ow = conv_out_size(ly->w, ly->k, ly->s, 0);
    } else if (!strcmp(kind, "dropout")) {
        ly->kind = LAYER_DROPOUT;
        char *end = NULL;
        double p = f.npos == 1 ? strtod(f.pos[0], &end) : -1;
        if (f.npos != 1 || *end || !(p >= 0 && p < 1)) return LFAIL("%s", "expected dropout:P with 0 <= P < 1");
        ly->drop = (float)p;
        m->n_dropout++;
    } else if (!strcmp(kind, "add")) {
        ly->kind = LAYER_ADD;
        int opt = f.npos == 2 && !strcmp(f.pos[1], "A");
        if (f.npos < 1 || f.npos > 2 || (f.npos == 2 && !opt)) return LFAIL("%s", "expected add:NAME or add:NAME:A");
        ly->src = find_name(m, f.pos[0]);
        if (ly->src < 0) return LFAIL("add:%s names no earlier layer", f.pos[0]);
        ly->option_a = opt;
        act_shape(m, ly->src, &ly->sc, &ly->sh, &ly->sw);
        int same = ly->sc == ly->c && ly->sh == ly->h && ly->sw == ly->w;
        int a_fits = ly->sc <= ly->c && (ly->c - ly->sc) % 2 == 0 &&
                     ((ly->sh == ly->h && ly->sw == ly->w) || (ly->h == (ly->sh + 1) / 2 && ly->w == (ly->sw + 1) / 2));
        if (!same && !(opt && a_fits))
            return LFAIL("shapes %dx%dx%d and %dx%dx%d (%s) do not meet%s", ly->c, ly->h, ly->w, ly->sc, ly->sh,
                         ly->sw, f.pos[0], opt ? " (option A pads channels evenly and subsamples by 1 or 2)"
                                               : "; add :A for He et al.'s option-A shortcut");
    } else {
        return LFAIL("unknown layer \"%s\"; expected conv, linear, relu, bn, maxpool, avgpool, gap, "
                     "flatten, dropout or add", kind);
    }
    if ((v = get_key(&f, "init"))) {
        if (ly->kind != LAYER_CONV && ly->kind != LAYER_LINEAR) return LFAIL("%s", "init= applies to conv and linear only");
        if (!strcmp(v, "default")) ly->init = INIT_DEFAULT;
        else if (!strcmp(v, "kaiming_normal_fan_in")) ly->init = INIT_KAIMING_FAN_IN;
        else if (!strcmp(v, "kaiming_normal_fan_out")) ly->init = INIT_KAIMING_FAN_OUT;
        else return LFAIL("init=%s; expected default, kaiming_normal_fan_in or kaiming_normal_fan_out", v);
    }
    for (int k = 0; k < f.nkey; k++)
        if (!f.used[k]) return LFAIL("unknown key %s= for %s", f.key[k], kind);
    if (ly->oh <= 0 || ly->ow <= 0)
        return LFAIL("a %dx%dx%d input gives no output", ly->c, ly->h, ly->w);
    // Sizes in size_t, bounded so that every count fits the int and float
    // index arithmetic of the kernels (and memory stays within reason).
    const size_t limit = (size_t)1 << 28;
    size_t outputs = (size_t)ly->oc * (size_t)ly->oh * (size_t)ly->ow;
    if (outputs > limit / LANES || ly->w_n > limit)
        return LFAIL("too large: %zu outputs per image (at most %zu) and %zu weights (at most %zu)", outputs,
                     limit / LANES, ly->w_n, limit);
    ly->w_off = m->n_params;
    ly->b_off = m->n_params + ly->w_n;
    m->n_params += ly->w_n + ly->b_n;
    m->n_layers++;
    return 0;
}
#undef LFAIL

// A ReLU works in place when nothing else reads its input (its output
// overwrites it), keeping a group's working set small.
static int relu_in_place(const model_desc *m, int i) {
    const layer *ly = &m->layers[i];
    return ly->kind == LAYER_RELU && ly->in > 0 && !m->acc[ly->in];
}
// Layers whose output is their input's buffer.
static int aliases(const model_desc *m, int i) {
    return relu_in_place(m, i) || m->layers[i].kind == LAYER_FLATTEN;
}

int model_build(model_desc *m, const char *spec, int c, int h, int w, int num_classes, lr_err *e) {
    memset(m, 0, sizeof *m);
    if (snprintf(m->spec, sizeof m->spec, "%s", spec) >= (int)sizeof m->spec)
        return lr_fail(e, "--model: description too long");
    m->in_c = c, m->in_h = h, m->in_w = w, m->num_classes = num_classes;
    char *full = lr_calloc(MODEL_SPEC_MAX, 1);
    if (model_spec_expand(spec, full, MODEL_SPEC_MAX, e) != 0) {
        free(full);
        return -1;
    }
    const char *s = full;
    while (*s) {
        size_t len = strcspn(s, ",");
        int last = s[len] == '\0';
        while (len && isspace((unsigned char)*s)) s++, len--; // ", " reads well
        size_t tl = len;
        while (tl && isspace((unsigned char)s[tl - 1])) tl--;
        if (add_layer(m, s, tl, last, e) != 0) {
            free(full);
            return -1;
        }
        s += len + (s[len] == ',');
    }
    free(full);
    if (m->n_layers == 0) return lr_fail(e, "--model: no layers");
    const layer *out = &m->layers[m->n_layers - 1];
    if (out->kind != LAYER_LINEAR || out->oc != num_classes)
        return lr_fail(e, "--model: the last layer must be linear with %d outputs (one per class); "
                          "end the description with a bare `linear`", num_classes);
    // Who reads each activation: a gradient is accumulated where several
    // layers, or a layer other than the next, read it.
    int readers[MODEL_MAX_LAYERS + 1] = {0};
    for (int i = 0; i < m->n_layers; i++) {
        const layer *ly = &m->layers[i];
        readers[ly->in]++;
        if (ly->in != i) m->acc[ly->in] = 1;
        if (ly->kind == LAYER_ADD) readers[ly->src]++, m->acc[ly->src] = 1;
    }
    for (int a = 1; a < m->n_layers; a++) {
        if (readers[a] > 1) m->acc[a] = 1;
        if (readers[a] == 0)
            return lr_fail(e, "--model: layer %d (%s): its output is never used", a, m->layers[a - 1].text);
    }
    m->acc[0] = 0; // the input's gradient is never needed
    m->act_floats[0] = (size_t)c * h * w * LANES;
    m->max_act_floats = m->act_floats[0];
    for (int i = 0; i < m->n_layers; i++) {
        const layer *ly = &m->layers[i];
        m->act_floats[i + 1] = (size_t)ly->oc * ly->oh * ly->ow * LANES;
        if (m->act_floats[i + 1] > m->max_act_floats) m->max_act_floats = m->act_floats[i + 1];
        size_t s_need = 0;
        double macs = 0;
        if (ly->kind == LAYER_CONV) {
            s_need = ly->std_conv ? conv_scratch_floats(ly->c, ly->h, ly->w, ly->oc, ly->k)
                                  : conv2_scratch_floats(ly->c, ly->h, ly->w, ly->oc, ly->k, ly->s, ly->p);
            macs = (double)ly->oc * ly->oh * ly->ow * ly->fan_in;
        } else if (ly->kind == LAYER_LINEAR) {
            s_need = linear_scratch_floats(ly->fan_in);
            macs = (double)ly->oc * ly->fan_in;
        }
        if (s_need > m->scratch_floats) m->scratch_floats = s_need;
        m->flops_forward += 2 * macs;
        m->flops_backward += (ly->in == 0 ? 2 : 4) * macs;
    }
    return 0;
}

// A standard normal from two uniform doubles (Box-Muller).
static double rng_normal(rng_state *r) {
    double u1 = (double)(rng_u64(r) >> 11) * 0x1.0p-53, u2 = (double)(rng_u64(r) >> 11) * 0x1.0p-53;
    return sqrt(-2.0 * log(1.0 - u1)) * cos(6.283185307179586 * u2);
}

void model_init_params(const model_desc *m, float *state, uint64_t seed) {
    rng_state r;
    rng_seed(&r, seed, RNG_INIT, 0);
    for (int i = 0; i < m->n_layers; i++) {
        const layer *ly = &m->layers[i];
        if (ly->w_n == 0) continue;
        if (ly->kind == LAYER_BN) {
            for (size_t j = 0; j < ly->w_n; j++) state[ly->w_off + j] = 1.0f;
            for (size_t j = 0; j < ly->b_n; j++) state[ly->b_off + j] = 0.0f;
            float *run = state + m->n_params + ly->buf_off;
            for (int j = 0; j < ly->c; j++) run[j] = 0.0f, run[ly->c + j] = 1.0f;
            continue;
        }
        // kaiming_uniform_(a=sqrt(5)) and the bias rule both give 1/sqrt(fan_in).
        float bound = 1.0f / sqrtf((float)ly->fan_in);
        if (ly->init == INIT_DEFAULT) {
            for (size_t j = 0; j < ly->w_n; j++) state[ly->w_off + j] = (2.0f * rng_float(&r) - 1.0f) * bound;
        } else {
            // kaiming_normal_(nonlinearity='relu'): std = sqrt(2 / fan)
            double sd = sqrt(2.0 / (ly->init == INIT_KAIMING_FAN_IN ? ly->fan_in : ly->fan_out));
            for (size_t j = 0; j < ly->w_n; j++) state[ly->w_off + j] = (float)(sd * rng_normal(&r));
        }
        for (size_t j = 0; j < ly->b_n; j++) state[ly->b_off + j] = (2.0f * rng_float(&r) - 1.0f) * bound;
    }
}

void model_describe(const model_desc *m, char *out, size_t cap) {
    size_t n = 0;
    n += (size_t)snprintf(out + n, cap - n, "input %dx%dx%d", m->in_c, m->in_h, m->in_w);
    for (int i = 0; i < m->n_layers && n < cap; i++) {
        const layer *ly = &m->layers[i];
        n += (size_t)snprintf(out + n, cap - n, " -> %s%s%s", ly->name, ly->name[0] ? "=" : "", KIND_NAMES[ly->kind]);
        if (n < cap && ly->kind == LAYER_CONV && !ly->std_conv)
            n += (size_t)snprintf(out + n, cap - n, "(s%d p%d%s)", ly->s, ly->p, ly->bias ? "" : " no bias");
        if (n < cap && ly->kind == LAYER_ADD)
            n += (size_t)snprintf(out + n, cap - n, "(%s%s)", ly->option_a ? "A " : "",
                                  ly->src ? m->layers[ly->src - 1].name : "input");
        if (n < cap) n += (size_t)snprintf(out + n, cap - n, " %dx%dx%d", ly->oc, ly->oh, ly->ow);
    }
    if (n < cap)
        n += (size_t)snprintf(out + n, cap - n, " (%zu parameters", m->n_params);
    if (n < cap && m->n_buffers) n += (size_t)snprintf(out + n, cap - n, ", %zu buffers", m->n_buffers);
    if (n < cap) snprintf(out + n, cap - n, ", %.1f MFLOP forward per image)", m->flops_forward / 1e6);
}

void model_ws_alloc(model_ws *ws, const model_desc *m) {
    memset(ws, 0, sizeof *ws);
    for (int i = 0; i < m->n_layers; i++) {
        ws->owned[i + 1] = !aliases(m, i);
        if (ws->owned[i + 1]) ws->act[i + 1] = lr_aligned_alloc(m->act_floats[i + 1] * sizeof(float));
        if (m->layers[i].kind == LAYER_DROPOUT) ws->mask[i] = lr_aligned_alloc(m->act_floats[i + 1] * sizeof(float));
    }
    for (int a = 1; a <= m->n_layers; a++)
        if (m->acc[a]) ws->gacc[a] = lr_aligned_alloc(m->act_floats[a] * sizeof(float));
    ws->n_layers = m->n_layers;
    for (int j = 0; j < 2; j++) ws->dact[j] = lr_aligned_alloc(m->max_act_floats * sizeof(float));
    ws->scratch = lr_aligned_alloc((m->scratch_floats + LANES) * sizeof(float));
    ws->bnbuf = lr_aligned_alloc((2 * (size_t)m->max_bn_channels + 1) * sizeof(float));
    ws->dlogits = lr_aligned_alloc((size_t)m->num_classes * LANES * sizeof(float));
    ws->loss = lr_aligned_alloc(LANES * sizeof(float));
    ws->nvalid = LANES;
}

void model_ws_free(model_ws *ws) {
    for (int i = 1; i <= ws->n_layers; i++) {
        if (ws->owned[i]) free(ws->act[i]);
        free(ws->gacc[i]);
        free(ws->mask[i - 1]);
    }
    free(ws->dact[0]);
    free(ws->dact[1]);
    free(ws->scratch);
    free(ws->bnbuf);
    free(ws->dlogits);
    free(ws->loss);
    memset(ws, 0, sizeof *ws);
}

// A bn layer's mean and invstd: the batch's (model_batch) or the running ones.
static void bn_stats(const model_desc *m, const layer *ly, const float *state, model_ws *ws,
                     const float **mean, const float **invstd) {
    if (ws->bn_stats) {
        *mean = ws->bn_stats + ly->buf_off;
        *invstd = *mean + ly->c;
        return;
    }
    const float *rm = state + m->n_params + ly->buf_off, *rv = rm + ly->c;
    for (int c = 0; c < ly->c; c++) {
        ws->bnbuf[c] = rm[c];
        ws->bnbuf[ly->c + c] = 1.0f / sqrtf(rv[c] + BN_EPS);
    }
    *mean = ws->bnbuf;
    *invstd = ws->bnbuf + ly->c;
}

// bn layer i, an add reading only its output (as `in`), then a ReLU in
// place on the add's output: one pass forward (the bn's output unstored).
static int bn_add_relu(const model_desc *m, int i) {
    if (i + 2 >= m->n_layers) return 0;
    const layer *ad = &m->layers[i + 1];
    return m->layers[i].kind == LAYER_BN && ad->kind == LAYER_ADD && ad->in == i + 1 && ad->src != i + 1 &&
           !m->acc[i + 1] && relu_in_place(m, i + 2) && m->layers[i + 2].in == i + 2;
}

void model_forward_layers(const model_desc *m, const kernel_table *kt, const float *state,
                          model_ws *ws, int lo, int hi) {
    for (int i = lo; i < hi; i++) {
        const layer *ly = &m->layers[i];
        if (!ws->owned[i + 1]) ws->act[i + 1] = ws->act[ly->in];
        const float *in = ws->act[ly->in], *wt = state + ly->w_off, *b = state + ly->b_off;
        float *out = ws->act[i + 1];
        switch (ly->kind) {
        case LAYER_CONV:
            if (!ly->std_conv) {
                kt->layers->conv2_forward(out, in, wt, ly->bias ? b : NULL, ws->scratch, ly->c, ly->h, ly->w, ly->oc,
                                          ly->k, ly->s, ly->p);
            } else if (i + 1 < hi && relu_in_place(m, i + 1) && m->layers[i + 1].in == i + 1) {
                // The ReLU works in place on this output, so apply it while storing.
                kt->conv_relu_forward(out, in, wt, b, ly->c, ly->h, ly->w, ly->oc, ly->k);
                i++;
                ws->act[i + 1] = out;
            } else {
                kt->conv_forward(out, in, wt, b, ly->c, ly->h, ly->w, ly->oc, ly->k);
            }
            break;
        case LAYER_RELU: kt->relu_forward(out, in, m->act_floats[ly->in]); break;
        case LAYER_MAXPOOL: kt->maxpool_forward(out, in, ly->c, ly->h, ly->w, ly->k); break;
        case LAYER_LINEAR: kt->linear_forward(out, in, wt, b, ly->fan_in, ly->oc); break;
        case LAYER_BN: {
            const float *mean, *invstd;
            bn_stats(m, ly, state, ws, &mean, &invstd);
            if (i + 1 < hi && relu_in_place(m, i + 1) && m->layers[i + 1].in == i + 1) {
                // The ReLU works in place on this output: apply it while storing.
                kt->layers->bn_normalise_relu(out, in, mean, invstd, wt, b, ly->c, ly->h * ly->w);
                i++;
                ws->act[i + 1] = out;
            } else if (i + 2 < hi && bn_add_relu(m, i)) {
                // Only the add reads this output and a ReLU works in place on the
                // add's: all three in one pass into the add's buffer.
                const layer *ad = &m->layers[i + 1];
                float *sum = ws->act[i + 2];
                kt->layers->bn_normalise_add_relu(sum, in, mean, invstd, wt, b, ws->act[ad->src], ad->c, ad->h, ad->w,
                                                  ad->sc, ad->sh, ad->sw);
                i += 2;
                ws->act[i + 1] = sum;
            } else {
                kt->layers->bn_normalise(out, in, mean, invstd, wt, b, ly->c, ly->h * ly->w);
            }
            break;
        }
        case LAYER_ADD:
            if (i + 1 < hi && relu_in_place(m, i + 1) && m->layers[i + 1].in == i + 1) {
                // The ReLU works in place on this output: apply it while storing.
                kt->layers->add_relu_forward(out, in, ws->act[ly->src], ly->c, ly->h, ly->w, ly->sc, ly->sh, ly->sw);
                i++;
                ws->act[i + 1] = out;
            } else {
                kt->layers->add_forward(out, in, ws->act[ly->src], ly->c, ly->h, ly->w, ly->sc, ly->sh, ly->sw);
            }
            break;
        case LAYER_GAP: kt->layers->gap_forward(out, in, ly->c, ly->h * ly->w); break;
        case LAYER_AVGPOOL: avgpool_forward_ref(out, in, ly->c, ly->h, ly->w, ly->k, ly->s); break;
        case LAYER_FLATTEN: break;
        case LAYER_DROPOUT:
            if (ws->train && ly->drop > 0) {
                dropout_mask_ref(ws->mask[i], m->act_floats[i + 1] / LANES, ly->drop, ws->seed, ws->step, i,
                                 ws->first_image, ws->nvalid);
                mul_ref(out, in, ws->mask[i], m->act_floats[i + 1]);
            } else {
                memcpy(out, in, m->act_floats[i + 1] * sizeof *out);
            }
            break;
        }
    }
}

const float *model_forward(const model_desc *m, const kernel_table *kt, const float *state,
                           model_ws *ws, const float *x) {
    ws->act[0] = (float *)x;
    model_forward_layers(m, kt, state, ws, 0, m->n_layers);
    return ws->act[m->n_layers];
}

void model_backward_begin(const model_desc *m, model_ws *ws, const float *dlogits) {
    for (int a = 0; a <= m->n_layers; a++) {
        ws->g[a] = NULL;
        ws->gslot[a] = -1;
        if (m->acc[a]) {
            memset(ws->gacc[a], 0, m->act_floats[a] * sizeof(float));
            ws->g[a] = ws->gacc[a];
        }
    }
    ws->g[m->n_layers] = dlogits;
}

static void add_into(float *dst, const float *src, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] += src[i];
}

// The gradient of activation a is dout itself (add, flatten, eval dropout).
static void pass_through(const model_desc *m, model_ws *ws, int a, const float *dout, int slot) {
    if (a == 0) return;
    if (m->acc[a]) {
        add_into(ws->gacc[a], dout, m->act_floats[a]);
    } else {
        ws->g[a] = dout;
        ws->gslot[a] = slot;
    }
}

int model_bn_relu_fused(const model_desc *m, int i) {
    return i >= 0 && i + 1 < m->n_layers && m->layers[i].kind == LAYER_BN && relu_in_place(m, i + 1) &&
           m->layers[i + 1].in == i + 1;
}

void model_backward_layers(const model_desc *m, const kernel_table *kt, const float *state,
                           float *grads, model_ws *ws, int hi, int lo) {
    for (int i = hi - 1; i >= lo; i--) {
        const layer *ly = &m->layers[i];
        const float *dout = ws->g[i + 1];
        const int oslot = ws->gslot[i + 1], slot = oslot == 0 ? 1 : 0;
        int a = ly->in;
        // The input's gradient is never needed.
        float *din = a > 0 ? ws->dact[slot] : NULL;
        const float *in = ws->act[a], *out = ws->act[i + 1], *wt = state + ly->w_off;
        float *dw = grads + ly->w_off, *db = grads + ly->b_off;
        switch (ly->kind) {
        case LAYER_CONV:
            if (ly->std_conv)
                kt->conv_backward(din, dw, db, dout, in, wt, ws->scratch, ly->c, ly->h, ly->w, ly->oc, ly->k);
            else
                kt->layers->conv2_backward(din, dw, ly->bias ? db : NULL, dout, in, wt, ws->scratch, ly->c, ly->h,
                                           ly->w, ly->oc, ly->k, ly->s, ly->p);
            break;
        case LAYER_RELU:
            if (ws->bn_gstats && model_bn_relu_fused(m, i - 1)) {
                // Folded into the bn before it: its output's gradient is dout, unmasked.
                pass_through(m, ws, a, dout, oslot);
                continue;
            }
            if (din && i - 1 >= lo && a == i && relu_in_place(m, i) && m->layers[i - 1].kind == LAYER_ADD) {
                // The add before writes this ReLU's buffer: mask, then route to
                // the shortcut and pass on, in one sweep; skip the add.
                const layer *ad = &m->layers[i - 1];
                kt->layers->relu_add_backward(din, ad->src > 0 ? ws->gacc[ad->src] : NULL, dout, out, ad->c, ad->h,
                                              ad->w, ad->sc, ad->sh, ad->sw);
                i--;
                pass_through(m, ws, ad->in, din, slot);
                continue;
            }
            if (din) kt->relu_backward(din, dout, out, m->act_floats[i + 1]);
            break;
        case LAYER_MAXPOOL:
            if (!din) break;
            if (i - 1 >= lo && a == i && !m->acc[i] && relu_in_place(m, i - 1)) {
                // The ReLU before works in place, so `in` is its output: apply its
                // backward while routing, and skip it.
                kt->maxpool_relu_backward(din, dout, in, out, ly->c, ly->h, ly->w, ly->k);
                i--;
                a = m->layers[i].in;
            } else {
                kt->maxpool_backward(din, dout, in, out, ly->c, ly->h, ly->w, ly->k);
            }
            break;
        case LAYER_LINEAR:
            kt->linear_backward(din, dw, db, dout, in, wt, ws->scratch, ly->fan_in, ly->oc);
            break;
        case LAYER_BN: {
            const float *mean, *invstd;
            bn_stats(m, ly, state, ws, &mean, &invstd);
            if (ws->bn_gstats) { // batch statistics: model_batch adds dgamma, dbeta
                const float *mdy = ws->bn_gstats + ly->buf_off;
                if (din && model_bn_relu_fused(m, i)) // dout: the ReLU's output gradient
                    kt->layers->bn_backward_train_relu(din, dout, in, mean, invstd, wt, state + ly->b_off, mdy,
                                                       mdy + ly->c, ly->c, ly->h * ly->w, ws->nvalid);
                else if (din)
                    kt->layers->bn_backward_train(din, dout, in, mean, invstd, wt, mdy, mdy + ly->c, ly->c,
                                                  ly->h * ly->w, ws->nvalid);
            } else {
                kt->layers->bn_backward_eval(din, dw, db, dout, in, mean, invstd, wt, ly->c, ly->h * ly->w, ws->nvalid);
            }
            break;
        }
        case LAYER_ADD:
            if (ly->src > 0) kt->layers->add_backward_skip(ws->gacc[ly->src], dout, ly->c, ly->h, ly->w, ly->sc, ly->sh, ly->sw);
            pass_through(m, ws, a, dout, oslot);
            continue;
        case LAYER_FLATTEN:
            pass_through(m, ws, a, dout, oslot);
            continue;
        case LAYER_GAP:
            if (din) kt->layers->gap_backward(din, dout, ly->c, ly->h * ly->w);
            break;
        case LAYER_AVGPOOL:
            if (din) avgpool_backward_ref(din, dout, ly->c, ly->h, ly->w, ly->k, ly->s);
            break;
        case LAYER_DROPOUT:
            if (!(ws->train && ly->drop > 0)) {
                pass_through(m, ws, a, dout, oslot);
                continue;
            }
            if (din) mul_ref(din, dout, ws->mask[i], m->act_floats[i + 1]);
            break;
        }
        if (!din) continue;
        if (m->acc[a]) {
            add_into(ws->gacc[a], din, m->act_floats[a]);
        } else {
            ws->g[a] = din;
            ws->gslot[a] = slot;
        }
    }
}

void model_backward(const model_desc *m, const kernel_table *kt, const float *state,
                    float *grads, model_ws *ws, const float *dlogits) {
    model_backward_begin(m, ws, dlogits);
    model_backward_layers(m, kt, state, grads, ws, m->n_layers, 0);
}
