// study.h: a study is a list of runs and the folder their files go to.
// study_execute hands them out as work items (scheduler.h) to one or more
// workers, writing every file and a checkpoint after every epoch, so
// whatever finished survives a failure, Ctrl-C or kill -9, and
// `lrscope resume` (s->resume) continues the rest.
#ifndef LRSCOPE_STUDY_H
#define LRSCOPE_STUDY_H

#include <signal.h>

#include "../train/knobs.h"
#include "../train/lrfind.h"
#include "run_files.h"
#include "../search/search.h"

enum { STUDY_MAX_AXES = 8 };

typedef struct {
    char out_dir[4096];
    char name[128];     // the study's name ("" none), recorded in study.json
    const knob *axes[STUDY_MAX_AXES]; // the grid's axes, in order (study.json "axes")
    int n_axes;
    run_config *runs;   // (n_runs), owned by the caller, conditions in order, each with its seeds.
                        // study_execute sets each run's threads (and prefetch if auto)
    int n_runs;
    int quiet;
    int no_report;      // skip figures and report at the end
    int no_ensemble;    // skip the ensembles at the end (study_ensemble.h)
    int jobs;           // runs trained side by side; 0 = auto (study_plan)
    char tensorboard[4096]; // --tensorboard ROOT: event files under ROOT/<name>/... ("": in the study folder)
    int resume;         // continue the study in out_dir (lrscope resume): study.json is there and
                        // is not rewritten; runs that ended are kept, the others continue from
                        // their checkpoints (checkpoint.h) or start
    volatile sig_atomic_t *stop; // Ctrl-C
    // lr: auto: the range test that chose the lr axis, written with the
    // study (study.json "lrfind", lrfind.csv); NULL otherwise.
    const study_lrfind *lrfind;
    const lrfind_curve *lrfind_curve;
    // A search (search_run.h) instead of a grid; NULL for a grid. Then runs
    // has room for every trial's runs (n_runs = trials x seeds), each slot
    // holding search_base until its trial is suggested and written there;
    // axes are the space's knobs.
    const search_spec *search;
    const run_config *search_base;   // the runs' configuration before a point is applied
    const uint64_t *search_seeds;    // (n_search_seeds) each point's runs' seeds
    int n_search_seeds;
    run_trial *run_trials;           // (n_runs) filled as trials are suggested
    int search_recorded;             // resume: runs[0 .. search_recorded) as study.json lists them
} study;

// Holds the study's lock (study_lock) while it runs. Returns the exit status: 0 every run finished, 1 some run diverged or was
// interrupted (or the report failed), 2 bad input (message in e, nothing trained).
int study_execute(const study *s, lr_err *e);

// How a study uses the cores: `jobs` runs at a time, each on `threads`
// threads. Results never depend on it, only the time.
typedef struct {
    int jobs, threads;
} study_plan;

// With --jobs, that many runs at a time; with --threads, one run at a time;
// otherwise one run per core side by side when the runs fill the cores
// evenly, else one run at a time on all cores, so that every run is timed
// under the same conditions.
study_plan study_plan_cores(const study *s, int cores);

// Ownership of a study folder: an flock on DIR/.lock, which holds the
// owner's "pid N on HOST" for messages. A second owner is refused (-1 with e
// naming the folder and the owner); the kernel releases the lock when the
// owner dies, however it dies, so a dead owner never blocks a resume.
#define STUDY_LOCK_FILE ".lock"
int study_lock(const char *dir, int *fd, lr_err *e);
void study_unlock(int fd);

// "results/study-YYYYmmdd-HHMMSS", made unique with a suffix if it exists.
void study_default_dir(char *out, size_t cap);

#endif
