// report_build.c: the report pipeline: read the study folder, analyse it,
// draw the figures, write report.md and report.html.
#define _POSIX_C_SOURCE 200809L
#include "report_parts.h"

#include "../util/fsutil.h"

int report_build(const char *study_dir, lr_err *e) {
    report_study s;
    if (report_study_read(study_dir, &s, e) != 0) {
        report_study_free(&s);
        return -1;
    }
    report_analysis a;
    report_analyze(&s, &a);

    int rc = -1;
    report_figure figs[REPORT_MAX_FIGURES];
    char fig_dir[4400];
    fs_join(fig_dir, sizeof fig_dir, s.dir, "figures");
    if (fs_mkdirs(fig_dir, e) != 0) goto done;
    int n_figs = plot_figures(&s, &a, fig_dir, figs, REPORT_MAX_FIGURES, e);
    if (n_figs < 0) goto done;
    rc = report_write_docs(&s, &a, figs, n_figs, e);
done:
    report_analysis_free(&a);
    report_study_free(&s);
    return rc;
}
