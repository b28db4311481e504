// study_compare.h: assert_same_study(a, b): every file of two study
// folders compared, timing fields aside (moved from test_resume.c, shared by
// the tests that check a study gives the same bits another way: resumed,
// across MPI ranks). Include after cli_fixture.h.
#ifndef LRSCOPE_STUDY_COMPARE_H
#define LRSCOPE_STUDY_COMPARE_H

#include <ftw.h>

#include "../src/study/study.h"

// The comparer: every file of study a against b, timing fields aside.
// JSON: the keys seconds, train_images_per_s, eval_images_per_s, created and
// the execution setting prefetch (results do not depend on it) are removed.
// CSV: the columns seconds and seconds_* are removed. report.md: the
// creation date, the time lines and the "time (s)" table column are
// removed. SVG: cairo's object numbers (which shift with the time figure's
// content) are removed. figures/time.* (the timing figure), report.html (it
// embeds it), the checkpoints (they hold the time spent) and the lock are
// not compared. Everything else byte for byte.
static const char *const TIMING_KEYS[] = {"seconds", "train_images_per_s", "eval_images_per_s", "created",
                                          "prefetch"};

static void json_strip(json_t *j) {
    if (json_is_object(j)) {
        for (size_t i = 0; i < sizeof TIMING_KEYS / sizeof TIMING_KEYS[0]; i++) json_object_del(j, TIMING_KEYS[i]);
        const char *key;
        json_t *v;
        json_object_foreach(j, key, v) json_strip(v);
    } else if (json_is_array(j)) {
        for (size_t i = 0; i < json_array_size(j); i++) json_strip(json_array_get(j, i));
    }
}

static int timing_column(const char *h) { return !strcmp(h, "seconds") || !strncmp(h, "seconds_", 8); }

static char *csv_strip(const char *text) {
    char *copy = strdup(text), *out = calloc(2, strlen(text) + 2);
    assert_true(copy && out);
    char *lines[4096];
    int n = split_lines(copy, lines, 4096);
    int drop[256] = {0}, ncol = 0;
    for (int i = 0; i < n; i++) {
        char *fields[256];
        int nf = split_csv(lines[i], fields, 256);
        if (i == 0) {
            ncol = nf;
            for (int k = 0; k < nf; k++) drop[k] = timing_column(fields[k]);
        }
        assert_int_equal(nf, ncol);
        for (int k = 0; k < nf; k++)
            if (!drop[k]) {
                strcat(out, fields[k]);
                strcat(out, ",");
            }
        strcat(out, "\n");
    }
    free(copy);
    return out;
}

static char *md_strip(const char *text) {
    char *copy = strdup(text), *out = calloc(2, strlen(text) + 2);
    assert_true(copy && out);
    char *lines[4096];
    int n = split_lines(copy, lines, 4096), time_table = 0;
    for (int i = 0; i < n; i++) {
        char *l = lines[i];
        if (strstr(l, "created ") || strstr(l, "The fastest run") || strstr(l, "Per epoch, times")) continue;
        if (l[0] != '|') time_table = 0;
        else if (strstr(l, "| time (s) |")) time_table = 1;
        if (l[0] == '|' && time_table) { // the last cell is the time
            char *end = l + strlen(l) - 1;
            if (end > l) *end = '\0';
            char *cut = strrchr(l, '|');
            if (cut) cut[1] = '\0';
        }
        strcat(out, l);
        strcat(out, "\n");
    }
    free(copy);
    return out;
}

static char *svg_strip(const char *text) {
    char *out = malloc(strlen(text) + 1);
    assert_non_null(out);
    static const char *const words[] = {"image", "surface", "glyph", "clip", "pattern", "mask", "source"};
    size_t o = 0;
    for (const char *p = text; *p;) {
        size_t w = 0;
        for (size_t k = 0; k < sizeof words / sizeof words[0] && !w; k++)
            if (!strncmp(p, words[k], strlen(words[k])) && p[strlen(words[k])] >= '0' && p[strlen(words[k])] <= '9')
                w = strlen(words[k]);
        if (w) {
            memcpy(out + o, p, w);
            o += w;
            p += w;
            while (*p >= '0' && *p <= '9') p++;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    return out;
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

static char g_walk_root[4096];
static char *g_walk_list[1024];
static int g_walk_n;

static int walk_add(const char *path, const struct stat *st, int type, struct FTW *ftw) {
    (void)st;
    (void)ftw;
    if (type != FTW_F) return 0;
    assert_true(g_walk_n < 1024);
    g_walk_list[g_walk_n++] = strdup(path + strlen(g_walk_root) + 1);
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

// The files of a study folder, sorted (caller frees each and *n of them).
static int list_files(const char *dir, char **out) {
    snprintf(g_walk_root, sizeof g_walk_root, "%s", dir);
    g_walk_n = 0;
    assert_int_equal(nftw(dir, walk_add, 16, FTW_PHYS), 0);
    qsort(g_walk_list, (size_t)g_walk_n, sizeof *g_walk_list, cmp_str);
    for (int i = 0; i < g_walk_n; i++) out[i] = g_walk_list[i];
    return g_walk_n;
}

// TensorBoard event files: the same records except their times. Each
// record's payload is rewritten without its fixed64 fields (wall_time,
// HParams' start/end times; the scalars are fixed32 floats and stay),
// descending into every length-delimited field that parses whole as a
// message; the framing's lengths and CRCs are dropped with them.
static size_t pb_varint(const uint8_t *p, size_t n, size_t *i, uint64_t *v) {
    *v = 0;
    for (int sh = 0; *i < n && sh < 64; sh += 7) {
        uint8_t b = p[(*i)++];
        *v |= (uint64_t)(b & 0x7f) << sh;
        if (!(b & 0x80)) return 1;
    }
    return 0;
}
static int pb_canon(const uint8_t *p, size_t n, uint8_t *out, size_t *on) {
    size_t i = 0;
    while (i < n) {
        uint64_t key, v;
        if (!pb_varint(p, n, &i, &key) || (key >> 3) == 0) return 0;
        int wire = (int)(key & 7);
        if (wire == 0) {
            size_t s0 = i;
            if (!pb_varint(p, n, &i, &v)) return 0;
            out[(*on)++] = (uint8_t)key;
            memcpy(out + *on, p + s0, i - s0);
            *on += i - s0;
        } else if (wire == 1) {
            if (n - i < 8) return 0;
            i += 8; // a time: dropped
        } else if (wire == 5) {
            if (n - i < 4) return 0;
            out[(*on)++] = (uint8_t)key;
            memcpy(out + *on, p + i, 4);
            *on += 4;
            i += 4;
        } else if (wire == 2) {
            if (!pb_varint(p, n, &i, &v) || v > n - i) return 0;
            out[(*on)++] = (uint8_t)key;
            size_t mark = *on;
            if (!pb_canon(p + i, (size_t)v, out, on)) { // not a message: the bytes as they are
                *on = mark;
                memcpy(out + *on, p + i, (size_t)v);
                *on += (size_t)v;
            }
            i += (size_t)v;
        } else {
            return 0;
        }
    }
    return 1;
}
static int events_same(const uint8_t *a, size_t la, const uint8_t *b, size_t lb) {
    uint8_t *ca = malloc(la + 1), *cb = malloc(lb + 1);
    size_t na = 0, nb = 0;
    int ok = 1;
    for (int side = 0; side < 2 && ok; side++) {
        const uint8_t *p = side ? b : a;
        size_t n = side ? lb : la, *on = side ? &nb : &na;
        uint8_t *out = side ? cb : ca;
        for (size_t i = 0; ok && i < n;) {
            if (n - i < 12) { ok = 0; break; }
            uint64_t len = 0;
            for (int k = 7; k >= 0; k--) len = len << 8 | p[i + (size_t)k];
            if (len > n - i - 16) { ok = 0; break; }
            ok = pb_canon(p + i + 12, (size_t)len, out, on);
            i += 16 + (size_t)len;
        }
    }
    ok = ok && na == nb && !memcmp(ca, cb, na);
    free(ca);
    free(cb);
    return ok;
}

static void assert_same_study(const char *a, const char *b) {
    static char *fa[1024], *fb[1024];
    int na = list_files(a, fa), nb = list_files(b, fb);
    for (int i = 0; i < na && i < nb; i++)
        if (strcmp(fa[i], fb[i]) != 0) fail_msg("%s and %s: file %d is %s in one, %s in the other", a, b, i, fa[i], fb[i]);
    if (na != nb) fail_msg("%s has %d files, %s has %d", a, na, b, nb);
    int compared = 0;
    for (int i = 0; i < na; i++) {
        const char *f = fa[i];
        if (!strcmp(f, STUDY_LOCK_FILE) || strstr(f, "checkpoint") || !strncmp(f, "figures/time.", 13) ||
            !strcmp(f, "report.html"))
            continue;
        char pa[4400], pb[4400];
        snprintf(pa, sizeof pa, "%s/%s", a, f);
        snprintf(pb, sizeof pb, "%s/%s", b, f);
        size_t la, lb;
        char *ta = slurp_must(pa, &la), *tb = slurp_must(pb, &lb);
        int same;
        if (ends_with(f, ".json")) {
            json_error_t je;
            json_t *ja = json_loads(ta, 0, &je), *jb = json_loads(tb, 0, &je);
            assert_true(ja && jb);
            json_strip(ja);
            json_strip(jb);
            same = json_equal(ja, jb);
            json_decref(ja);
            json_decref(jb);
        } else if (ends_with(f, ".csv") || ends_with(f, ".md") || ends_with(f, ".svg")) {
            char *(*strip)(const char *) = ends_with(f, ".csv") ? csv_strip : ends_with(f, ".md") ? md_strip : svg_strip;
            char *sa = strip(ta), *sb = strip(tb);
            same = !strcmp(sa, sb);
            free(sa);
            free(sb);
        } else if (strstr(f, "tfevents")) {
            same = events_same((const uint8_t *)ta, la, (const uint8_t *)tb, lb);
        } else {
            same = la == lb && !memcmp(ta, tb, la);
        }
        if (!same) fail_msg("%s differs between %s and %s", f, a, b);
        compared++;
        free(ta);
        free(tb);
    }
    assert_true(compared >= 10);
    for (int i = 0; i < na; i++) free(fa[i]);
    for (int i = 0; i < nb; i++) free(fb[i]);
}

#endif
