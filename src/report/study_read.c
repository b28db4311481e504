// study_read.c: parses a study folder (study.json, each run's metrics.csv and
// run.json, docs/output-format.md) into a report_study, checking every cell.
#define _POSIX_C_SOURCE 200809L
#include "report.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include "../study/run_files.h"
#include "../util/fsutil.h"

static const char METRICS_HEADER[] =
    "epoch,lr,train_loss,train_acc,train_f1,test_loss,test_acc,test_f1,seconds";
enum { METRICS_COLUMNS = 9 };
static const char *const METRICS_NAMES[METRICS_COLUMNS] = {
    "epoch", "lr", "train_loss", "train_acc", "train_f1",
    "test_loss", "test_acc", "test_f1", "seconds"};

// Copies at most 40 characters of a cell for an error message.
static void cell_excerpt(char *out, size_t cap, const char *cell) {
    size_t n = strlen(cell);
    if (n > 40) snprintf(out, cap, "%.40s...", cell);
    else snprintf(out, cap, "%s", cell);
}

// Parses a whole cell as a number; empty reads as NaN. strtod accepts the
// nan/inf spellings a diverged epoch writes.
static int cell_number(const char *cell, double *out) {
    if (cell[0] == '\0') { *out = NAN; return 0; }
    char *end = NULL;
    errno = 0;
    double v = strtod(cell, &end);
    if (end == cell || *end != '\0') return -1;
    *out = v;
    return 0;
}

static int cell_epoch(const char *cell, int *out) {
    char *end = NULL;
    errno = 0;
    long v = strtol(cell, &end, 10);
    if (end == cell || *end != '\0' || errno != 0 || v < 1 || v > 1000000000L) return -1;
    *out = (int)v;
    return 0;
}

// Splits line (modified in place) at commas; returns the cell count (which
// may exceed cap: only the first cap cells are stored).
static int split_cells(char *line, char **cells, int cap) {
    int n = 0;
    char *p = line;
    for (;;) {
        if (n < cap) cells[n] = p;
        n++;
        char *comma = strchr(p, ',');
        if (!comma) break;
        *comma = '\0';
        p = comma + 1;
    }
    return n;
}

static int metrics_parse_row(const char *path, int line_no, char *line,
                             int prev_epoch, report_epoch *row, lr_err *e) {
    char *cells[METRICS_COLUMNS];
    int n = split_cells(line, cells, METRICS_COLUMNS);
    if (n != METRICS_COLUMNS)
        return lr_fail(e, "%s: line %d: expected %d columns (%s), found %d",
                       path, line_no, METRICS_COLUMNS, METRICS_HEADER, n);
    char shown[64];
    if (cell_epoch(cells[0], &row->epoch) != 0) {
        cell_excerpt(shown, sizeof shown, cells[0]);
        return lr_fail(e, "%s: line %d: column epoch: expected a whole number >= 1, got '%s'",
                       path, line_no, shown);
    }
    if (row->epoch <= prev_epoch)
        return lr_fail(e, "%s: line %d: column epoch: expected epochs in increasing order, "
                       "got %d after %d", path, line_no, row->epoch, prev_epoch);
    double *dst[METRICS_COLUMNS] = {
        NULL, &row->lr, &row->train_loss, &row->train_acc, &row->train_f1,
        &row->test_loss, &row->test_acc, &row->test_f1, &row->seconds};
    for (int c = 1; c < METRICS_COLUMNS; c++) {
        if (cell_number(cells[c], dst[c]) != 0) {
            cell_excerpt(shown, sizeof shown, cells[c]);
            return lr_fail(e, "%s: line %d: column %s: expected a number, nan, inf or an "
                           "empty cell, got '%s'", path, line_no, METRICS_NAMES[c], shown);
        }
    }
    return 0;
}

int report_metrics_read(const char *path, report_run *r, lr_err *e) {
    char *text = NULL;
    size_t len = 0;
    if (fs_read_all(path, &text, &len, e) != 0) return -1;
    if (memchr(text, '\0', len)) {
        free(text);
        return lr_fail(e, "%s: expected a text file (CSV), found a NUL byte", path);
    }
    // Lines: strip '\r', allow blank lines only at the end.
    int cap = 64, n = 0, line_no = 0, rc = 0, seen_blank = 0;
    report_epoch *rows = lr_malloc((size_t)cap * sizeof *rows);
    char *p = text;
    while (*p) {
        char *nl = strchr(p, '\n');
        char *next = nl ? nl + 1 : p + strlen(p);
        if (nl) *nl = '\0';
        size_t l = strlen(p);
        if (l && p[l - 1] == '\r') p[l - 1] = '\0';
        line_no++;
        if (line_no == 1) {
            if (strcmp(p, METRICS_HEADER) != 0) {
                char shown[64];
                cell_excerpt(shown, sizeof shown, p);
                rc = lr_fail(e, "%s: line 1: expected the header '%s', got '%s'",
                             path, METRICS_HEADER, shown);
                break;
            }
        } else if (p[0] == '\0') {
            seen_blank = line_no;
        } else if (seen_blank) {
            rc = lr_fail(e, "%s: line %d: expected a row of %d columns, found an empty line",
                         path, seen_blank, METRICS_COLUMNS);
            break;
        } else {
            if (n == cap) {
                cap *= 2;
                report_epoch *grown = realloc(rows, (size_t)cap * sizeof *rows);
                if (!grown) { rc = lr_fail(e, "%s: out of memory", path); break; }
                rows = grown;
            }
            int prev = n ? rows[n - 1].epoch : 0;
            if (metrics_parse_row(path, line_no, p, prev, &rows[n], e) != 0) { rc = -1; break; }
            n++;
        }
        p = next;
    }
    if (rc == 0 && line_no == 0)
        rc = lr_fail(e, "%s: line 1: expected the header '%s', the file is empty",
                     path, METRICS_HEADER);
    free(text);
    if (rc != 0) { free(rows); return -1; }
    free(r->epochs);
    r->epochs = rows;
    r->n_epochs = n;
    r->has_metrics = 1;
    return 0;
}

// A run's folder lies inside the study: relative, no "." or ".." or empty parts.
static int run_folder_ok(const char *name) {
    if (!name[0] || name[0] == '/') return 0;
    for (const char *p = name;;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) return 0;
        if (!slash) return 1;
        p = slash + 1;
    }
}

// Reads a JSON file whole: a regular file of bounded size (fs_read_all
// refuses folders, FIFOs and devices by type). NULL with a message in e
// (file problems) or in je (JSON problems, *file_ok set).
static json_t *json_read(const char *path, json_error_t *je, int *file_ok, lr_err *e) {
    char *text;
    size_t len;
    *file_ok = 0;
    if (fs_read_all(path, &text, &len, e) != 0) return NULL;
    *file_ok = 1;
    json_t *root = json_loadb(text, len, 0, je);
    free(text);
    return root;
}

static int study_read_json(const char *path, report_study *s, lr_err *e) {
    json_error_t je;
    int file_ok;
    json_t *root = json_read(path, &je, &file_ok, e);
    if (!root && !file_ok) return -1;
    if (!root)
        return lr_fail(e, "%s: line %d column %d: expected JSON: %s", path, je.line, je.column, je.text);
    int rc = 0;
    if (!json_is_object(root)) {
        rc = lr_fail(e, "%s: expected a JSON object at the top", path);
        goto done;
    }
    json_t *v = json_object_get(root, "lrscope_version");
    if (json_is_string(v)) snprintf(s->version, sizeof s->version, "%s", json_string_value(v));
    v = json_object_get(root, "created");
    if (json_is_string(v)) snprintf(s->created, sizeof s->created, "%s", json_string_value(v));
    v = json_object_get(root, STUDY_KEY_NAME);
    if (json_is_string(v)) snprintf(s->name, sizeof s->name, "%s", json_string_value(v));

    json_t *axes = json_object_get(root, STUDY_KEY_AXES);
    if (!json_is_array(axes) || json_array_size(axes) > REPORT_MAX_AXES) {
        rc = lr_fail(e, "%s: expected an \"%s\" array of at most %d {\"%s\", \"%s\"} objects", path,
                     STUDY_KEY_AXES, REPORT_MAX_AXES, STUDY_KEY_AXIS_KEY, STUDY_KEY_AXIS_VALUES);
        goto done;
    }
    for (size_t i = 0; i < json_array_size(axes); i++) {
        json_t *key = json_object_get(json_array_get(axes, i), STUDY_KEY_AXIS_KEY);
        if (!json_is_string(key) || !knob_find(json_string_value(key))) {
            rc = lr_fail(e, "%s: %s[%zu].%s: expected the name of a knob", path, STUDY_KEY_AXES, i,
                         STUDY_KEY_AXIS_KEY);
            goto done;
        }
        s->axes[s->n_axes++] = knob_find(json_string_value(key));
    }

    json_t *finder = json_object_get(root, STUDY_KEY_LRFIND), *flrs = json_object_get(finder, "lrs");
    if (json_is_object(finder) && json_is_array(flrs) && json_array_size(flrs) == 4) {
        double fv[4];
        for (int i = 0; i < 4; i++) fv[i] = json_number_value(json_array_get(flrs, i));
        snprintf(s->lrfind_note, sizeof s->lrfind_note,
                 "The learning rates were chosen by a range test (lr auto: seed %lld, %lld steps, lr %g to %g; "
                 "curve in lrfind.csv): valley %.3g (steepest %.3g, minimum/10 %.3g); the lr axis is the valley "
                 "x 1/10, 1/3, 1, 3: %g, %g, %g, %g.",
                 (long long)json_integer_value(json_object_get(finder, "seed")),
                 (long long)json_integer_value(json_object_get(finder, "points")),
                 json_number_value(json_object_get(finder, "start_lr")),
                 json_number_value(json_object_get(finder, "end_lr")),
                 json_number_value(json_object_get(finder, "valley")),
                 json_number_value(json_object_get(finder, "steepest")),
                 json_number_value(json_object_get(finder, "minimum")), fv[0], fv[1], fv[2], fv[3]);
    }

    json_t *runs = json_object_get(root, STUDY_KEY_RUNS);
    if (!json_is_array(runs)) {
        rc = lr_fail(e, "%s: expected a \"%s\" array of {\"%s\", \"%s\", \"%s\", \"%s\"} objects", path,
                     STUDY_KEY_RUNS, RUN_KEY_FOLDER, RUN_KEY_CONDITION, RUN_KEY_SEED, RUN_KEY_CONFIG);
        goto done;
    }
    s->runs = lr_calloc(json_array_size(runs), sizeof *s->runs);
    for (size_t i = 0; i < json_array_size(runs); i++) {
        json_t *run = json_array_get(runs, i);
        json_t *folder = json_object_get(run, RUN_KEY_FOLDER), *cond = json_object_get(run, RUN_KEY_CONDITION);
        json_t *seed = json_object_get(run, RUN_KEY_SEED), *config = json_object_get(run, RUN_KEY_CONFIG);
        if (!json_is_object(run) || !json_is_string(folder) || !json_is_string(cond) || !json_is_integer(seed) ||
            !json_is_object(config)) {
            rc = lr_fail(e, "%s: %s[%zu]: expected an object with a string \"%s\", a string \"%s\", a whole "
                         "number \"%s\" and an object \"%s\"", path, STUDY_KEY_RUNS, i, RUN_KEY_FOLDER,
                         RUN_KEY_CONDITION, RUN_KEY_SEED, RUN_KEY_CONFIG);
            goto done;
        }
        const char *nm = json_string_value(folder);
        if (!run_folder_ok(nm) || strlen(nm) >= sizeof s->runs[0].name ||
            strlen(json_string_value(cond)) >= sizeof s->runs[0].condition) {
            rc = lr_fail(e, "%s: %s[%zu].%s: expected a folder inside the study (no '..', under %zu "
                         "characters), got '%.60s'", path, STUDY_KEY_RUNS, i, RUN_KEY_FOLDER,
                         sizeof s->runs[0].name, nm);
            goto done;
        }
        for (int j = 0; j < s->n_runs; j++) {
            if (strcmp(s->runs[j].name, nm) == 0) {
                rc = lr_fail(e, "%s: %s[%zu].%s: '%s' is listed twice", path, STUDY_KEY_RUNS, i, RUN_KEY_FOLDER, nm);
                goto done;
            }
        }
        report_run *r = &s->runs[s->n_runs];
        config_defaults(&r->config);
        char where[4600];
        snprintf(where, sizeof where, "%s: %s[%zu].%s", path, STUDY_KEY_RUNS, i, RUN_KEY_CONFIG);
        if (knobs_from_json(config, &r->config, where, e) != 0) {
            rc = -1;
            goto done;
        }
        s->n_runs++;
        snprintf(r->name, sizeof r->name, "%s", nm);
        snprintf(r->condition, sizeof r->condition, "%s", json_string_value(cond));
        r->seed = (uint64_t)json_integer_value(seed);
        r->lr = r->config.lr;
        r->planned_epochs = 0;
        r->seconds = NAN;
    }
    // Labels: the condition, and the seed when the study has several.
    int several = 0;
    for (int i = 1; i < s->n_runs; i++) several |= s->runs[i].seed != s->runs[0].seed;
    for (int i = 0; i < s->n_runs; i++) {
        report_run *r = &s->runs[i];
        if (several) snprintf(r->label, sizeof r->label, "%s seed %llu", r->condition, (unsigned long long)r->seed);
        else snprintf(r->label, sizeof r->label, "%s", r->condition);
    }
done:
    json_decref(root);
    return rc;
}

// Reads classes + confusion_matrix when both are consistent; else leaves none.
static void run_read_confusion(report_run *r, json_t *root) {
    json_t *m = json_object_get(root, "confusion_matrix");
    if (!json_is_array(m) || json_array_size(m) == 0) return;
    size_t n = json_array_size(m);
    if (n > 1000) return;
    json_t *classes = json_object_get(root, "classes");
    int named = json_is_array(classes) && json_array_size(classes) == n;
    long *cm = lr_calloc(n * n, sizeof *cm);
    for (size_t i = 0; i < n; i++) {
        json_t *row = json_array_get(m, i);
        if (!json_is_array(row) || json_array_size(row) != n) goto bad;
        for (size_t j = 0; j < n; j++) {
            json_t *c = json_array_get(row, j);
            double v = json_is_number(c) ? json_number_value(c) : -1;
            if (!(v >= 0) || v != floor(v) || v > 1e15) goto bad;
            cm[i * n + j] = (long)v;
        }
    }
    r->classes = lr_calloc(n, sizeof *r->classes);
    for (size_t i = 0; i < n; i++) {
        json_t *c = named ? json_array_get(classes, i) : NULL;
        if (json_is_string(c)) snprintf(r->classes[i], sizeof r->classes[i], "%s", json_string_value(c));
        else snprintf(r->classes[i], sizeof r->classes[i], "%zu", i);
    }
    r->confusion = cm;
    r->n_classes = (int)n;
    return;
bad:
    free(cm);
    snprintf(r->note, sizeof r->note, "%s/run.json: \"confusion_matrix\" is not a %zux%zu "
             "matrix of counts; no confusion matrix drawn", r->name, n, n);
}

// run.json is optional and may be partial: take what is there, note the
// rest. Only a run.json that is not a regular file (a folder, a FIFO, a
// device) or too large to be one fails, naming what it is.
static int run_read_json(report_run *r, const char *path, lr_err *e) {
    if (!fs_exists(path)) return 0;
    json_error_t je;
    int file_ok;
    json_t *root = json_read(path, &je, &file_ok, e);
    if (!root && !file_ok) return -1;
    if (!root || !json_is_object(root)) {
        snprintf(r->note, sizeof r->note, "%s/run.json: unreadable (line %d: %.120s); status "
                 "and time taken from metrics.csv", r->name, root ? 1 : je.line,
                 root ? "not an object" : je.text);
        json_decref(root);
        return 0;
    }
    r->has_run_json = 1;
    json_t *v = json_object_get(root, "status");
    if (json_is_string(v)) snprintf(r->status, sizeof r->status, "%s", json_string_value(v));
    v = json_object_get(root, "diverged_epoch");
    if (json_is_integer(v) && json_integer_value(v) > 0 && json_integer_value(v) < 1000000000)
        r->diverged_epoch = (int)json_integer_value(v);
    v = json_object_get(root, "seconds");
    if (json_is_number(v) && json_number_value(v) >= 0) r->seconds = json_number_value(v);
    v = json_object_get(json_object_get(root, "config"), "epochs");
    if (json_is_integer(v) && json_integer_value(v) > 0 && json_integer_value(v) < 1000000000)
        r->planned_epochs = (int)json_integer_value(v);
    v = json_object_get(root, RUN_KEY_STEPS_PER_EPOCH);
    if (json_is_integer(v) && json_integer_value(v) > 0 && json_integer_value(v) < 1000000000)
        r->steps_per_epoch = (int)json_integer_value(v);
    run_read_confusion(r, root);
    json_decref(root);
    return 0;
}

// Fills what run.json did not give from the metrics themselves.
static void run_infer(report_run *r, int study_epochs) {
    if (!r->planned_epochs) r->planned_epochs = study_epochs;
    if (!r->diverged_epoch) {
        for (int i = 0; i < r->n_epochs; i++) {
            const report_epoch *ep = &r->epochs[i];
            // An empty test cell is NaN too, so only a written non-finite loss counts.
            int bad_train = !isfinite(ep->train_loss);
            int bad_test = isinf(ep->test_loss) || (isnan(ep->test_loss) && isfinite(ep->test_acc));
            if (bad_train || bad_test) { r->diverged_epoch = ep->epoch; break; }
        }
    }
    if (isnan(r->seconds) && r->n_epochs > 0) {
        double sum = 0;
        for (int i = 0; i < r->n_epochs; i++)
            if (isfinite(r->epochs[i].seconds)) sum += r->epochs[i].seconds;
        r->seconds = sum;
    }
    if (r->status[0]) return;
    r->status_inferred = 1;
    const char *st = "finished";
    if (r->n_epochs == 0) st = "not started";
    else if (r->diverged_epoch) st = "diverged";
    else if (r->planned_epochs && r->n_epochs < r->planned_epochs) st = "incomplete";
    snprintf(r->status, sizeof r->status, "%s", st);
}

int report_study_read(const char *study_dir, report_study *s, lr_err *e) {
    memset(s, 0, sizeof *s);
    if (!study_dir[0])
        return lr_fail(e, "the study folder path is empty; expected a folder holding study.json");
    if (fs_check_room(study_dir, FS_STUDY_NAME_MAX, "study folder", e) != 0) return -1;
    if (snprintf(s->dir, sizeof s->dir, "%s", study_dir) >= (int)sizeof s->dir)
        return lr_fail(e, "%s: path too long", study_dir);
    struct stat st;
    if (stat(study_dir, &st) != 0)
        return lr_fail(e, "%s: not a folder: %s (expected a study folder holding study.json)",
                       study_dir, lr_strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return lr_fail(e, "%s: is a %s, expected a study folder holding study.json", study_dir,
                       fs_kind(st.st_mode));
    char path[4400];
    fs_join(path, sizeof path, study_dir, "study.json");
    if (!fs_exists(path))
        return lr_fail(e, "%s: not found: %s is not a study folder (expected study.json "
                       "written by `lrscope run`)", path, study_dir);
    if (study_read_json(path, s, e) != 0) {
        report_study_free(s);
        return -1;
    }
    for (int i = 0; i < s->n_runs; i++) {
        report_run *r = &s->runs[i];
        int study_epochs = r->config.epochs;
        char run_dir[4400];
        fs_join(run_dir, sizeof run_dir, study_dir, r->name);
        fs_join(path, sizeof path, run_dir, "metrics.csv");
        if (fs_exists(path) && report_metrics_read(path, r, e) != 0) {
            report_study_free(s);
            return -1;
        }
        fs_join(path, sizeof path, run_dir, "run.json");
        if (run_read_json(r, path, e) != 0) {
            report_study_free(s);
            return -1;
        }
        run_infer(r, study_epochs);
    }
    return 0;
}

void report_study_free(report_study *s) {
    for (int i = 0; i < s->n_runs; i++) {
        free(s->runs[i].epochs);
        free(s->runs[i].classes);
        free(s->runs[i].confusion);
    }
    free(s->runs);
    s->runs = NULL;
    s->n_runs = 0;
}
