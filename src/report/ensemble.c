// ensemble.c: an ensemble's averaged probabilities and their metrics,
// ensemble.csv (writer and reader share the columns below) and the report's
// sentences on the ensembles of a study, every number computed here.
#include "ensemble.h"
#include "report_lines.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../stats/stats.h"
#include "../util/fsutil.h"

// ---- arithmetic ----

void ensemble_init(ensemble_acc *a, int n, int K) {
    LR_ASSERT(n > 0 && K > 0);
    a->n = n;
    a->K = K;
    a->members = 0;
    a->sum = lr_calloc((size_t)n * K, sizeof *a->sum);
}

void ensemble_add(ensemble_acc *a, const float *probs) {
    const size_t nk = (size_t)a->n * a->K;
    for (size_t i = 0; i < nk; i++) a->sum[i] += (double)probs[i];
    a->members++;
}

double ensemble_finish(const ensemble_acc *a, const int *labels, int64_t *cm) {
    LR_ASSERT(a->members > 0);
    const int K = a->K;
    const double inv = 1.0 / a->members;
    memset(cm, 0, (size_t)K * K * sizeof *cm);
    double nll = 0.0;
    for (int i = 0; i < a->n; i++) {
        const double *s = a->sum + (size_t)i * K;
        int arg = 0;
        for (int k = 1; k < K; k++)
            if (s[k] > s[arg]) arg = k; // strict: the first of equal maxima wins
        int y = labels[i];
        LR_ASSERT(y >= 0 && y < K);
        cm[(size_t)y * K + arg]++;
        nll += -log(s[y] * inv);
    }
    return nll / a->n;
}

void ensemble_free(ensemble_acc *a) {
    free(a->sum);
    memset(a, 0, sizeof *a);
}

// ---- groups ----

void ensemble_group_add(ensemble_group *g, int left_out, const char *run, const char *status, double loss,
                        double acc, double f1) {
    ensemble_row **rows = left_out ? &g->left_out : &g->members;
    int *n = left_out ? &g->n_left_out : &g->n_members;
    *rows = lr_realloc(*rows, (size_t)(*n + 1) * sizeof **rows);
    ensemble_row *r = &(*rows)[(*n)++];
    snprintf(r->run, sizeof r->run, "%s", run);
    snprintf(r->status, sizeof r->status, "%s", status);
    r->test_loss = loss;
    r->test_acc = acc;
    r->test_f1 = f1;
}

void ensemble_groups_free(ensemble_group *g, int n) {
    for (int i = 0; i < n && g; i++) {
        free(g[i].members);
        free(g[i].left_out);
    }
    free(g);
}

// ---- ensemble.csv ----

const char *const ensemble_csv_columns[ENS_N_COLS] = {"ensemble", "role", "run", "status",
                                                      "test_loss", "test_acc", "test_f1"};
static const char *const ROLES[3] = {"member", "ensemble", "left_out"};

// A field, quoted when it holds a comma, quote or line break (RFC 4180).
static void csv_field(FILE *f, const char *s) {
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void csv_row(FILE *f, const char *group, const char *role, const char *run, const char *status,
                    double loss, double acc, double f1) {
    csv_field(f, group);
    fprintf(f, ",%s,", role);
    csv_field(f, run);
    fputc(',', f);
    csv_field(f, status);
    const double v[3] = {loss, acc, f1};
    for (int k = 0; k < 3; k++) {
        fputc(',', f);
        if (!isnan(v[k])) fprintf(f, "%.17g", v[k]);
    }
    fputc('\n', f);
}

void ensemble_csv_print(FILE *f, const ensemble_group *g, int n) {
    for (int c = 0; c < ENS_N_COLS; c++) fprintf(f, "%s%s", c ? "," : "", ensemble_csv_columns[c]);
    fputc('\n', f);
    for (int i = 0; i < n; i++) {
        for (int m = 0; m < g[i].n_members; m++) {
            const ensemble_row *r = &g[i].members[m];
            csv_row(f, g[i].name, ROLES[0], r->run, r->status, r->test_loss, r->test_acc, r->test_f1);
        }
        if (g[i].formed) csv_row(f, g[i].name, ROLES[1], "", "", g[i].test_loss, g[i].test_acc, g[i].test_f1);
        for (int m = 0; m < g[i].n_left_out; m++)
            csv_row(f, g[i].name, ROLES[2], g[i].left_out[m].run, g[i].left_out[m].status, NAN, NAN, NAN);
    }
}

int ensemble_csv_write(const char *path, const ensemble_group *g, int n, lr_err *e) {
    fs_atomic_file af;
    if (fs_begin(&af, path, e) != 0) return -1;
    ensemble_csv_print(af.f, g, n);
    return fs_commit(&af, e);
}

// Splits one line into fields in place (RFC 4180 quotes); returns the count
// or -1 for an unterminated quote.
static int csv_split(char *line, char **fields, int cap) {
    int n = 0;
    char *r = line;
    for (;;) {
        if (n == cap) return cap + 1;
        char *w = r;
        fields[n++] = w;
        if (*r == '"') {
            r++;
            for (;;) {
                if (!*r) return -1;
                if (*r == '"' && r[1] == '"') { *w++ = '"'; r += 2; continue; }
                if (*r == '"') { r++; break; }
                *w++ = *r++;
            }
            if (*r && *r != ',') return -1;
        } else {
            while (*r && *r != ',') *w++ = *r++;
        }
        int more = *r == ',';
        *w = '\0';
        if (!more) break;
        r++;
    }
    return n;
}

static int parse_cell(const char *path, int line, const char *col, const char *s, int allow_empty, double *v,
                      lr_err *e) {
    if (!*s) {
        if (!allow_empty) return lr_fail(e, "%s line %d: %s is empty; expected a number", path, line, col);
        *v = NAN;
        return 0;
    }
    char *end;
    *v = strtod(s, &end);
    if (*end) return lr_fail(e, "%s line %d: %s \"%s\" is not a number", path, line, col, s);
    return 0;
}

int ensemble_csv_read(const char *path, ensemble_group **out, int *n_out, lr_err *e) {
    *out = NULL;
    *n_out = 0;
    char *text;
    size_t len;
    if (fs_read_all(path, &text, &len, e) != 0) return -1;
    ensemble_group *g = NULL;
    int n = 0, rc = -1, line = 0;
    for (char *p = text, *nl; *p; p = nl + 1) {
        nl = strchr(p, '\n');
        if (!nl) {
            lr_fail(e, "%s line %d: no newline at the end (a truncated file)", path, line + 1);
            goto done;
        }
        *nl = '\0';
        if (nl > p && nl[-1] == '\r') nl[-1] = '\0';
        line++;
        char *f[ENS_N_COLS + 1];
        int nf = csv_split(p, f, ENS_N_COLS);
        if (line == 1) {
            int ok = nf == ENS_N_COLS;
            for (int c = 0; ok && c < ENS_N_COLS; c++) ok = !strcmp(f[c], ensemble_csv_columns[c]);
            if (!ok) {
                lr_fail(e, "%s line 1: expected the header %s,%s,%s,%s,%s,%s,%s", path, ensemble_csv_columns[0],
                        ensemble_csv_columns[1], ensemble_csv_columns[2], ensemble_csv_columns[3],
                        ensemble_csv_columns[4], ensemble_csv_columns[5], ensemble_csv_columns[6]);
                goto done;
            }
            continue;
        }
        if (nf != ENS_N_COLS) {
            lr_fail(e, "%s line %d: expected %d fields, found %s", path, line, ENS_N_COLS,
                    nf < 0 ? "an unterminated quote" : nf > ENS_N_COLS ? "more" : "fewer");
            goto done;
        }
        int role = -1;
        for (int r = 0; r < 3; r++)
            if (!strcmp(f[ENS_COL_ROLE], ROLES[r])) role = r;
        if (role < 0) {
            lr_fail(e, "%s line %d: role \"%s\"; expected member, ensemble or left_out", path, line,
                    f[ENS_COL_ROLE]);
            goto done;
        }
        if (!f[ENS_COL_ENSEMBLE][0] || strlen(f[ENS_COL_ENSEMBLE]) >= sizeof g->name) {
            lr_fail(e, "%s line %d: the ensemble's name is empty or too long", path, line);
            goto done;
        }
        if (n == 0 || strcmp(g[n - 1].name, f[ENS_COL_ENSEMBLE]) != 0) {
            g = lr_realloc(g, (size_t)(n + 1) * sizeof *g);
            memset(&g[n], 0, sizeof g[n]);
            snprintf(g[n].name, sizeof g[n].name, "%s", f[ENS_COL_ENSEMBLE]);
            g[n].test_loss = g[n].test_acc = g[n].test_f1 = NAN;
            n++;
        }
        ensemble_group *cur = &g[n - 1];
        double v[3] = {NAN, NAN, NAN};
        for (int k = 0; k < 3; k++)
            if (parse_cell(path, line, ensemble_csv_columns[ENS_COL_TEST_LOSS + k], f[ENS_COL_TEST_LOSS + k],
                           role != 1, &v[k], e) != 0)
                goto done;
        if (role == 1) {
            if (cur->formed) {
                lr_fail(e, "%s line %d: a second ensemble row for %s", path, line, cur->name);
                goto done;
            }
            cur->formed = 1;
            cur->test_loss = v[0];
            cur->test_acc = v[1];
            cur->test_f1 = v[2];
        } else {
            ensemble_group_add(cur, role == 2, f[ENS_COL_RUN], f[ENS_COL_STATUS], v[0], v[1], v[2]);
        }
    }
    if (line == 0) {
        lr_fail(e, "%s: empty; expected the header line", path);
        goto done;
    }
    rc = 0;
done:
    free(text);
    if (rc != 0) {
        ensemble_groups_free(g, n);
        return -1;
    }
    *out = g;
    *n_out = n;
    return 0;
}

// ---- the report ----

ensemble_gain ensemble_gain_of(const ensemble_group *g) {
    ensemble_gain r = {.best = -1, .best_acc = NAN, .best_f1 = NAN, .mean_acc = NAN, .gain_best = NAN,
                       .gain_mean = NAN};
    double sum = 0.0;
    for (int m = 0; m < g->n_members; m++) {
        const ensemble_row *row = &g->members[m];
        sum += row->test_acc;
        if (r.best < 0 || row->test_acc > r.best_acc) {
            r.best = m;
            r.best_acc = row->test_acc;
            r.best_f1 = row->test_f1;
        }
    }
    if (g->n_members > 0) r.mean_acc = sum / g->n_members;
    if (g->formed && r.best >= 0) {
        r.gain_best = g->test_acc - r.best_acc;
        r.gain_mean = g->test_acc - r.mean_acc;
    }
    return r;
}


// "a gain of 1.20 points" / "no gain (0.00 points)" / "a loss of 0.40 points"
static void gain_words(char *out, size_t cap, double g) {
    if (g > 0) snprintf(out, cap, "beats it by %.2f points", 100 * g);
    else if (g < 0) snprintf(out, cap, "falls %.2f points short of it", -100 * g);
    else snprintf(out, cap, "ties with it");
}

// One sentence on the mean of gains x (n,) over the ensembles.
static void say_interval(line_list *l, const double *x, int n, const char *over) {
    stats_summary s = stats_summarize(x, n);
    if (s.n < 2) return;
    if (s.ci_lo > 0)
        say(l, "Over the %d ensembles, ensembling gains %.2f points of test accuracy over %s (95%% CI %.2f to "
               "%.2f, t-interval over the ensembles).", s.n, 100 * s.mean, over, 100 * s.ci_lo, 100 * s.ci_hi);
    else if (s.ci_hi < 0)
        say(l, "Over the %d ensembles, ensembling loses %.2f points of test accuracy against %s (95%% CI %.2f "
               "to %.2f, t-interval over the ensembles).", s.n, -100 * s.mean, over, 100 * s.ci_lo,
            100 * s.ci_hi);
    else
        say(l, "Over the %d ensembles, no detectable gain over %s: %.2f points of test accuracy (95%% CI %.2f "
               "to %.2f, t-interval over the ensembles, which covers 0).", s.n, over, 100 * s.mean,
            100 * s.ci_lo, 100 * s.ci_hi);
}

int ensemble_sentences(const ensemble_group *g, int n, char ***out) {
    line_list l = {0};
    int formed = 0;
    for (int i = 0; i < n; i++) formed += g[i].formed;
    double *gb = lr_calloc((size_t)(n > 0 ? n : 1), sizeof *gb), *gm = lr_calloc((size_t)(n > 0 ? n : 1), sizeof *gm);
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (!g[i].formed) continue;
        ensemble_gain r = ensemble_gain_of(&g[i]);
        gb[k] = r.gain_best;
        gm[k] = r.gain_mean;
        k++;
        if (formed == 1) {
            char words[64];
            gain_words(words, sizeof words, r.gain_best);
            char who[320];
            if (!strcmp(g[i].name, "all")) snprintf(who, sizeof who, "of the study's %d finished runs", g[i].n_members);
            else snprintf(who, sizeof who, "%.256s (%d models)", g[i].name, g[i].n_members);
            say(&l, "The ensemble %s reaches %.2f %% test accuracy (macro-F1 %.3f); its best member, "
                    "%s, reaches %.2f %% (F1 %.3f): the ensemble %s (%.2f points over the members' mean). "
                    "This is one ensemble on one test set, so there is no interval; a seeds study gives one.",
                who, 100 * g[i].test_acc, g[i].test_f1, g[i].members[r.best].run,
                100 * r.best_acc, r.best_f1, words, 100 * r.gain_mean);
        }
    }
    if (formed >= 2) {
        say_interval(&l, gb, k, "the best member");
        say_interval(&l, gm, k, "the members' mean");
    }
    for (int i = 0; i < n; i++) {
        if (!g[i].formed)
            say(&l, "%s has %d finished run%s with weights, fewer than the 2 an ensemble needs; no ensemble.",
                g[i].name, g[i].n_members, g[i].n_members == 1 ? "" : "s");
        for (int m = 0; m < g[i].n_left_out; m++)
            say(&l, "%s is left out of %s (%s).", g[i].left_out[m].run, g[i].name, g[i].left_out[m].status);
    }
    if (n == 0) say(&l, "No ensemble: the study has no runs with weights.");
    free(gb);
    free(gm);
    *out = l.lines;
    return l.n;
}

void ensemble_lines_free(char **lines, int n) {
    for (int i = 0; i < n; i++) free(lines[i]);
    free(lines);
}
