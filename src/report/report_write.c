// report_write.c: writes STUDY/report.md (figures referenced as
// figures/NAME.png) and STUDY/report.html, self-contained: the PNGs are
// embedded as base64 data: URIs and nothing outside the file is referred to.
#define _POSIX_C_SOURCE 200809L
#include "report_docs.h"

#include <math.h>
#include <string.h>

#include "../train/config.h"
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

// ---- the conditions table: n and mean +- 95% CI half-width per metric ----

enum { COND_COLS = 7 };
static const char *const COND_HEAD[COND_COLS] = {
    "condition", "n", "final test acc", "final test F1", "best test acc", "final test loss", "time (s)"};
static const char PLUS_MINUS[] = "\xC2\xB1";

// mean +- half-width of the finite values x (n,); scale and unit for display.
static void fmt_mean_ci(cell out, const double *x, int n, double scale, int prec, const char *unit) {
    stats_summary s = stats_summarize(x, n);
    if (s.n == 0) snprintf(out, sizeof(cell), "%s", MISSING);
    else if (s.n == 1) snprintf(out, sizeof(cell), "%.*f%s", prec, scale * s.mean, unit);
    else snprintf(out, sizeof(cell), "%.*f %s %.*f%s", prec, scale * s.mean, PLUS_MINUS, prec,
                  scale * (s.ci_hi - s.mean), unit);
}

static void cond_row(const report_condition *c, cell row[COND_COLS]) {
    snprintf(row[0], sizeof(cell), "%s", c->name);
    stats_summary s = stats_summarize(c->final_test_acc, c->n_runs);
    if (s.n == c->n_runs) snprintf(row[1], sizeof(cell), "%d", s.n);
    else snprintf(row[1], sizeof(cell), "%d of %d", s.n, c->n_runs);
    fmt_mean_ci(row[2], c->final_test_acc, c->n_runs, 100, 2, "%");
    fmt_mean_ci(row[3], c->final_test_f1, c->n_runs, 1, 3, "");
    fmt_mean_ci(row[4], c->best_test_acc, c->n_runs, 100, 2, "%");
    fmt_mean_ci(row[5], c->final_test_loss, c->n_runs, 1, 3, "");
    fmt_mean_ci(row[6], c->seconds, c->n_runs, 1, 2, "");
}

static const char COND_NOTE[] =
    "n: seeds with a final test accuracy (a diverged run has none). Each cell is the mean over those "
    "seeds \xC2\xB1 the half-width of its 95% Student-t confidence interval; a single value where "
    "there is one seed. The same numbers, with sd, are in conditions.csv; per epoch in curves.csv.";

// Appends arg to the command line, in single quotes when the shell would
// otherwise read it differently.
// ---- the ensembles table (ensemble.csv), built once, rendered twice ----

enum { ENS_COLS = 8 };
static const char *const ENS_HEAD[ENS_COLS] = {
    "ensemble", "members", "ensemble test acc", "ensemble test F1", "best member", "its test acc",
    "its test F1", "gain (points)"};

static void ens_row(const ensemble_group *g, cell row[ENS_COLS]) {
    ensemble_gain r = ensemble_gain_of(g);
    snprintf(row[0], sizeof(cell), "%s", g->name);
    fmt_int(row[1], g->n_members);
    fmt_pct(row[2], g->test_acc);
    fmt_num(row[3], "%.3f", g->test_f1);
    snprintf(row[4], sizeof(cell), "%.300s", r.best >= 0 ? g->members[r.best].run : MISSING);
    fmt_pct(row[5], r.best_acc);
    fmt_num(row[6], "%.3f", r.best_f1);
    fmt_num(row[7], "%+.2f", 100 * r.gain_best);
}

static const char ENS_NOTE[] =
    "Each ensemble averages its members' softmax outputs on the test set (ensemble.csv); gain is the "
    "ensemble's test accuracy minus its best member's.";

static void shell_arg(char *out, size_t cap, const char *arg) {
    size_t used = strlen(out);
    int plain = arg[0] != '\0';
    for (const char *p = arg; *p && plain; p++)
        plain = strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._,:=/+-@%", *p) != NULL;
    if (plain) { snprintf(out + used, cap - used, " %s", arg); return; }
    char q[1400];
    size_t j = 0;
    q[j++] = '\'';
    for (const char *p = arg; *p && j + 6 < sizeof q; p++) {
        if (*p == '\'') { memcpy(q + j, "'\\''", 4); j += 4; }
        else q[j++] = *p;
    }
    q[j++] = '\'';
    q[j] = '\0';
    snprintf(out + used, cap - used, " %s", q);
}

// The command that runs this study again over 5 seeds: its axes as --grid
// flags and the knobs it set away from their defaults. 0 when an axis value
// holds a comma (a model description), which --grid cannot list.
static int seeds_command(const report_study *s, char *out, size_t cap) {
    snprintf(out, cap, "lrscope run --seeds 5");
    if (s->n_runs == 0) return 1;
    for (int a = 0; a < s->n_axes; a++) {
        const knob *k = s->axes[a];
        if (!strcmp(k->name, "seed")) continue;
        char arg[1200];
        size_t len = (size_t)snprintf(arg, sizeof arg, "%s=", k->name);
        for (int j = 0; j < s->n_runs; j++) {
            int seen = 0;
            for (int q = 0; q < j && !seen; q++) seen = knob_equal(k, &s->runs[q].config, &s->runs[j].config);
            if (seen) continue;
            char v[300];
            knob_format(k, &s->runs[j].config, v, sizeof v, KNOB_TEXT_EXACT);
            if (strchr(v, ',')) return 0;
            if (len + strlen(v) + 2 >= sizeof arg) return 0;
            len += (size_t)snprintf(arg + len, sizeof arg - len, "%s%s", arg[len - 1] == '=' ? "" : ",", v);
        }
        snprintf(out + strlen(out), cap - strlen(out), " --grid");
        shell_arg(out, cap, arg);
    }
    run_config def;
    config_defaults(&def);
    for (int i = 0; i < N_KNOBS; i++) {
        const knob *k = &KNOBS[i];
        if (!k->axis || !strcmp(k->name, "seed")) continue;
        int on_axis = 0;
        for (int a = 0; a < s->n_axes; a++) on_axis |= s->axes[a] == k;
        if (on_axis || knob_equal(k, &def, &s->runs[0].config)) continue;
        int same = 1;
        for (int j = 1; j < s->n_runs && same; j++) same = knob_equal(k, &s->runs[0].config, &s->runs[j].config);
        if (!same) continue;
        char flag[64], v[1024];
        knob_flag(k, flag, sizeof flag);
        knob_format(k, &s->runs[0].config, v, sizeof v, KNOB_TEXT_EXACT);
        snprintf(out + strlen(out), cap - strlen(out), " %s", flag);
        shell_arg(out, cap, v);
    }
    return 1;
}

// The line under the comparisons when some condition has a single seed.
static int seeds_hint(const report_study *s, const report_cond_part *cp, char *cmd, size_t cap) {
    if (cp->cmp.n_single == 0) return 0;
    if (!seeds_command(s, cmd, cap)) cmd[0] = '\0';
    return 1;
}

static const char SEEDS_HINT_FMT[] =
    "With one seed per condition the spread between seeds is unknown, so these differences cannot be "
    "judged. Run the same study over 5 seeds to judge them:";
static const char SEEDS_HINT_YAML[] =
    "(this study's axes include values --grid cannot list: run its study file with `seeds: 5`, or "
    "`--seeds 5` after it).";

static const char RUN_FIGS_NOTE_FMT[] =
    "With %d runs, figures with one line per run would be unreadable: the figures show the %d "
    "conditions (mean over seeds and 95%% band); each run's numbers are in the Results table and "
    "its metrics.csv.";

// ---- Markdown ----

// Backslash-escapes what Markdown would read as markup (and table pipes).
static void md_text(FILE *f, const char *t) {
    for (; *t; t++) {
        if (strchr("\\`*_[]<>|#", *t)) fputc('\\', f);
        fputc(*t, f);
    }
}

// Prose whose `...` spans are code: kept as Markdown code spans, the rest escaped.
static void md_prose(FILE *f, const char *t) {
    for (int code = 0; *t;) {
        const char *tick = strchr(t, '`');
        size_t len = tick ? (size_t)(tick - t) : strlen(t);
        if (code) {
            fputc('`', f);
            fwrite(t, 1, len, f);
            fputc('`', f);
        } else {
            char buf[4096];
            for (size_t done = 0; done < len;) { // md_text wants a string
                size_t n = len - done < sizeof buf - 1 ? len - done : sizeof buf - 1;
                memcpy(buf, t + done, n);
                buf[n] = '\0';
                md_text(f, buf);
                done += n;
            }
        }
        if (!tick) break;
        t = tick + 1;
        code = !code;
    }
}

static void md_figure(FILE *f, const report_figure *fig) {
    fprintf(f, "### ");
    md_text(f, fig->title);
    fprintf(f, "\n\n![");
    md_text(f, fig->title);
    fprintf(f, "](figures/%s.png)\n\nVector version: [figures/%s.svg](figures/%s.svg)\n\n",
            fig->name, fig->name, fig->name);
}

static int is_cond_figure(const report_figure *fig) { return strncmp(fig->name, "cond_", 5) == 0; }

// A table's header and alignment rows; the first n_left columns align left.
static void md_table_head(FILE *f, const char *const *head, int n_cols, int n_left) {
    fprintf(f, "|");
    for (int c = 0; c < n_cols; c++) fprintf(f, " %s |", head[c]);
    fprintf(f, "\n|");
    for (int c = 0; c < n_cols; c++) fprintf(f, "%s", c < n_left ? "---|" : "---:|");
    fprintf(f, "\n");
}

static void md_table_row(FILE *f, cell *row, int n_cols) {
    fprintf(f, "|");
    for (int c = 0; c < n_cols; c++) { fputc(' ', f); md_text(f, row[c]); fprintf(f, " |"); }
    fprintf(f, "\n");
}

static void md_write(FILE *f, const report_study *s, const report_analysis *a, const report_cond_part *cp,
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
    if (cp->search) search_report_md(f, s, cp->search, cp->search_figs, cp->n_search_figs);
    fprintf(f, "\n## Conditions\n\n");
    md_table_head(f, COND_HEAD, COND_COLS, 1);
    for (int i = 0; i < cp->n_conds; i++) {
        cell row[COND_COLS];
        cond_row(&cp->conds[i], row);
        md_table_row(f, row, COND_COLS);
    }
    fprintf(f, "\n");
    md_text(f, COND_NOTE);
    fprintf(f, "\n\n## Comparisons\n\n");
    for (int i = 0; i < cp->n_sentences; i++) { fprintf(f, "- "); md_prose(f, cp->sentences[i]); fprintf(f, "\n"); }
    char cmd[4096];
    if (seeds_hint(s, cp, cmd, sizeof cmd)) {
        fprintf(f, "\n");
        md_text(f, SEEDS_HINT_FMT);
        if (cmd[0]) fprintf(f, "\n\n```sh\n%s\n```\n", cmd);
        else { fputc(' ', f); md_prose(f, SEEDS_HINT_YAML); fprintf(f, "\n"); }
    }
    if (cp->ens || cp->ens_note[0]) {
        fprintf(f, "\n## Ensembles\n\n");
        if (cp->ens_note[0]) { fprintf(f, "ensemble.csv could not be read: "); md_text(f, cp->ens_note); fprintf(f, "\n"); }
        if (cp->n_ens > 0) {
            md_table_head(f, ENS_HEAD, ENS_COLS, 1);
            for (int i = 0; i < cp->n_ens; i++) {
                cell row[ENS_COLS];
                ens_row(&cp->ens[i], row);
                md_table_row(f, row, ENS_COLS);
            }
            fprintf(f, "\n");
            md_text(f, ENS_NOTE);
            fprintf(f, "\n\n");
        }
        for (int i = 0; i < cp->n_ens_sentences; i++) { fprintf(f, "- "); md_prose(f, cp->ens_sentences[i]); fprintf(f, "\n"); }
    }
    fprintf(f, "\n## Results\n\n");
    md_table_head(f, RES_HEAD, RES_COLS, 3);
    for (int i = 0; i < s->n_runs; i++) {
        cell row[RES_COLS];
        results_row(&s->runs[i], &a->runs[i], row);
        md_table_row(f, row, RES_COLS);
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
    if (cp->plot_note[0]) { fprintf(f, "Note: "); md_text(f, cp->plot_note); fprintf(f, ".\n\n"); }
    if (!cp->run_figures) {
        char note[400];
        snprintf(note, sizeof note, RUN_FIGS_NOTE_FMT, s->n_runs, cp->n_conds);
        md_text(f, note);
        fprintf(f, "\n\n");
    }
    for (int i = 0; i < n_figs; i++) if (is_cond_figure(&figs[i])) md_figure(f, &figs[i]);
    for (int i = 0; i < n_figs; i++) if (!is_cond_figure(&figs[i])) md_figure(f, &figs[i]);
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

// A table's header row and body rows; the first n_left columns align left.
static void html_table_head(FILE *f, const char *const *head, int n_cols, int n_left) {
    fprintf(f, "<tr>");
    for (int c = 0; c < n_cols; c++) fprintf(f, "<th%s>%s</th>", c < n_left ? " class=\"l\"" : "", head[c]);
    fprintf(f, "</tr>\n");
}

static void html_table_row(FILE *f, cell *row, int n_cols, int n_left) {
    fprintf(f, "<tr>");
    for (int c = 0; c < n_cols; c++) {
        fprintf(f, "<td%s>", c < n_left ? " class=\"l\"" : "");
        html_text(f, row[c]);
        fprintf(f, "</td>");
    }
    fprintf(f, "</tr>\n");
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

// Prose whose `...` spans are code: <code> elements, the rest escaped.
static void html_prose(FILE *f, const char *t) {
    char buf[4096];
    for (int code = 0; *t; code = !code) {
        const char *tick = strchr(t, '`');
        size_t len = tick ? (size_t)(tick - t) : strlen(t);
        if (len >= sizeof buf) len = sizeof buf - 1; // sentences stay far shorter
        memcpy(buf, t, len);
        buf[len] = '\0';
        if (code) fputs("<code>", f);
        html_text(f, buf);
        if (code) fputs("</code>", f);
        if (!tick) break;
        t = tick + 1;
    }
}

static int html_figure(FILE *f, const report_study *s, const report_figure *fig, lr_err *e) {
    char fig_path[4400], file[96];
    snprintf(file, sizeof file, "figures/%s.png", fig->name);
    fs_join(fig_path, sizeof fig_path, s->dir, file);
    char *png = NULL;
    size_t len = 0;
    if (fs_read_all(fig_path, &png, &len, e) != 0) return -1;
    fprintf(f, "<figure id=\"fig-%s\">\n<img alt=\"", fig->name);
    html_text(f, fig->title);
    fprintf(f, "\" width=\"1000\" height=\"700\" src=\"data:image/png;base64,");
    int bad = base64_write(f, (const unsigned char *)png, len);
    free(png);
    if (bad) return lr_fail(e, "report.html: write failed while embedding %s", fig_path);
    fprintf(f, "\">\n<figcaption>");
    html_text(f, fig->title);
    fprintf(f, "</figcaption>\n</figure>\n");
    return 0;
}

static int html_write(FILE *f, const report_study *s, const report_analysis *a, const report_cond_part *cp,
                      char **sentences, int n_sent, const report_figure *figs, int n_figs, int live,
                      lr_err *e) {
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    // While the study runs the browser reloads the page; the final report has no refresh.
    if (live) fprintf(f, "<meta http-equiv=\"refresh\" content=\"%d\">\n", REPORT_LIVE_REFRESH);
    fprintf(f, "<title>");
    fprintf(f, "Study: ");
    html_text(f, s->name[0] ? s->name : study_basename(s));
    fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>Study: ", CSS);
    html_text(f, s->name[0] ? s->name : study_basename(s));
    fprintf(f, "</h1>\n<p>%d run%s planned", s->n_runs, s->n_runs == 1 ? "" : "s");
    if (s->created[0]) { fprintf(f, ", created "); html_text(f, s->created); }
    if (s->version[0]) { fprintf(f, " by lrscope "); html_text(f, s->version); }
    fprintf(f, ".</p>\n");
    if (live)
        fprintf(f, "<p class=\"live\"><strong>The study is still running:</strong> this page reloads itself every "
                   "%d seconds and shows the epochs finished so far.</p>\n", REPORT_LIVE_REFRESH);
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
    fprintf(f, "</table>\n");
    if (cp->search && search_report_html(f, s, cp->search, cp->search_figs, cp->n_search_figs, e) != 0) return -1;
    fprintf(f, "<h2 id=\"conditions\">Conditions</h2>\n<table>\n");
    html_table_head(f, COND_HEAD, COND_COLS, 1);
    for (int i = 0; i < cp->n_conds; i++) {
        cell row[COND_COLS];
        cond_row(&cp->conds[i], row);
        html_table_row(f, row, COND_COLS, 1);
    }
    fprintf(f, "</table>\n<p>");
    html_text(f, COND_NOTE);
    fprintf(f, "</p>\n<h2 id=\"comparisons\">Comparisons</h2>\n<ul>\n");
    for (int i = 0; i < cp->n_sentences; i++) {
        fprintf(f, "<li>");
        html_prose(f, cp->sentences[i]);
        fprintf(f, "</li>\n");
    }
    fprintf(f, "</ul>\n");
    char cmd[4096];
    if (seeds_hint(s, cp, cmd, sizeof cmd)) {
        fprintf(f, "<p>");
        html_text(f, SEEDS_HINT_FMT);
        if (cmd[0]) { fprintf(f, "</p>\n<p><code>"); html_text(f, cmd); fprintf(f, "</code></p>\n"); }
        else { fputc(' ', f); html_prose(f, SEEDS_HINT_YAML); fprintf(f, "</p>\n"); }
    }
    if (cp->ens || cp->ens_note[0]) {
        fprintf(f, "<h2 id=\"ensembles\">Ensembles</h2>\n");
        if (cp->ens_note[0]) { fprintf(f, "<p>ensemble.csv could not be read: "); html_text(f, cp->ens_note); fprintf(f, "</p>\n"); }
        if (cp->n_ens > 0) {
            fprintf(f, "<table>\n");
            html_table_head(f, ENS_HEAD, ENS_COLS, 1);
            for (int i = 0; i < cp->n_ens; i++) {
                cell row[ENS_COLS];
                ens_row(&cp->ens[i], row);
                html_table_row(f, row, ENS_COLS, 1);
            }
            fprintf(f, "</table>\n<p>");
            html_text(f, ENS_NOTE);
            fprintf(f, "</p>\n");
        }
        fprintf(f, "<ul>\n");
        for (int i = 0; i < cp->n_ens_sentences; i++) {
            fprintf(f, "<li>");
            html_prose(f, cp->ens_sentences[i]);
            fprintf(f, "</li>\n");
        }
        fprintf(f, "</ul>\n");
    }
    fprintf(f, "<h2 id=\"results\">Results</h2>\n<table>\n");
    html_table_head(f, RES_HEAD, RES_COLS, 3);
    for (int i = 0; i < s->n_runs; i++) {
        cell row[RES_COLS];
        results_row(&s->runs[i], &a->runs[i], row);
        html_table_row(f, row, RES_COLS, 3);
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
    if (cp->plot_note[0]) { fprintf(f, "<p>Note: "); html_text(f, cp->plot_note); fprintf(f, ".</p>\n"); }
    if (!cp->run_figures) {
        char note[400];
        snprintf(note, sizeof note, RUN_FIGS_NOTE_FMT, s->n_runs, cp->n_conds);
        fprintf(f, "<p>");
        html_text(f, note);
        fprintf(f, "</p>\n");
    }
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < n_figs; i++)
            if (is_cond_figure(&figs[i]) == (pass == 0) && html_figure(f, s, &figs[i], e) != 0) return -1;
    fprintf(f, "</body>\n</html>\n");
    return 0;
}

void report_md_text(FILE *f, const char *t) { md_text(f, t); }
void report_md_prose(FILE *f, const char *t) { md_prose(f, t); }
void report_md_figure(FILE *f, const report_figure *fig) { md_figure(f, fig); }
void report_html_text(FILE *f, const char *t) { html_text(f, t); }
void report_html_prose(FILE *f, const char *t) { html_prose(f, t); }
int report_html_figure(FILE *f, const report_study *s, const report_figure *fig, lr_err *e) {
    return html_figure(f, s, fig, e);
}

int report_write_docs(const report_study *s, const report_analysis *a, const report_cond_part *cp,
                      const report_figure *figs, int n_figs, int live, lr_err *e) {
    char **sentences = NULL;
    int n_sent = report_analysis_sentences(s, a, &sentences);
    if (cp->search) { // a search's discussion opens the analysis
        char **ss = NULL;
        int n_ss = search_report_sentences(s, cp->search, &ss);
        char **all = lr_malloc((size_t)(n_ss + n_sent + 1) * sizeof *all);
        for (int i = 0; i < n_ss; i++) all[i] = ss[i];
        for (int i = 0; i < n_sent; i++) all[n_ss + i] = sentences[i];
        free(ss);
        free(sentences);
        sentences = all;
        n_sent += n_ss;
    }
    char path[4400];
    fs_atomic_file af;
    int rc = -1;

    fs_join(path, sizeof path, s->dir, "report.md");
    if (fs_begin(&af, path, e) != 0) goto done;
    md_write(af.f, s, a, cp, sentences, n_sent, figs, n_figs);
    if (fs_commit(&af, e) != 0) goto done;

    fs_join(path, sizeof path, s->dir, "report.html");
    if (fs_begin(&af, path, e) != 0) goto done;
    if (html_write(af.f, s, a, cp, sentences, n_sent, figs, n_figs, live, e) != 0) {
        fs_abort(&af);
        goto done;
    }
    if (fs_commit(&af, e) != 0) goto done;
    rc = 0;
done:
    report_lines_free(sentences, n_sent);
    return rc;
}
