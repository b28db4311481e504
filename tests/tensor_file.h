// tensor_file.h: reads the reference files tools/torch_reference.py writes
// (records of: u32 name length, name, u32 ndim, u32 dims, f32 data).
#ifndef LRSCOPE_TENSOR_FILE_H
#define LRSCOPE_TENSOR_FILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char name[64];
    int ndim;
    int dims[8];
    size_t n;
    float *data;
} ref_tensor;

typedef struct {
    int count;
    ref_tensor t[128];
} ref_file;

static inline void ref_file_free(ref_file *rf);

static inline int ref_file_load(ref_file *rf, const char *path) {
    memset(rf, 0, sizeof *rf);
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    uint32_t len;
    while (fread(&len, 4, 1, f) == 1) {
        // A file this reader cannot hold whole is an error, never a silent cut.
        if (rf->count == 128 || len >= 64) goto bad;
        ref_tensor *t = &rf->t[rf->count];
        uint32_t nd;
        if (fread(t->name, 1, len, f) != len || fread(&nd, 4, 1, f) != 1 || nd > 8) break;
        t->ndim = (int)nd;
        t->n = 1;
        for (uint32_t i = 0; i < nd; i++) {
            uint32_t d;
            if (fread(&d, 4, 1, f) != 1) goto bad;
            t->dims[i] = (int)d;
            t->n *= d;
        }
        t->data = malloc(t->n * sizeof(float) + 4);
        if (!t->data || fread(t->data, 4, t->n, f) != t->n) goto bad;
        rf->count++;
    }
    fclose(f);
    return rf->count > 0 ? 0 : -1;
bad:
    fclose(f);
    ref_file_free(rf);
    return -1;
}

static inline const ref_tensor *ref_get(const ref_file *rf, const char *name) {
    for (int i = 0; i < rf->count; i++)
        if (strcmp(rf->t[i].name, name) == 0) return &rf->t[i];
    return NULL;
}

static inline void ref_file_free(ref_file *rf) {
    for (int i = 0; i < rf->count; i++) free(rf->t[i].data);
    memset(rf, 0, sizeof *rf);
}

#endif
