// test_search_report.c: the report of a search study (search_report.h,
// plot_search.c): hand-made study folders whose trials, pruning and values
// are known, read back into trials, the top-trials order, best-so-far, the
// budget, the figures (whole PNG and SVG), the Search section of report.md
// and report.html and the discussion sentence (one seed: cannot separate;
// seeds: supported or not by a paired t-test); a grid study gets no Search
// section; malformed search keys make `lrscope report` exit 2 naming the
// file and key.
#include "test_util.h"
#include "study_fixture.h"

#include <jansson.h>
#include <sys/wait.h>

#include "../src/report/report.h"
#include "../src/report/search_report.h"
#include "../src/stats/stats.h"
#include "../src/util/fsutil.h"

static const char HEADER[] = "epoch,lr,train_loss,train_acc,train_f1,test_loss,test_acc,test_f1,seconds\n";

enum { MAX_SEEDS = 3 };

// One trial of a fixture: its point, its runs' status and length, and each
// seed's test accuracy at its last epoch.
typedef struct {
    double lr;
    const char *opt;
    const char *status;      // run.json status of every seed: "finished" or "pruned"
    int epochs;              // rows in each seed's metrics.csv
    double value[MAX_SEEDS]; // final test accuracy per seed
} trial_fix;

static const char SEARCH_ASHA[] =
    "{\"method\": \"tpe\", \"trials\": 8, \"metric\": \"test_acc\", \"direction\": \"maximize\", \"seed\": 1, "
    "\"seeds\": 1, \"lag\": 3, \"pruner\": {\"type\": \"asha\", \"grace\": 1, \"eta\": 3, \"max_epochs\": 9}, "
    "\"space\": {\"lr\": \"loguniform:0.0001:1\", \"optimizer\": \"categorical:sgd,adam\"}}";

// Eight trials, one seed, ASHA with rungs at epochs 1 and 3 of 9: three
// pruned (1 and 5 at epoch 1, 3 at epoch 3), five complete.
static const trial_fix EIGHT[8] = {
    {0.01, "sgd", "finished", 9, {0.60}},   {0.1, "adam", "pruned", 1, {0.20}},
    {0.003, "sgd", "finished", 9, {0.64}},  {0.5, "sgd", "pruned", 3, {0.30}},
    {0.02, "adam", "finished", 9, {0.66}},  {0.0002, "adam", "pruned", 1, {0.15}},
    {0.05, "sgd", "finished", 9, {0.655}},  {0.001, "adam", "finished", 9, {0.50}},
};

static void put(const char *dir, const char *rel, const char *text) { study_fixture_put_path(dir, rel, text); }

// run.json of a trial's seed; point_json NULL: the usual {"lr", "optimizer"}.
static void run_json_write(const char *dir, const char *folder, int trial, const trial_fix *t, const char *point_json,
                           const char *trial_json, int planned) {
    char buf[2048], point[512], tr[64];
    if (point_json) snprintf(point, sizeof point, "%s", point_json);
    else snprintf(point, sizeof point, "{\"lr\": %.17g, \"optimizer\": \"%s\"}", t->lr, t->opt);
    if (trial_json) snprintf(tr, sizeof tr, "%s", trial_json);
    else snprintf(tr, sizeof tr, "%d", trial);
    snprintf(buf, sizeof buf,
             "{\"folder\": \"%s\", \"status\": \"%s\", \"diverged_epoch\": null, \"epochs_done\": %d, "
             "\"seconds\": %d.0, \"config\": {\"epochs\": %d}, \"trial\": %s, \"point\": %s}",
             folder, t->status, t->epochs, t->epochs, planned, tr, point);
    study_fixture_put(dir, folder, "run.json", buf);
}

// The study folder: study.json (the runs' configs through the knob table,
// plus `search` as given) and each run's metrics.csv and run.json. The test
// accuracy climbs to the trial's value at its last epoch: v (0.5 + 0.5 e / n).
static void search_study_write(const char *dir, const trial_fix *t, int n, int seeds, const char *search) {
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) fail_msg("mkdir %s: %s", dir, strerror(errno));
    json_t *root = json_object(), *runs = json_array(), *seed_list = json_array();
    char max_ep[16];
    int most = 1;
    for (int i = 0; i < n; i++) most = t[i].epochs > most ? t[i].epochs : most;
    snprintf(max_ep, sizeof max_ep, "%d", most);
    json_object_set_new(root, "lrscope_version", json_string("0.1.0"));
    json_object_set_new(root, "created", json_string("2026-11-28T11:00:00Z"));
    json_object_set_new(root, "name", json_string("search fixture"));
    json_object_set_new(root, "axes", json_array());
    for (int k = 1; k <= seeds; k++) json_array_append_new(seed_list, json_integer(k));
    json_object_set_new(root, "seeds", seed_list);
    for (int i = 0; i < n; i++)
        for (int k = 1; k <= seeds; k++) {
            run_config c;
            config_defaults(&c);
            lr_err e = {{0}};
            char text[64];
            snprintf(text, sizeof text, "%.17g", t[i].lr);
            if (knob_parse(knob_find("lr"), text, &c, "fixture", &e) != 0 ||
                knob_parse(knob_find("optimizer"), t[i].opt, &c, "fixture", &e) != 0 ||
                knob_parse(knob_find("epochs"), max_ep, &c, "fixture", &e) != 0 ||
                knob_parse(knob_find("data"), "data/cifar-10-batches-bin", &c, "fixture", &e) != 0)
                fail_msg("fixture: %s", e.msg);
            c.seed = (uint64_t)k;
            char folder[64], cond[32];
            snprintf(folder, sizeof folder, "runs/trial-%03d/seed-%d", i, k);
            snprintf(cond, sizeof cond, "trial-%03d", i);
            json_array_append_new(runs, json_pack("{s:s, s:s, s:i, s:o}", "folder", folder, "condition", cond, "seed",
                                                  k, "config", knobs_to_json(&c)));
            char csv[4096];
            size_t len = (size_t)snprintf(csv, sizeof csv, "%s", HEADER);
            for (int ep = 1; ep <= t[i].epochs; ep++) {
                double acc = t[i].value[k - 1] * (0.5 + 0.5 * ep / t[i].epochs);
                len += (size_t)snprintf(csv + len, sizeof csv - len, "%d,%g,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,1.0\n", ep,
                                        t[i].lr, 2.3 - 2 * acc, acc + 0.05, acc, 2.3 - 2 * acc, acc, acc);
            }
            study_fixture_put(dir, folder, "metrics.csv", csv);
            run_json_write(dir, folder, i, &t[i], NULL, NULL, most);
        }
    json_object_set_new(root, "runs", runs);
    if (search) {
        json_error_t je;
        json_t *s = json_loads(search, JSON_DECODE_ANY, &je);
        if (!s) fail_msg("fixture search JSON: %s", je.text);
        json_object_set_new(root, "search", s);
    }
    char *text = json_dumps(root, JSON_INDENT(1));
    put(dir, "study.json", text);
    free(text);
    json_decref(root);
}

static char *read_text(const char *dir, const char *rel) {
    char path[4400];
    snprintf(path, sizeof path, rel[0] ? "%s/%s" : "%s%s", dir, rel);
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void assert_has(const char *text, const char *needle, const char *what) {
    if (!strstr(text, needle)) fail_msg("%s lacks \"%s\":\n%s", what, needle, text);
}

// The figure is there as a whole PNG and a whole SVG.
static void assert_figure(const char *dir, const char *name) {
    char png[4400], svg[4400];
    snprintf(png, sizeof png, "%s/figures/%s.png", dir, name);
    snprintf(svg, sizeof svg, "%s/figures/%s.svg", dir, name);
    lr_err e;
    if (fs_check_png(png, png, &e) != 0) fail_msg("%s", e.msg);
    if (fs_check_svg(svg, svg, &e) != 0) fail_msg("%s", e.msg);
}

static void read_search(const char *dir, report_study *s, search_report *r) {
    lr_err e = {{0}};
    int has = 0;
    if (report_study_read(dir, s, &e) != 0) fail_msg("report_study_read: %s", e.msg);
    if (search_report_read(s, r, &has, &e) != 0) fail_msg("search_report_read: %s", e.msg);
    assert_int_equal(has, 1);
}

// ---- eight trials, one seed, three pruned ----

static void test_search_one_seed(void **state) {
    (void)state;
    char dir[512];
    test_mkdtemp(dir, sizeof dir);
    search_study_write(dir, EIGHT, 8, 1, SEARCH_ASHA);

    report_study s;
    search_report r;
    read_search(dir, &s, &r);
    assert_int_equal(r.n_rows, 8);
    assert_int_equal(r.max_epochs, 9);
    assert_int_equal(r.spec.pruner.type, PRUNER_ASHA);
    // Completed by value (4, 6, 2, 0, 7), then pruned: further first (3), then by value (1, 5).
    static const int order[8] = {4, 6, 2, 0, 7, 3, 1, 5};
    assert_int_equal(r.n_order, 8);
    for (int i = 0; i < 8; i++) assert_int_equal(r.rows[r.order[i]].trial, order[i]);
    assert_int_equal(r.rows[r.best].trial, 4);
    assert_int_equal(r.rows[r.runner_up].trial, 6);
    // Best so far over completed trials in trial order; pruned ones never count.
    double best = NAN;
    for (int i = 0; i < 8; i++) {
        const search_row *w = &r.rows[i];
        assert_int_equal(w->trial, i);
        int pruned = !strcmp(EIGHT[i].status, "pruned");
        assert_int_equal(w->state, pruned ? SR_PRUNED : SR_COMPLETE);
        assert_int_equal(w->epochs, EIGHT[i].epochs);
        assert_true(fabs(w->value - EIGHT[i].value[0]) < 1e-9);
        assert_true(fabs(w->x[0] - EIGHT[i].lr) < 1e-12);
        assert_true(w->x[1] == (strcmp(EIGHT[i].opt, "adam") == 0 ? 1.0 : 0.0));
        if (!pruned && !(EIGHT[i].value[0] <= best)) best = EIGHT[i].value[0];
        assert_true(fabs(w->best_so_far - best) < 1e-9);
    }
    assert_true(fabs(r.rows[1].best_so_far - 0.60) < 1e-9); // trial 1 (pruned at .20) keeps trial 0's
    assert_true(fabs(r.rows[3].best_so_far - 0.64) < 1e-9);
    assert_true(fabs(r.rows[7].best_so_far - 0.66) < 1e-9);
    // Budget: 5 x 9 + 1 + 3 + 1 epochs; every trial to 9: 8 x 9; the grid at
    // 5 points per continuous parameter: 5 lr x 2 optimizers, each to 9.
    long spent = 0;
    for (int i = 0; i < 8; i++) spent += EIGHT[i].epochs;
    assert_int_equal(spent, 50);
    assert_int_equal(r.epochs_spent, spent);
    assert_int_equal(r.epochs_full, 72);
    assert_int_equal(r.grid_size, 10);
    assert_int_equal(r.epochs_grid, 90);
    search_report_free(&r);
    report_study_free(&s);

    lr_err e = {{0}};
    if (report_build(dir, &e) != 0) fail_msg("report_build: %s", e.msg);
    static const char *const figs[] = {"search_history", "search_param_lr", "search_param_optimizer",
                                       "search_curves_acc", "search_curves_loss"};
    for (size_t i = 0; i < sizeof figs / sizeof figs[0]; i++) assert_figure(dir, figs[i]);

    char *md = read_text(dir, "report.md");
    assert_has(md, "\n## Search\n", "report.md");
    assert_has(md, "A tpe search over `lr=loguniform:0.0001:1` and `optimizer=categorical:sgd,adam`: 8 of 8 trials "
                   "run, metric test\\_acc (maximize)", "report.md");
    // The table in rank order, pruned trials unranked with their value in parentheses.
    const char *rows[8] = {
        "| 1 | 4 | lr=0.02, optimizer=adam | 66.00% | complete | 9 / 9 |",
        "| 2 | 6 | lr=0.05, optimizer=sgd | 65.50% | complete | 9 / 9 |",
        "| 3 | 2 | lr=0.003, optimizer=sgd | 64.00% | complete | 9 / 9 |",
        "| 4 | 0 | lr=0.01, optimizer=sgd | 60.00% | complete | 9 / 9 |",
        "| 5 | 7 | lr=0.001, optimizer=adam | 50.00% | complete | 9 / 9 |",
        "| \xE2\x80\x93 | 3 | lr=0.5, optimizer=sgd | (30.00%) | pruned (epoch 3) | 3 / 9 |",
        "| \xE2\x80\x93 | 1 | lr=0.1, optimizer=adam | (20.00%) | pruned (epoch 1) | 1 / 9 |",
        "| \xE2\x80\x93 | 5 | lr=0.0002, optimizer=adam | (15.00%) | pruned (epoch 1) | 1 / 9 |",
    };
    const char *at = strstr(md, "### Top trials");
    assert_non_null(at);
    for (int i = 0; i < 8; i++) {
        const char *p = strstr(at, rows[i]);
        if (!p) fail_msg("report.md lacks row %d \"%s\" after the previous one:\n%s", i, rows[i], md);
        at = p;
    }
    assert_has(md, "The search spent 50 epochs of training over 8 trials (1 seed each, at most 9 epochs per run): "
                   "69.4% of the 72 epochs", "report.md");
    assert_has(md, "and 55.6% of the 90 epochs of a grid of similar resolution (the 10 points", "report.md");
    // The discussion: the best trial, and that one seed cannot separate it from the runner-up.
    int need = stats_seeds_needed(0.66 - 0.655, 0.66 - 0.655);
    assert_true(need > 2);
    char want[400];
    snprintf(want, sizeof want, "The best trial is trial 4 (lr=0.02, optimizer=adam; test\\_acc 66.00%%), 0.50 "
             "points ahead of the runner-up, trial 6 (lr=0.05, optimizer=sgd; test\\_acc 65.50%%). With one seed per "
             "trial the search cannot tell whether it is really better");
    assert_has(md, want, "report.md");
    snprintf(want, sizeof want, "a paired test would need about %d seeds per trial", need);
    assert_has(md, want, "report.md");
    assert_has(md, "3 of the 8 trials were pruned (2 at epoch 1, 1 at epoch 3)", "report.md");
    // A pruned run's early stop is not "converging first" (analysis.c).
    assert_null(strstr(md, "trial-001 got there first"));
    assert_null(strstr(md, "trial-001 epoch 1 of 1"));
    // The discussion opens the Analysis section.
    const char *analysis = strstr(md, "## Analysis\n\n- The best trial is trial 4");
    assert_non_null(analysis);
    // Figures in the Search section, before the Conditions.
    const char *fig = strstr(md, "](figures/search_history.png)"), *cond = strstr(md, "\n## Conditions");
    assert_non_null(fig);
    assert_non_null(cond);
    assert_true(fig < cond);
    free(md);

    char *html = read_text(dir, "report.html");
    const char *sec = strstr(html, "<h2 id=\"search\">Search</h2>");
    assert_non_null(sec);
    const char *img = strstr(sec, "<figure id=\"fig-search_param_optimizer\">\n<img alt=");
    assert_non_null(img);
    assert_non_null(strstr(img, "src=\"data:image/png;base64,iVBORw0KGgo"));
    assert_true(img < strstr(html, "<h2 id=\"conditions\">"));
    assert_has(sec, "<td>(30.00%)</td><td class=\"l\">pruned (epoch 3)</td>", "report.html");
    free(html);
    test_rmtree(dir);
}

// ---- the metric and direction decide the order ----

static void test_search_direction(void **state) {
    (void)state;
    char dir[512];
    test_mkdtemp(dir, sizeof dir);
    // test_loss (minimised by default): the fixture's loss is 2.3 - 2 acc, so the order is the same.
    search_study_write(dir, EIGHT, 8, 1,
                       "{\"method\": \"random\", \"trials\": 8, \"metric\": \"test_loss\", \"pruner\": {\"type\": "
                       "\"median\", \"startup\": 2}, \"space\": {\"lr\": \"loguniform:0.0001:1\", \"optimizer\": "
                       "\"categorical:sgd,adam\"}}");
    report_study s;
    search_report r;
    read_search(dir, &s, &r);
    assert_int_equal(r.spec.maximize, 0);
    assert_int_equal(r.spec.pruner.type, PRUNER_MEDIAN);
    assert_int_equal(r.spec.pruner.n_startup, 2);
    assert_int_equal(r.max_epochs, 9); // no ASHA: the runs' epochs
    assert_int_equal(r.rows[r.best].trial, 4);
    assert_int_equal(r.rows[r.runner_up].trial, 6);
    assert_true(fabs(r.rows[r.best].value - (2.3 - 2 * 0.66)) < 1e-6);
    assert_true(fabs(r.rows[2].best_so_far - (2.3 - 2 * 0.64)) < 1e-6);
    search_report_free(&r);
    report_study_free(&s);
    lr_err e = {{0}};
    if (report_build(dir, &e) != 0) fail_msg("report_build: %s", e.msg);
    char *md = read_text(dir, "report.md");
    assert_has(md, "| 1 | 4 | lr=0.02, optimizer=adam | 0.9800 | complete | 9 / 9 |", "report.md");
    assert_has(md, "0.0100 below the runner-up, trial 6", "report.md");
    free(md);
    // The same loss maximised: the worst-learning completed trial (7) wins.
    search_study_write(dir, EIGHT, 8, 1,
                       "{\"method\": \"random\", \"trials\": 8, \"metric\": \"test_loss\", \"direction\": "
                       "\"maximize\", \"space\": {\"lr\": \"loguniform:0.0001:1\", \"optimizer\": "
                       "\"categorical:sgd,adam\"}}");
    read_search(dir, &s, &r);
    assert_int_equal(r.rows[r.best].trial, 7);
    assert_int_equal(r.rows[r.runner_up].trial, 0);
    search_report_free(&r);
    report_study_free(&s);
    test_rmtree(dir);
}

// ---- several seeds: the paired t-test decides ----

static void seeds_study(const char *dir, double runner_up, const double *off_best, const double *off_runner) {
    trial_fix t[4] = {
        {0.01, "sgd", "finished", 4, {0.50, 0.51, 0.49}},
        {0.02, "adam", "finished", 4, {0}},
        {0.03, "sgd", "finished", 4, {0}},
        {0.2, "adam", "finished", 4, {0.40, 0.42, 0.41}},
    };
    for (int k = 0; k < 3; k++) {
        t[1].value[k] = 0.70 + off_best[k];
        t[2].value[k] = runner_up + off_runner[k];
    }
    search_study_write(dir, t, 4, 3,
                       "{\"method\": \"random\", \"trials\": 4, \"metric\": \"test_acc\", \"seeds\": 3, "
                       "\"space\": {\"lr\": \"loguniform:0.0001:1\", \"optimizer\": \"categorical:sgd,adam\"}}");
}

static void test_search_seeds(void **state) {
    (void)state;
    char dir[512];
    test_mkdtemp(dir, sizeof dir);
    // Clearly apart: differences 0.11, 0.085, 0.105 on seeds 1..3.
    static const double ob[3] = {0.01, -0.01, 0.0}, orc[3] = {0.0, 0.005, -0.005};
    seeds_study(dir, 0.60, ob, orc);
    report_study s;
    search_report r;
    read_search(dir, &s, &r);
    assert_int_equal(r.rows[r.best].trial, 1);
    assert_int_equal(r.rows[r.runner_up].trial, 2);
    assert_int_equal(r.rows[r.best].n_runs, 3);
    double v[3] = {0.71, 0.69, 0.70};
    stats_summary su = stats_summarize(v, 3);
    assert_true(fabs(r.rows[r.best].value - su.mean) < 1e-9);
    assert_true(fabs(r.rows[r.best].ci_half - stats_ci_half(3, su.sd)) < 1e-9);
    assert_int_equal(r.epochs_spent, 4 * 4 * 3);
    assert_int_equal(r.epochs_full, 4 * 3 * 4);
    search_report_free(&r);
    report_study_free(&s);
    lr_err e = {{0}};
    if (report_build(dir, &e) != 0) fail_msg("report_build: %s", e.msg);
    char *md = read_text(dir, "report.md");
    char want[300];
    snprintf(want, sizeof want, "| 1 | 1 | lr=0.02, optimizer=adam | 70.00%% \xC2\xB1 %.2f points | complete | 4 / 4 |",
             100 * stats_ci_half(3, su.sd));
    assert_has(md, want, "report.md");
    double a[3] = {0.71, 0.69, 0.70}, b[3] = {0.60, 0.605, 0.595};
    stats_test t = stats_paired_t(a, b, 3);
    assert_true(t.p < 0.05);
    snprintf(want, sizeof want, "the seeds support this difference (95%% CI %.2f to %.2f points, paired t-test, n = 3 "
             "seeds, p = %.3f)", 100 * t.ci_lo, 100 * t.ci_hi, t.p);
    assert_has(md, want, "report.md");
    free(md);
    test_rmtree(dir);

    // Close: differences 0.021, -0.019, 0.001: within noise.
    test_mkdtemp(dir, sizeof dir);
    static const double ob2[3] = {0.01, -0.01, 0.0}, orc2[3] = {-0.01, 0.01, 0.0};
    seeds_study(dir, 0.699, ob2, orc2);
    if (report_build(dir, &e) != 0) fail_msg("report_build: %s", e.msg);
    md = read_text(dir, "report.md");
    assert_has(md, "The best trial is trial 1 (lr=0.02, optimizer=adam; test\\_acc 70.00% \xC2\xB1", "report.md");
    assert_has(md, "the two cannot be told apart: the difference is within seed-to-seed noise", "report.md");
    double a2[3] = {0.71, 0.69, 0.70}, b2[3] = {0.689, 0.709, 0.699}, d[3];
    for (int i = 0; i < 3; i++) d[i] = a2[i] - b2[i];
    stats_test t2 = stats_paired_t(a2, b2, 3);
    int need = stats_seeds_needed(t2.diff, stats_summarize(d, 3).sd);
    assert_true(need > 3);
    snprintf(want, sizeof want, "paired t-test, n = 3 seeds, p = %.3f); about %d seeds per trial would detect", t2.p, need);
    assert_has(md, want, "report.md");
    assert_true(strstr(md, "the seeds support") == NULL);
    free(md);
    test_rmtree(dir);
}

// ---- a grid study is untouched ----

static void test_grid_has_no_search(void **state) {
    (void)state;
    char dir[512];
    test_mkdtemp(dir, sizeof dir);
    // A search study's report first, then study.json without "search": the
    // search figures must go with the section.
    search_study_write(dir, EIGHT, 8, 1, SEARCH_ASHA);
    lr_err e = {{0}};
    if (report_build(dir, &e) != 0) fail_msg("report_build: %s", e.msg);
    assert_figure(dir, "search_history");
    search_study_write(dir, EIGHT, 8, 1, NULL);
    if (report_build(dir, &e) != 0) fail_msg("report_build: %s", e.msg);
    char path[4400];
    snprintf(path, sizeof path, "%s/figures/search_history.png", dir);
    assert_false(fs_exists(path));
    char *md = read_text(dir, "report.md"), *html = read_text(dir, "report.html");
    assert_null(strstr(md, "Search"));
    assert_null(strstr(md, "search_"));
    assert_null(strstr(md, "The best trial"));
    assert_null(strstr(html, "id=\"search\""));
    free(md);
    free(html);
    test_rmtree(dir);

    // The fixture grid study of the other report tests.
    test_mkdtemp(dir, sizeof dir);
    study_fixture f;
    study_fixture_write(&f, dir, "0.1,0.01", 3, 0);
    for (int i = 0; i < f.n; i++) {
        char csv[512];
        snprintf(csv, sizeof csv, "%s1,0.1,2.0,0.2,0.2,2.0,0.2,0.2,1\n2,0.1,1.8,0.3,0.3,1.9,0.3,0.3,1\n", HEADER);
        study_fixture_put(dir, f.folder[i], "metrics.csv", csv);
    }
    if (report_build(dir, &e) != 0) fail_msg("report_build: %s", e.msg);
    md = read_text(dir, "report.md");
    assert_null(strstr(md, "## Search"));
    free(md);
    test_rmtree(dir);
}

// ---- malformed search keys: exit 2, naming the file and key ----

static const char *bin_path(void) {
    const char *bin = getenv("LRSCOPE_BIN");
    if (!bin || !*bin) bin = "build/lrscope";
    if (access(bin, X_OK) != 0) fail_msg("%s is not an executable (set LRSCOPE_BIN)", bin);
    return bin;
}

// Runs `lrscope report dir`; expects exit 2 and every needle in stderr.
static void report_fails(const char *dir, const char *n1, const char *n2) {
    char cmd[4400], err_path[700];
    snprintf(err_path, sizeof err_path, "%s.stderr", dir);
    snprintf(cmd, sizeof cmd, "'%s' report '%s' >/dev/null 2>'%s'", bin_path(), dir, err_path);
    int status = system(cmd);
    char *err = read_text(err_path, "");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 2)
        fail_msg("lrscope report: status %d (expected exit 2), stderr: %s", status, err);
    if (!strstr(err, n1) || !strstr(err, n2)) fail_msg("stderr lacks \"%s\" or \"%s\": %s", n1, n2, err);
    free(err);
    remove(err_path);
}

static void test_malformed_search(void **state) {
    (void)state;
    static const struct {
        const char *search, *key;
    } bad[] = {
        {"\"tpe\"", "search: expected an object"},
        {"{\"trials\": 8, \"space\": {\"lr\": \"loguniform:0.0001:1\"}}", "search.method"},
        {"{\"method\": 3, \"trials\": 8, \"space\": {\"lr\": \"loguniform:0.0001:1\"}}", "search.method"},
        {"{\"method\": \"tpe\", \"trials\": \"forty\", \"space\": {\"lr\": \"loguniform:0.0001:1\"}}", "search.trials"},
        {"{\"method\": \"tpe\", \"trials\": 8, \"direction\": \"upward\", \"space\": {\"lr\": \"loguniform:0.0001:1\"}}",
         "search.direction"},
        {"{\"method\": \"tpe\", \"trials\": 8, \"pruner\": {\"type\": \"hyperband\"}, \"space\": {\"lr\": "
         "\"loguniform:0.0001:1\"}}", "search.pruner.type"},
        {"{\"method\": \"tpe\", \"trials\": 8, \"pruner\": {\"type\": \"asha\", \"eta\": \"3\"}, \"space\": {\"lr\": "
         "\"loguniform:0.0001:1\"}}", "search.pruner.eta"},
        {"{\"method\": \"tpe\", \"trials\": 8, \"pruner\": \"asha\", \"space\": {\"lr\": \"loguniform:0.0001:1\"}}",
         "search.pruner"},
        {"{\"method\": \"tpe\", \"trials\": 8, \"space\": {\"lr\": 5}}", "search.space.lr"},
        {"{\"method\": \"tpe\", \"trials\": 8, \"space\": {\"lr\": \"loguniform:0:1\"}}", "search.space.lr"},
        {"{\"method\": \"tpe\", \"trials\": 8, \"space\": []}", "search.space"},
        {"{\"method\": \"tpe\", \"trials\": 8, \"seeds\": 0, \"space\": {\"lr\": \"loguniform:0.0001:1\"}}",
         "search.seeds"},
    };
    char root[512], dir[700], study_json[800];
    test_mkdtemp(root, sizeof root);
    snprintf(dir, sizeof dir, "%s/study", root);
    snprintf(study_json, sizeof study_json, "%s/study.json", dir);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        search_study_write(dir, EIGHT, 2, 1, bad[i].search);
        report_fails(dir, study_json, bad[i].key);
    }
    // run.json: a point or trial of the wrong type names the run's file and key.
    search_study_write(dir, EIGHT, 2, 1, SEARCH_ASHA);
    char run_json[900];
    snprintf(run_json, sizeof run_json, "%s/runs/trial-001/seed-1/run.json", dir);
    run_json_write(dir, "runs/trial-001/seed-1", 1, &EIGHT[1], "{\"lr\": \"fast\", \"optimizer\": \"adam\"}", NULL, 9);
    report_fails(dir, run_json, "point.lr");
    run_json_write(dir, "runs/trial-001/seed-1", 1, &EIGHT[1], "{\"lr\": 0.1, \"optimizer\": \"rmsprop\"}", NULL, 9);
    report_fails(dir, run_json, "point.optimizer");
    run_json_write(dir, "runs/trial-001/seed-1", 1, &EIGHT[1], NULL, "\"one\"", 9);
    report_fails(dir, run_json, "trial");
    run_json_write(dir, "runs/trial-001/seed-1", 1, &EIGHT[1], "[0.1]", NULL, 9);
    report_fails(dir, run_json, "point");
    // Repaired, the same folder reports.
    run_json_write(dir, "runs/trial-001/seed-1", 1, &EIGHT[1], NULL, NULL, 9);
    lr_err e = {{0}};
    if (report_build(dir, &e) != 0) fail_msg("report_build: %s", e.msg);
    test_rmtree(root);
}

// Under `make DEBUG=1`, fontconfig (loaded by PLplot's cairo drivers) keeps
// its cache until exit, which LeakSanitizer reports; the other report tests
// suppress the same library.
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libfontconfig.so\n"; }

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_search_one_seed),
        cmocka_unit_test(test_search_direction),
        cmocka_unit_test(test_search_seeds),
        cmocka_unit_test(test_grid_has_no_search),
        cmocka_unit_test(test_malformed_search),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
