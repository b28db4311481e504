// study_conditions.h: groups a study read back (report_study) by condition
// for the statistics (conditions.h), in the order conditions first appear.
//
//     report_condition *conds; int n;
//     report_conditions_from_study(&study, &conds, &n);
//     ... conds[c].final_test_acc[0 .. conds[c].n_runs) ...
//     report_conditions_free(conds, n);
#ifndef LRSCOPE_STUDY_CONDITIONS_H
#define LRSCOPE_STUDY_CONDITIONS_H

#include "conditions.h"
#include "report.h"

// Fills *out with one entry per condition (n_runs = its seeds, in study
// order). A diverged run's final and best values are NAN; so is anything a
// run has not recorded. The axes are those whose value differs between
// conditions (all of the study's axes when none does).
void report_conditions_from_study(const report_study *s, report_condition **out, int *n);
void report_conditions_free(report_condition *conds, int n);

#endif
