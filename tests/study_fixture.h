// study_fixture.h: a valid study folder for the tests that read one back
// (the report, special files, full disks). study.json is made the way
// `lrscope run` makes it: the grid expanded by spec_expand and written by
// run_files_write_study, so the format keeps one owner and these tests follow
// it. The runs' own files (metrics.csv, run.json) are the test's to write,
// at the folders the fixture names.
//
//     study_fixture f;
//     study_fixture_write(&f, dir, "0.1,0.01", 6, 0);  // runs/lr=0.1/seed-1, runs/lr=0.01/seed-1
//     study_fixture_put(dir, f.folder[0], "metrics.csv", csv);
#ifndef LRSCOPE_STUDY_FIXTURE_H
#define LRSCOPE_STUDY_FIXTURE_H

#include "test_util.h"

#include <errno.h>
#include <sys/stat.h>

#include "../src/study/grid.h"
#include "../src/study/run_files.h"

enum { STUDY_FIXTURE_MAX = 16 };

typedef struct {
    int n;                                   // runs, one per lr value (one seed, 1)
    char condition[STUDY_FIXTURE_MAX][256];  // run i's condition, "lr=0.1"
    char folder[STUDY_FIXTURE_MAX][320];     // run i's folder, "runs/lr=0.1/seed-1"
} study_fixture;

// mkdir -p of dir/rel's parent folders, then writes text to dir/rel.
static inline void study_fixture_put_path(const char *dir, const char *rel, const char *text) {
    char path[4400];
    if (snprintf(path, sizeof path, "%s/%s", dir, rel) >= (int)sizeof path) fail_msg("path too long: %s", rel);
    for (char *p = path + strlen(dir) + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST) fail_msg("mkdir %s: %s", path, strerror(errno));
        *p = '/';
    }
    test_write_file(path, text, strlen(text));
}

// Writes text to dir/folder/file (a run's metrics.csv or run.json).
static inline void study_fixture_put(const char *dir, const char *folder, const char *file, const char *text) {
    char rel[700];
    snprintf(rel, sizeof rel, "%s/%s", folder, file);
    study_fixture_put_path(dir, rel, text);
}

// Creates dir if needed and writes dir/study.json for a study with one
// axis, lr, taking the values in `lrs` (as --grid takes them: "0.1,0.01"),
// and one seed, 1; every run has `epochs` epochs and, when eval_interval > 0,
// that evaluation interval. lrs NULL: a study that lists no runs (no axes).
// Fills f with each run's condition and folder; creates no run folder.
static inline void study_fixture_write(study_fixture *f, const char *dir, const char *lrs, int epochs,
                                       int eval_interval) {
    memset(f, 0, sizeof *f);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) fail_msg("mkdir %s: %s", dir, strerror(errno));
    lr_err e = {{0}};
    study_header h = {.name = "", .axes = NULL, .n_axes = 0};
    if (!lrs) {
        if (run_files_write_study(dir, &h, NULL, 0, &e) != 0) fail_msg("run_files_write_study: %s", e.msg);
        return;
    }
    study_spec sp;
    spec_init(&sp);
    char text[32];
    snprintf(text, sizeof text, "%d", epochs);
    if (knob_parse(knob_find("epochs"), text, &sp.base, "fixture", &e) != 0) fail_msg("%s", e.msg);
    if (eval_interval > 0) {
        snprintf(text, sizeof text, "%d", eval_interval);
        if (knob_parse(knob_find("eval_interval"), text, &sp.base, "fixture", &e) != 0) fail_msg("%s", e.msg);
    }
    char grid[512];
    snprintf(grid, sizeof grid, "lr=%s", lrs);
    if (spec_parse_grid_flag(&sp, grid, &e) != 0) fail_msg("fixture grid %s: %s", grid, e.msg);
    if (spec_set_seeds(&sp, "1", "fixture", &e) != 0) fail_msg("%s", e.msg);
    run_config *runs = NULL;
    int n = 0;
    if (spec_expand(&sp, &runs, &n, &e) != 0) fail_msg("spec_expand: %s", e.msg);
    if (n > STUDY_FIXTURE_MAX) fail_msg("fixture: %d runs, at most %d", n, STUDY_FIXTURE_MAX);
    const knob *axis = knob_find("lr");
    h.axes = &axis;
    h.n_axes = 1;
    if (run_files_write_study(dir, &h, runs, n, &e) != 0) fail_msg("run_files_write_study: %s", e.msg);
    f->n = n;
    for (int i = 0; i < n; i++) {
        snprintf(f->condition[i], sizeof f->condition[i], "%s", runs[i].condition);
        snprintf(f->folder[i], sizeof f->folder[i], "%s", runs[i].name);
    }
    free(runs);
    spec_free(&sp);
}

#endif
