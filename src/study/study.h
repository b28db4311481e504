// study.h: a study is a list of runs and the folder their files go to.
// study_execute trains them one after another, writing every file as it
// goes, so whatever finished survives a failure or Ctrl-C.
#ifndef LRSCOPE_STUDY_H
#define LRSCOPE_STUDY_H

#include <signal.h>

#include "../train/config.h"

typedef struct {
    char out_dir[4096];
    run_config *runs;   // (n_runs), owned by the caller; all on the same data set.
                        // study_execute sets each run's threads (and prefetch if auto)
    int n_runs;
    int quiet;
    int no_report;      // skip figures and report at the end
    int jobs;           // runs trained side by side; 0 = auto (study_plan)
    volatile sig_atomic_t *stop; // Ctrl-C
} study;

// Returns the exit status: 0 every run finished, 1 some run diverged or was
// interrupted (or the report failed), 2 bad input (message in e, nothing trained).
int study_execute(const study *s, lr_err *e);

// A stretch of the study: runs [first, end), `jobs` of them at a time,
// each on `threads` threads. Results never depend on it, only the time.
typedef struct {
    int first, end, jobs, threads;
} study_phase;

// How to use the cores (at most 2 phases). With --jobs, that many runs at a
// time; with --threads, one run at a time; otherwise whole rounds of one run
// per core side by side, then the runs left over sharing the cores (3 runs
// on 2 cores: two side by side, then the third on both).
int study_plan(const study *s, int cores, study_phase *phases);

// "results/study-YYYYmmdd-HHMMSS", made unique with a suffix if it exists.
void study_default_dir(char *out, size_t cap);

#endif
