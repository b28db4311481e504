// report_build.c: the report pipeline: read the study folder, analyse it,
// group its runs by condition (conditions.csv, curves.csv, the comparisons),
// draw the figures, write report.md and report.html.
#define _POSIX_C_SOURCE 200809L
#include "report_docs.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../util/fsutil.h"
#include "study_conditions.h"

static int conditions_files_write(const char *dir, const report_condition *c, int n, lr_err *e) {
    char path[4400];
    fs_join(path, sizeof path, dir, "conditions.csv");
    if (conditions_write_csv(path, c, n, e) != 0) return -1;
    fs_join(path, sizeof path, dir, "curves.csv");
    return conditions_write_curves_csv(path, c, n, e);
}

int report_conditions_write(const char *study_dir, lr_err *e) {
    report_study s;
    if (report_study_read(study_dir, &s, e) != 0) {
        report_study_free(&s);
        return -1;
    }
    report_condition *c;
    int n;
    report_conditions_from_study(&s, &c, &n);
    int rc = conditions_files_write(s.dir, c, n, e);
    report_conditions_free(c, n);
    report_study_free(&s);
    return rc;
}

static int is_cond_curve(const char *name) {
    static const char *const names[REPORT_N_CURVES] = {"cond_train_loss", "cond_test_loss", "cond_train_acc",
                                                       "cond_test_acc", "cond_train_f1", "cond_test_f1"};
    for (int i = 0; i < REPORT_N_CURVES; i++)
        if (!strcmp(name, names[i])) return 1;
    return 0;
}

// Removes figures/NAME.png and NAME.svg for every NAME this report did not
// draw (left by an earlier report, or per-run figures of a study now too
// large for them), so nothing stale lies beside the report as if current.
static int stale_figures_remove(const char *fig_dir, const report_figure *figs, int n_figs, lr_err *e) {
    DIR *d = opendir(fig_dir);
    if (!d) return lr_fail(e, "%s: cannot list the folder: %s", fig_dir, strerror(errno));
    int rc = 0;
    for (struct dirent *de; rc == 0 && (de = readdir(d)) != NULL;) {
        size_t len = strlen(de->d_name);
        if (len < 5 || (strcmp(de->d_name + len - 4, ".png") != 0 && strcmp(de->d_name + len - 4, ".svg") != 0))
            continue;
        int drawn = 0;
        for (int i = 0; i < n_figs && !drawn; i++)
            drawn = strlen(figs[i].name) == len - 4 && strncmp(figs[i].name, de->d_name, len - 4) == 0;
        if (drawn) continue;
        char path[4400];
        fs_join(path, sizeof path, fig_dir, de->d_name);
        if (remove(path) != 0 && errno != ENOENT)
            rc = lr_fail(e, "%s: cannot remove the stale figure: %s", path, strerror(errno));
    }
    closedir(d);
    return rc;
}

static int build(const char *study_dir, int live, lr_err *e) {
    report_study s;
    if (report_study_read(study_dir, &s, e) != 0) {
        report_study_free(&s);
        return -1;
    }
    // A search study (study.json "search"): its section, figures and discussion.
    search_report sr;
    int has_search = 0;
    if (search_report_read(&s, &sr, &has_search, e) != 0) {
        report_study_free(&s);
        return -1;
    }
    report_analysis a;
    report_analyze(&s, &a);
    report_cond_part cp;
    memset(&cp, 0, sizeof cp);
    report_conditions_from_study(&s, &cp.conds, &cp.n_conds);
    conditions_compare(cp.conds, cp.n_conds, &cp.cmp);
    cp.n_sentences = conditions_sentences(cp.conds, cp.n_conds, &cp.cmp, &cp.sentences);
    // The study's ensembles (study_ensemble.h), when it made them.
    char ens_path[4400];
    fs_join(ens_path, sizeof ens_path, s.dir, "ensemble.csv");
    if (fs_exists(ens_path)) {
        lr_err ee;
        if (ensemble_csv_read(ens_path, &cp.ens, &cp.n_ens, &ee) == 0)
            cp.n_ens_sentences = ensemble_sentences(cp.ens, cp.n_ens, &cp.ens_sentences);
        else
            snprintf(cp.ens_note, sizeof cp.ens_note, "%s", ee.msg);
    }

    int rc = -1;
    report_figure figs[REPORT_MAX_FIGURES];
    char fig_dir[4400];
    fs_join(fig_dir, sizeof fig_dir, s.dir, "figures");
    if (fs_mkdirs(fig_dir, e) != 0) goto done;
    int n_figs = conditions_plot(cp.conds, cp.n_conds, fig_dir, figs, REPORT_MAX_FIGURES, cp.plot_note,
                                 sizeof cp.plot_note, e);
    if (n_figs < 0) goto done;
    cp.run_figures = s.n_runs <= REPORT_RUN_FIGURES_MAX;
    int several = 0;
    for (int c = 0; c < cp.n_conds; c++) several |= cp.conds[c].n_runs >= 2;
    if (cp.run_figures && !several) {
        // One seed per condition: the mean curves are the runs' own curves,
        // which the per-run figures draw (with divergence marks); keep one set.
        int k = 0;
        for (int i = 0; i < n_figs; i++)
            if (!is_cond_curve(figs[i].name)) figs[k++] = figs[i];
        n_figs = k;
    }
    if (cp.run_figures) {
        int n_run = plot_figures(&s, &a, fig_dir, figs + n_figs, REPORT_MAX_FIGURES - n_figs, e);
        if (n_run < 0) goto done;
        n_figs += n_run;
    }
    report_figure all_figs[2 * REPORT_MAX_FIGURES];
    memcpy(all_figs, figs, (size_t)n_figs * sizeof *figs);
    int n_all = n_figs;
    if (has_search) {
        int n_s = plot_search(&s, &sr, fig_dir, all_figs + n_figs, REPORT_MAX_FIGURES, e);
        if (n_s < 0) goto done;
        cp.search = &sr;
        cp.search_figs = all_figs + n_figs;
        cp.n_search_figs = n_s;
        n_all += n_s;
    }
    if (stale_figures_remove(fig_dir, all_figs, n_all, e) != 0) goto done;
    if (conditions_files_write(s.dir, cp.conds, cp.n_conds, e) != 0) goto done;
    rc = report_write_docs(&s, &a, &cp, figs, n_figs, live, e);
done:
    ensemble_lines_free(cp.ens_sentences, cp.n_ens_sentences);
    ensemble_groups_free(cp.ens, cp.n_ens);
    conditions_lines_free(cp.sentences, cp.n_sentences);
    conditions_cmp_free(&cp.cmp);
    report_conditions_free(cp.conds, cp.n_conds);
    report_analysis_free(&a);
    search_report_free(&sr);
    report_study_free(&s);
    return rc;
}

int report_build(const char *study_dir, lr_err *e) { return build(study_dir, 0, e); }
int report_build_live(const char *study_dir, lr_err *e) { return build(study_dir, 1, e); }

// ------------------------------------------------------------------ while the study runs

void report_live_init(report_live *l, const char *study_dir, double start) {
    memset(l, 0, sizeof *l);
    pthread_mutex_init(&l->mu, NULL);
    snprintf(l->dir, sizeof l->dir, "%s", study_dir);
    l->start = start;
    l->last_cost = REPORT_LIVE_FIRST_COST;
}

int report_live_due(const report_live *l, double now) {
    if (l->failed || (l->builds > 0 && now - l->last_end < REPORT_LIVE_MIN_GAP)) return 0;
    return l->spent + l->last_cost <= REPORT_LIVE_SHARE * (now - l->start);
}

int report_live_epoch(report_live *l, lr_err *e) {
    if (pthread_mutex_trylock(&l->mu) != 0) return 0; // another run's thread is rebuilding
    int rc = 0;
    double t0 = lr_now();
    if (report_live_due(l, t0)) {
        if (report_build_live(l->dir, e) != 0) {
            l->failed = 1;
            rc = -1;
        } else {
            l->last_end = lr_now();
            l->last_cost = l->last_end - t0;
            l->spent += l->last_cost;
            l->builds++;
            rc = 1;
        }
    }
    pthread_mutex_unlock(&l->mu);
    return rc;
}

void report_live_free(report_live *l) { pthread_mutex_destroy(&l->mu); }
