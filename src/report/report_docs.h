// report_docs.h: what report_build.c hands report_write.c: the study's
// conditions, their comparisons and sentences, and which figures were drawn.
// (Apart from report_parts.h because conditions.h itself includes that.)
#ifndef LRSCOPE_REPORT_DOCS_H
#define LRSCOPE_REPORT_DOCS_H

#include "conditions.h"
#include "ensemble.h"
#include "report_parts.h"
#include "search_report.h"

// Studies of more runs than this get no per-run figures (one line per run):
// only the condition figures, and the report says so.
enum { REPORT_RUN_FIGURES_MAX = 10 };

// The study's conditions and what the report says and draws about them.
typedef struct {
    report_condition *conds;   // (n_conds,) report_conditions_from_study
    int n_conds;
    conditions_cmp cmp;        // the best condition against each other one
    char **sentences;          // (n_sentences,) conditions_sentences
    int n_sentences;
    int run_figures;           // 1: the per-run figures were drawn
    char plot_note[160];       // conditions_plot's note ("" when every condition is drawn)
    ensemble_group *ens;       // (n_ens,) STUDY/ensemble.csv; NULL when absent
    int n_ens;
    char **ens_sentences;      // (n_ens_sentences,) ensemble_sentences
    int n_ens_sentences;
    char ens_note[1200];       // why ensemble.csv could not be read ("" when it was, or is absent)
    const search_report *search;      // study.json "search" read back; NULL for a grid study
    const report_figure *search_figs; // (n_search_figs,) plot_search's figures, drawn in the Search section
    int n_search_figs;
} report_cond_part;

// Writes STUDY/report.md and STUDY/report.html (PNGs embedded as data: URIs).
// live: the study is still running; report.html reloads itself every
// REPORT_LIVE_REFRESH seconds and says so.
int report_write_docs(const report_study *s, const report_analysis *a, const report_cond_part *cp,
                      const report_figure *figs, int n_figs, int live, lr_err *e);

// report_write.c's escaping and figure blocks, for sections written elsewhere
// (search_report.c): Markdown/HTML text, prose whose `...` spans are code,
// a figure with its caption (HTML: the PNG embedded).
void report_md_text(FILE *f, const char *t);
void report_md_prose(FILE *f, const char *t);
void report_md_figure(FILE *f, const report_figure *fig);
void report_html_text(FILE *f, const char *t);
void report_html_prose(FILE *f, const char *t);
int report_html_figure(FILE *f, const report_study *s, const report_figure *fig, lr_err *e);

#endif
