// report_write.c: writes STUDY/report.md (figures referenced as
// figures/NAME.png) and STUDY/report.html, self-contained: the PNGs are
// embedded as base64 data: URIs and nothing outside the file is referred to.
#define _POSIX_C_SOURCE 200809L
#include "report_parts.h"

#include <math.h>
#include <string.h>

#include "../util/fsutil.h"

static const char MISSING[] = "\xE2\x80\x93"; // en dash: no value

// ---- the results table, built once, rendered twice ----

enum { RES_COLS = 10 };
static const char *const RES_HEAD[RES_COLS] = {
    "condition", "seed", "status", "epochs", "final test acc", "final test F1",
    "best test acc", "test F1 at best", "best epoch", "time (s)"};

typedef char cell[320];

static void fmt_pct(cell out, double v) {
    if (isfinite(v)) snprintf(out, sizeof(cell), "%.1f%%", 100 * v);
    else snprintf(out, sizeof(cell), "%s", MISSING);
}
static void fmt_num(cell out, const char *fmt, double v) {
    if (isfinite(v)) snprintf(out, sizeof(cell), fmt, v);
    else snprintf(out, sizeof(cell), "%s", MISSING);
}
static void fmt_int(cell out, int v) {
    if (v > 0) snprintf(out, sizeof(cell), "%d", v);
    else snprintf(out, sizeof(cell), "%s", MISSING);
}

static void results_row(const report_run *r, const report_run_stats *st, cell row[RES_COLS]) {
    snprintf(row[0], sizeof(cell), "%s", r->condition);
    snprintf(row[1], sizeof(cell), "%llu", (unsigned long long)r->seed);
    if (r->diverged_epoch)
        snprintf(row[2], sizeof(cell), "%s (epoch %d)%s", r->status, r->diverged_epoch,
                 r->status_inferred ? "*" : "");
    else
        snprintf(row[2], sizeof(cell), "%s%s", r->status, r->status_inferred ? "*" : "");
    if (r->planned_epochs) snprintf(row[3], sizeof(cell), "%d / %d", r->n_epochs, r->planned_epochs);
    else snprintf(row[3], sizeof(cell), "%d", r->n_epochs);
    fmt_pct(row[4], st->final_test_acc);
    fmt_num(row[5], "%.3f", st->final_test_f1);
    fmt_pct(row[6], st->best_test_acc);
    fmt_num(row[7], "%.3f", st->best_test_f1);
    fmt_int(row[8], st->best_epoch);
    fmt_num(row[9], "%.1f", r->n_epochs > 0 ? r->seconds : NAN);
}

// ---- the configuration table, from the knob table: the knobs equal in
// every run are the configuration; the others are the study's axes ----

typedef struct {
    char key[64];
    char value[400];
} config_row;

// Fills rows (capacity N_KNOBS + 1); returns the count. Axes come last.
static int config_rows(const report_study *s, config_row *rows) {
    int n = 0;
    if (s->n_runs == 0) return 0;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < N_KNOBS; i++) {
            const knob *k = &KNOBS[i];
            int same = 1;
            for (int j = 1; j < s->n_runs && same; j++) same = knob_equal(k, &s->runs[0].config, &s->runs[j].config);
            if (same != (pass == 0)) continue;
            config_row *r = &rows[n++];
            if (same) {
                snprintf(r->key, sizeof r->key, "%s", k->name);
                knob_format(k, &s->runs[0].config, r->value, sizeof r->value, KNOB_TEXT_EXACT);
                continue;
            }
            snprintf(r->key, sizeof r->key, "%s", !strcmp(k->name, "seed") ? "seeds" : k->name);
            if (strcmp(k->name, "seed") != 0) snprintf(r->key, sizeof r->key, "%s (axis)", k->name);
            size_t len = 0;
            r->value[0] = '\0';
            for (int j = 0; j < s->n_runs; j++) {
                int seen = 0;
                for (int q = 0; q < j && !seen; q++) seen = knob_equal(k, &s->runs[q].config, &s->runs[j].config);
                if (seen) continue;
                char v[300];
                knob_format(k, &s->runs[j].config, v, sizeof v, KNOB_TEXT_EXACT);
                if (len + strlen(v) + 8 >= sizeof r->value) {
                    snprintf(r->value + len, sizeof r->value - len, ", ...");
                    break;
                }
                len += (size_t)snprintf(r->value + len, sizeof r->value - len, "%s%s", len ? "; " : "", v);
            }
        }
    return n;
}

static int any_inferred(const report_study *s) {
    for (int i = 0; i < s->n_runs; i++)
        if (s->runs[i].status_inferred) return 1;
    return 0;
}

static const char INFERRED_NOTE[] =
    "* status worked out from metrics.csv: the run has no usable run.json.";

static const char *study_basename(const report_study *s) {
    const char *d = s->dir;
    size_t n = strlen(d);
    while (n > 1 && d[n - 1] == '/') n--;
    const char *slash = NULL;
    for (size_t i = 0; i < n; i++)
        if (d[i] == '/') slash = d + i;
    return slash ? slash + 1 : d;
}

// ---- Markdown ----

// Backslash-escapes what Markdown would read as markup (and table pipes).
static void md_text(FILE *f, const char *t) {
    for (; *t; t++) {
        if (strchr("\\`*_[]<>|#", *t)) fputc('\\', f);
        fputc(*t, f);
    }
}

static void md_write(FILE *f, const report_study *s, const report_analysis *a,
                     char **sentences, int n_sent, const report_figure *figs, int n_figs) {
    fprintf(f, "# Study: ");
    md_text(f, s->name[0] ? s->name : study_basename(s));
    fprintf(f, "\n\n");
    fprintf(f, "%d run%s planned", s->n_runs, s->n_runs == 1 ? "" : "s");
    if (s->created[0]) { fprintf(f, ", created "); md_text(f, s->created); }
    if (s->version[0]) { fprintf(f, " by lrscope "); md_text(f, s->version); }
    fprintf(f, ".");
    if (s->lrfind_note[0]) { fprintf(f, "\n\n"); md_text(f, s->lrfind_note); }
    fprintf(f, "\n\n## Configuration\n\n| setting | value |\n|---|---|\n");
    config_row rows[N_KNOBS + 1];
    int n_rows = config_rows(s, rows);
    for (int i = 0; i < n_rows; i++) {
        fprintf(f, "| ");
        md_text(f, rows[i].key);
        fprintf(f, " | ");
        md_text(f, rows[i].value);
        fprintf(f, " |\n");
    }
    fprintf(f, "\n## Results\n\n|");
    for (int c = 0; c < RES_COLS; c++) fprintf(f, " %s |", RES_HEAD[c]);
    fprintf(f, "\n|");
    for (int c = 0; c < RES_COLS; c++) fprintf(f, "%s", c < 3 ? "---|" : "---:|");
    fprintf(f, "\n");
    for (int i = 0; i < s->n_runs; i++) {
        cell row[RES_COLS];
        results_row(&s->runs[i], &a->runs[i], row);
        fprintf(f, "|");
        for (int c = 0; c < RES_COLS; c++) { fputc(' ', f); md_text(f, row[c]); fprintf(f, " |"); }
        fprintf(f, "\n");
    }
    if (any_inferred(s)) { fprintf(f, "\n"); md_text(f, INFERRED_NOTE); fprintf(f, "\n"); }
    fprintf(f, "\n## Analysis\n\n");
    for (int i = 0; i < n_sent; i++) { fprintf(f, "- "); md_text(f, sentences[i]); fprintf(f, "\n"); }
    int notes = 0;
    for (int i = 0; i < s->n_runs; i++) {
        if (!s->runs[i].note[0]) continue;
        if (!notes++) fprintf(f, "\n### Notes on the files\n\n");
        fprintf(f, "- ");
        md_text(f, s->runs[i].note);
        fprintf(f, "\n");
    }
    fprintf(f, "\n## Figures\n\n");
    if (n_figs == 0) fprintf(f, "No run has recorded an epoch yet, so there is nothing to draw.\n");
    for (int i = 0; i < n_figs; i++) {
        fprintf(f, "### ");
        md_text(f, figs[i].title);
        fprintf(f, "\n\n![");
        md_text(f, figs[i].title);
        fprintf(f, "](figures/%s.png)\n\nVector version: [figures/%s.svg](figures/%s.svg)\n\n",
                figs[i].name, figs[i].name, figs[i].name);
    }
}

// ---- HTML ----

static void html_text(FILE *f, const char *t) {
    for (; *t; t++) {
        switch (*t) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*t, f);
        }
    }
}

static int base64_write(FILE *f, const unsigned char *p, size_t n) {
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char out[4];
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        if (i + 1 < n) v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < n) v |= p[i + 2];
        out[0] = tab[(v >> 18) & 63];
        out[1] = tab[(v >> 12) & 63];
        out[2] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        out[3] = i + 2 < n ? tab[v & 63] : '=';
        if (fwrite(out, 1, 4, f) != 4) return -1;
    }
    return 0;
}

static const char CSS[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1100px;"
    "margin:2em auto;padding:0 1em;color:#111;background:#fff;line-height:1.45}"
    "table{border-collapse:collapse;margin:1em 0}"
    "th,td{border:1px solid #ccc;padding:.3em .6em;text-align:right}"
    "th{background:#f3f3f3}td.l,th.l{text-align:left}"
    "figure{margin:1.5em 0}img{max-width:100%;height:auto;border:1px solid #eee}"
    "figcaption{color:#444;font-size:.95em}code{background:#f6f6f6;padding:0 .2em}";

static int html_write(FILE *f, const report_study *s, const report_analysis *a,
                      char **sentences, int n_sent, const report_figure *figs, int n_figs,
                      lr_err *e) {
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>");
    fprintf(f, "Study: ");
    html_text(f, s->name[0] ? s->name : study_basename(s));
    fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>Study: ", CSS);
    html_text(f, s->name[0] ? s->name : study_basename(s));
    fprintf(f, "</h1>\n<p>%d run%s planned", s->n_runs, s->n_runs == 1 ? "" : "s");
    if (s->created[0]) { fprintf(f, ", created "); html_text(f, s->created); }
    if (s->version[0]) { fprintf(f, " by lrscope "); html_text(f, s->version); }
    fprintf(f, ".</p>\n");
    if (s->lrfind_note[0]) { fprintf(f, "<p>"); html_text(f, s->lrfind_note); fprintf(f, "</p>\n"); }
    fprintf(f, "<h2 id=\"configuration\">Configuration</h2>\n<table>\n"
               "<tr><th class=\"l\">setting</th><th class=\"l\">value</th></tr>\n");
    config_row rows[N_KNOBS + 1];
    int n_rows = config_rows(s, rows);
    for (int i = 0; i < n_rows; i++) {
        fprintf(f, "<tr><td class=\"l\">");
        html_text(f, rows[i].key);
        fprintf(f, "</td><td class=\"l\"><code>");
        html_text(f, rows[i].value);
        fprintf(f, "</code></td></tr>\n");
    }
    fprintf(f, "</table>\n<h2 id=\"results\">Results</h2>\n<table>\n<tr>");
    for (int c = 0; c < RES_COLS; c++)
        fprintf(f, "<th%s>%s</th>", c < 3 ? " class=\"l\"" : "", RES_HEAD[c]);
    fprintf(f, "</tr>\n");
    for (int i = 0; i < s->n_runs; i++) {
        cell row[RES_COLS];
        results_row(&s->runs[i], &a->runs[i], row);
        fprintf(f, "<tr>");
        for (int c = 0; c < RES_COLS; c++) {
            fprintf(f, "<td%s>", c < 3 ? " class=\"l\"" : "");
            html_text(f, row[c]);
            fprintf(f, "</td>");
        }
        fprintf(f, "</tr>\n");
    }
    fprintf(f, "</table>\n");
    if (any_inferred(s)) { fprintf(f, "<p>"); html_text(f, INFERRED_NOTE); fprintf(f, "</p>\n"); }
    fprintf(f, "<h2 id=\"analysis\">Analysis</h2>\n<ul>\n");
    for (int i = 0; i < n_sent; i++) {
        fprintf(f, "<li>");
        html_text(f, sentences[i]);
        fprintf(f, "</li>\n");
    }
    fprintf(f, "</ul>\n");
    int notes = 0;
    for (int i = 0; i < s->n_runs; i++) {
        if (!s->runs[i].note[0]) continue;
        if (!notes++) fprintf(f, "<h3>Notes on the files</h3>\n<ul>\n");
        fprintf(f, "<li>");
        html_text(f, s->runs[i].note);
        fprintf(f, "</li>\n");
    }
    if (notes) fprintf(f, "</ul>\n");
    fprintf(f, "<h2 id=\"figures\">Figures</h2>\n");
    if (n_figs == 0) fprintf(f, "<p>No run has recorded an epoch yet, so there is nothing to draw.</p>\n");
    for (int i = 0; i < n_figs; i++) {
        char fig_path[4400], file[96];
        snprintf(file, sizeof file, "figures/%s.png", figs[i].name);
        fs_join(fig_path, sizeof fig_path, s->dir, file);
        char *png = NULL;
        size_t len = 0;
        if (fs_read_all(fig_path, &png, &len, e) != 0) return -1;
        fprintf(f, "<figure id=\"fig-%s\">\n<img alt=\"", figs[i].name);
        html_text(f, figs[i].title);
        fprintf(f, "\" width=\"1000\" height=\"700\" src=\"data:image/png;base64,");
        int bad = base64_write(f, (const unsigned char *)png, len);
        free(png);
        if (bad) return lr_fail(e, "report.html: write failed while embedding %s", fig_path);
        fprintf(f, "\">\n<figcaption>");
        html_text(f, figs[i].title);
        fprintf(f, "</figcaption>\n</figure>\n");
    }
    fprintf(f, "</body>\n</html>\n");
    return 0;
}

int report_write_docs(const report_study *s, const report_analysis *a,
                      const report_figure *figs, int n_figs, lr_err *e) {
    char **sentences = NULL;
    int n_sent = report_analysis_sentences(s, a, &sentences);
    char path[4400];
    fs_atomic_file af;
    int rc = -1;

    fs_join(path, sizeof path, s->dir, "report.md");
    if (fs_begin(&af, path, e) != 0) goto done;
    md_write(af.f, s, a, sentences, n_sent, figs, n_figs);
    if (fs_commit(&af, e) != 0) goto done;

    fs_join(path, sizeof path, s->dir, "report.html");
    if (fs_begin(&af, path, e) != 0) goto done;
    if (html_write(af.f, s, a, sentences, n_sent, figs, n_figs, e) != 0) {
        fs_abort(&af);
        goto done;
    }
    if (fs_commit(&af, e) != 0) goto done;
    rc = 0;
done:
    report_lines_free(sentences, n_sent);
    return rc;
}
