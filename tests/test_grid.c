// test_grid.c: a study's design and its runs (src/study/grid.c): lists,
// logspace and linspace axes, the product in axis order, seeds, run and
// folder naming; and the YAML study file (src/study/study_file.c): the
// issue's example verbatim, every knob from base:, and the errors (file,
// line, key, suggestion).
#include "test_util.h"

#include "../src/study/grid.h"
#include "../src/study/study_file.h"

static void expand_ok(const study_spec *sp, run_config **runs, int *n) {
    lr_err e;
    if (spec_expand(sp, runs, n, &e) != 0) fail_msg("spec_expand: %s", e.msg);
}

static void grid_ok(study_spec *sp, const char *arg) {
    lr_err e;
    if (spec_parse_grid_flag(sp, arg, &e) != 0) fail_msg("--grid %s: %s", arg, e.msg);
}

static void grid_bad(study_spec *sp, const char *arg, const char *needle) {
    lr_err e = {{0}};
    if (spec_parse_grid_flag(sp, arg, &e) != -1) fail_msg("--grid %s: accepted", arg);
    if (!strstr(e.msg, needle)) fail_msg("--grid %s: message lacks \"%s\": %s", arg, needle, e.msg);
}

static void test_default_is_the_seed_study(void **state) {
    (void)state;
    study_spec sp;
    spec_init(&sp);
    run_config *runs;
    int n;
    expand_ok(&sp, &runs, &n);
    assert_int_equal(n, 3);
    const double lrs[3] = {0.1, 0.01, 0.001};
    const char *names[3] = {"runs/lr=0.1/seed-1", "runs/lr=0.01/seed-1", "runs/lr=0.001/seed-1"};
    for (int i = 0; i < 3; i++) {
        assert_true(runs[i].lr == lrs[i]);
        assert_int_equal(runs[i].seed, 1);
        assert_string_equal(runs[i].name, names[i]);
        assert_int_equal(runs[i].epochs, 30);
        assert_string_equal(runs[i].data_dir, "data/cifar-10-batches-bin"); // resolved from the data set
    }
    free(runs);
    // --seeds 5: the same three conditions, each with seeds 1..5
    lr_err e;
    assert_int_equal(spec_set_seeds(&sp, "5", "--seeds", &e), 0);
    expand_ok(&sp, &runs, &n);
    assert_int_equal(n, 15);
    for (int i = 0; i < 15; i++) {
        assert_true(runs[i].lr == lrs[i / 5]);
        assert_int_equal(runs[i].seed, (uint64_t)(i % 5 + 1));
        char want[64];
        snprintf(want, sizeof want, "runs/lr=%g/seed-%d", lrs[i / 5], i % 5 + 1);
        assert_string_equal(runs[i].name, want);
        snprintf(want, sizeof want, "lr=%g", lrs[i / 5]);
        assert_string_equal(runs[i].condition, want);
    }
    free(runs);
    spec_free(&sp);
    // --lr X without a grid: a study of that one rate
    spec_init(&sp);
    sp.base.lr = 0.05;
    sp.lr_set = 1;
    expand_ok(&sp, &runs, &n);
    assert_int_equal(n, 1);
    assert_string_equal(runs[0].name, "runs/lr=0.05/seed-1");
    free(runs);
    spec_free(&sp);
}

static void test_product_in_axis_order(void **state) {
    (void)state;
    study_spec sp;
    spec_init(&sp);
    grid_ok(&sp, "lr=0.1,0.01,0.001");
    grid_ok(&sp, "momentum=0,0.9");
    grid_ok(&sp, "batch-size=64"); // one value: set, but not in the names
    lr_err e;
    assert_int_equal(spec_set_seeds(&sp, "1,7", "--seeds", &e), 0);
    run_config *runs;
    int n;
    expand_ok(&sp, &runs, &n);
    assert_int_equal(n, 3 * 2 * 2);
    int k = 0;
    for (int a = 0; a < 3; a++)
        for (int m = 0; m < 2; m++)
            for (int s = 0; s < 2; s++, k++) {
                const double lr = (double[]){0.1, 0.01, 0.001}[a], mom = m ? 0.9 : 0.0;
                assert_true(runs[k].lr == lr);
                assert_true(runs[k].momentum == mom);
                assert_int_equal(runs[k].batch_size, 64);
                assert_int_equal(runs[k].seed, s ? 7 : 1);
                char want[128];
                snprintf(want, sizeof want, "lr=%g,momentum=%g", lr, mom);
                assert_string_equal(runs[k].condition, want);
                snprintf(want, sizeof want, "runs/lr=%g,momentum=%g/seed-%d", lr, mom, s ? 7 : 1);
                assert_string_equal(runs[k].name, want);
            }
    free(runs);
    // replacing an axis keeps its place
    grid_ok(&sp, "lr=0.5");
    expand_ok(&sp, &runs, &n);
    assert_int_equal(n, 4);
    assert_string_equal(runs[0].condition, "momentum=0");
    assert_true(runs[0].lr == 0.5);
    free(runs);
    spec_free(&sp);
}

static void test_spaces(void **state) {
    (void)state;
    study_spec sp;
    spec_init(&sp);
    grid_ok(&sp, "lr=logspace:1e-4:1:9");
    run_config *runs;
    int n;
    expand_ok(&sp, &runs, &n);
    assert_int_equal(n, 9);
    for (int i = 0; i < 9; i++) {
        double want = pow(10.0, -4.0 + 0.5 * i);
        if (fabs(runs[i].lr - want) > 1e-12 * want) fail_msg("logspace value %d: %.17g, expected %.17g", i, runs[i].lr, want);
    }
    assert_true(runs[0].lr == 1e-4 && runs[8].lr == 1.0); // the ends exactly
    assert_string_equal(runs[1].condition, "lr=0.000316228");
    free(runs);
    grid_ok(&sp, "lr=linspace:0.1:0.5:5");
    expand_ok(&sp, &runs, &n);
    assert_int_equal(n, 5);
    for (int i = 0; i < 5; i++) assert_true(fabs(runs[i].lr - (0.1 + 0.1 * i)) < 1e-15);
    free(runs);
    // whole-number knobs round; the rounded values must still differ
    spec_free(&sp);
    spec_init(&sp);
    grid_ok(&sp, "batch_size=logspace:16:256:5");
    expand_ok(&sp, &runs, &n);
    const int want_b[5] = {16, 32, 64, 128, 256};
    for (int i = 0; i < 5; i++) assert_int_equal(runs[i].batch_size, want_b[i]);
    assert_string_equal(runs[2].name, "runs/batch_size=64/seed-1");
    free(runs);
    grid_bad(&sp, "batch_size=linspace:1:2:5", "listed twice");
    grid_bad(&sp, "lr=logspace:0:1:3", "> 0");
    grid_bad(&sp, "lr=logspace:1e-4:1", "START:END:COUNT");
    grid_bad(&sp, "lr=logspace:1e-4:1:1e300", "count in [1, 1000]");
    grid_bad(&sp, "lr=linspace:0.1:1:-1e19", "count in [1, 1000]");
    grid_bad(&sp, "schedule=linspace:1:2:3", "numeric");
    spec_free(&sp);
}

static void test_grid_errors(void **state) {
    (void)state;
    study_spec sp;
    spec_init(&sp);
    grid_bad(&sp, "momentun=0,0.9", "did you mean momentum");
    grid_bad(&sp, "lr=", "empty axis");
    grid_bad(&sp, "lr=0.1,0.1", "listed twice");
    grid_bad(&sp, "lr=0.1,1e-1", "listed twice"); // the same number however written
    grid_bad(&sp, "momentum=0,2", "[0, 1]");
    grid_bad(&sp, "lr=0.1,", "empty value");
    grid_bad(&sp, "threads=1,2", "cannot be an axis");
    grid_bad(&sp, "lr", "KEY=V1,V2");
    grid_bad(&sp, "schedule=step,cosin", "did you mean \"cosine\"");
    assert_int_equal(sp.n_axes, 0); // nothing half-set
    lr_err e = {{0}};
    assert_int_equal(spec_set_seeds(&sp, "0", "--seeds", &e), -1);
    assert_int_equal(spec_set_seeds(&sp, "1,1", "--seeds", &e), -1);
    assert_non_null(strstr(e.msg, "twice"));
    assert_int_equal(spec_set_seeds(&sp, "", "--seeds", &e), -1);
    // two values that print alike would share a folder
    grid_ok(&sp, "lr=0.1,0.10000001");
    run_config *runs;
    int n;
    assert_int_equal(spec_expand(&sp, &runs, &n, &e), -1);
    assert_non_null(strstr(e.msg, "runs/lr=0.1"));
    // too many runs
    grid_ok(&sp, "lr=logspace:1e-6:1:1000");
    grid_ok(&sp, "momentum=linspace:0:0.99:100");
    assert_int_equal(spec_expand(&sp, &runs, &n, &e), -1);
    assert_non_null(strstr(e.msg, "10000"));
    spec_free(&sp);
}

static void test_model_axis_names(void **state) {
    (void)state;
    study_spec sp;
    spec_init(&sp);
    const char *models[2] = {"conv:4:3,relu,linear", "conv:8:3,relu,linear"};
    lr_err e;
    assert_int_equal(spec_set_axis(&sp, knob_find("model"), models, 2, "test", &e), 0);
    run_config *runs;
    int n;
    expand_ok(&sp, &runs, &n);
    assert_int_equal(n, 2);
    assert_string_equal(runs[0].condition, "model=conv-4-3_relu_linear");
    assert_string_equal(runs[0].model, "conv:4:3,relu,linear"); // the value itself is unchanged
    assert_null(strchr(runs[1].condition, ':'));
    free(runs);
    // values that differ only in characters made safe collide: refused
    const char *clash[2] = {"conv:4:3,relu,linear", "conv:4:3_relu,linear"};
    assert_int_equal(spec_set_axis(&sp, knob_find("model"), clash, 2, "test", &e), 0);
    assert_int_equal(spec_expand(&sp, &runs, &n, &e), -1);
    assert_non_null(strstr(e.msg, "both give the folder"));
    spec_free(&sp);
}

// ---- YAML ----

static void write_yaml(const char *dir, const char *text, char *path, size_t cap) {
    snprintf(path, cap, "%s/study.yaml", dir);
    test_write_file(path, text, strlen(text));
}

static void yaml_bad(const char *dir, const char *text, const char *n1, const char *n2) {
    char path[600];
    write_yaml(dir, text, path, sizeof path);
    study_spec sp;
    spec_init(&sp);
    lr_err e = {{0}};
    if (study_file_read(path, &sp, &e) != -1) fail_msg("accepted:\n%s", text);
    if (!strstr(e.msg, path)) fail_msg("message does not name the file: %s", e.msg);
    if (!strstr(e.msg, n1) || (n2 && !strstr(e.msg, n2)))
        fail_msg("message lacks \"%s\" / \"%s\": %s", n1, n2 ? n2 : "", e.msg);
    spec_free(&sp);
}

static void test_yaml_issue_example(void **state) {
    (void)state;
    char dir[512], path[600];
    test_mkdtemp(dir, sizeof dir);
    write_yaml(dir,
               "name: lr-vs-momentum\n"
               "dataset: cifar10\n"
               "epochs: 30\n"
               "seeds: 5                 # or a list: [1, 2, 7]\n"
               "base:                    # every run knob; omitted ones take their defaults\n"
               "  batch_size: 128\n"
               "  momentum: 0.9\n"
               "  schedule: step\n"
               "  step_size: 5\n"
               "  gamma: 0.5\n"
               "grid:                    # the axes; their product is the set of conditions\n"
               "  lr: {logspace: [1.0e-4, 1.0, 9]}      # or a list: [0.1, 0.01, 0.001]\n"
               "  momentum: [0.0, 0.9]\n",
               path, sizeof path);
    study_spec sp;
    spec_init(&sp);
    lr_err e;
    if (study_file_read(path, &sp, &e) != 0) fail_msg("%s", e.msg);
    assert_string_equal(sp.name, "lr-vs-momentum");
    run_config *runs;
    int n;
    expand_ok(&sp, &runs, &n);
    assert_int_equal(n, 9 * 2 * 5);
    assert_string_equal(runs[0].name, "runs/lr=0.0001,momentum=0/seed-1");
    assert_string_equal(runs[n - 1].name, "runs/lr=1,momentum=0.9/seed-5");
    assert_true(runs[5].momentum == 0.9 && runs[5].lr == 1e-4 && runs[5].seed == 1);
    assert_int_equal(runs[0].epochs, 30);
    free(runs);
    spec_free(&sp);
    // seeds as a list, an int-valued axis as a list
    write_yaml(dir, "seeds: [1, 2, 7]\ngrid:\n  batch_size: [64, 128]\n", path, sizeof path);
    spec_init(&sp);
    if (study_file_read(path, &sp, &e) != 0) fail_msg("%s", e.msg);
    expand_ok(&sp, &runs, &n);
    assert_int_equal(n, 6);
    assert_int_equal(runs[2].seed, 7);
    assert_int_equal(runs[3].batch_size, 128);
    assert_string_equal(runs[2].name, "runs/batch_size=64/seed-7");
    free(runs);
    spec_free(&sp);
    test_rmtree(dir);
}

// Every knob can be set in base: (and at the top level) and reaches the runs.
static void test_yaml_every_knob(void **state) {
    (void)state;
    char dir[512], path[600];
    test_mkdtemp(dir, sizeof dir);
    for (int i = 0; i < N_KNOBS; i++) {
        const knob *k = &KNOBS[i];
        run_config want;
        config_defaults(&want);
        char v[4200];
        // a value that differs from the default: through the table's own parser
        switch (k->type) {
        case KNOB_DOUBLE: snprintf(v, sizeof v, "%.17g", (k->lo + (k->hi < 2 ? k->hi : 2)) / 2 + 1e-3); break;
        case KNOB_INT:
        case KNOB_UINT64: snprintf(v, sizeof v, "%.0f", k->lo + 3); break;
        case KNOB_BOOL: snprintf(v, sizeof v, "%s", strcmp(k->def, "true") ? "true" : "false"); break;
        case KNOB_ENUM: snprintf(v, sizeof v, "%.*s", (int)strcspn(strchr(k->values, '|') + 1, "|"),
                                 strchr(k->values, '|') + 1); break;
        case KNOB_STRING:
            snprintf(v, sizeof v, "%s", !strcmp(k->name, "dataset") ? "mnist" : !strcmp(k->name, "model") ? "lenet5" : "some-text");
            break;
        case KNOB_INT_LIST: snprintf(v, sizeof v, "[%.0f, %.0f]", k->lo + 1, k->lo + 2); break;
        }
        lr_err e;
        char flat[4200];
        snprintf(flat, sizeof flat, "%s", v);
        if (k->type == KNOB_INT_LIST) { // "[a, b]" -> "a,b"
            char *w = flat;
            for (char *r = v; *r; r++)
                if (*r != '[' && *r != ']' && *r != ' ') *w++ = *r;
            *w = '\0';
        }
        if (knob_parse(k, flat, &want, k->name, &e) != 0) fail_msg("%s %s: %s", k->name, flat, e.msg);
        for (int top = 0; top < 2; top++) {
            char text[4400];
            snprintf(text, sizeof text, "%s%s: %s\ngrid:\n  lr: [0.1]\n", top ? "" : "base:\n  ", k->name, v);
            write_yaml(dir, text, path, sizeof path);
            study_spec sp;
            spec_init(&sp);
            if (study_file_read(path, &sp, &e) != 0) fail_msg("%s", e.msg);
            run_config *runs;
            int n;
            if (!strcmp(k->name, "lr")) { // lr is the axis here: check the base itself
                assert_true(knob_equal(k, &sp.base, &want));
                spec_free(&sp);
                continue;
            }
            expand_ok(&sp, &runs, &n);
            assert_int_equal(n, 1);
            if (!knob_equal(k, &runs[0], &want)) fail_msg("%s: %s in the study file did not reach the run", k->name, v);
            free(runs);
            spec_free(&sp);
        }
        // and as an axis, when it may be one
        if (k->axis && k->type != KNOB_BOOL) {
            char text[4400];
            snprintf(text, sizeof text, "grid:\n  %s: [%s]\n", k->name, v);
            write_yaml(dir, text, path, sizeof path);
            study_spec sp;
            spec_init(&sp);
            if (study_file_read(path, &sp, &e) != 0) fail_msg("axis %s: %s", k->name, e.msg);
            run_config *runs;
            int n;
            expand_ok(&sp, &runs, &n);
            if (!knob_equal(k, &runs[0], &want)) fail_msg("axis %s: %s did not reach the run", k->name, v);
            free(runs);
            spec_free(&sp);
        }
    }
    test_rmtree(dir);
}

static void test_yaml_errors(void **state) {
    (void)state;
    char dir[512];
    test_mkdtemp(dir, sizeof dir);
    yaml_bad(dir, "name: x\nbase:\n  momentun: 0.5\n", ":3:", "did you mean \"momentum\"");
    yaml_bad(dir, "grid:\n  lr: [0.1]\n  wieght_decay: [0, 0.1]\n", ":3:", "did you mean \"weight_decay\"");
    yaml_bad(dir, "grids:\n  lr: [0.1]\n", ":1:", "did you mean \"grid\"");
    yaml_bad(dir, "frobnicate: 3\n", ":1:", "unknown section");
    yaml_bad(dir, "base:\n  momentum: 1.5\n", ":2:", "[0, 1]");
    yaml_bad(dir, "base:\n  epochs: ten\n", ":2:", "epochs");
    yaml_bad(dir, "base:\n  epochs: [1, 2]\n", ":2:", "found a list");
    yaml_bad(dir, "grid: {}\n", ":1:", "empty grid");
    yaml_bad(dir, "grid:\n  lr: []\n", ":2:", "empty axis");
    yaml_bad(dir, "grid:\n  lr: [0.1, 0.01, 0.1]\n", ":2:", "listed twice");
    yaml_bad(dir, "grid:\n  lr: 0.1\n", ":2:", "put it in base");
    yaml_bad(dir, "grid:\n  lr: {logspace: [1, 2]}\n", ":2:", "[start, end, count]");
    yaml_bad(dir, "grid:\n  lr: {logspace: [1e-4, 1, 3e104]}\n", ":2:", "count in [1, 1000]"); // no cast of 3e104
    yaml_bad(dir, "grid:\n  lr: {linspace: [0.1, 1, -5e20]}\n", ":2:", "count in [1, 1000]");
    yaml_bad(dir, "grid:\n  lr: {logspace: [1e-4, 1, 2.5]}\n", ":2:", "[start, end, count]");
    yaml_bad(dir, "grid:\n  lr: {logspaec: [1, 2, 3]}\n", ":2:", "did you mean logspace");
    yaml_bad(dir, "grid:\n  lr: [0.1]\n  lr: [0.2]\n", ":3:", "given twice");
    yaml_bad(dir, "seeds: 0\n", ":1:", "seeds");
    yaml_bad(dir, "seeds: [1, 1]\n", ":1:", "twice");
    yaml_bad(dir, "seeds: 2\ngrid:\n  seed: [1, 2]\n", ":1:", "given twice");
    yaml_bad(dir, "grid:\n  threads: [1, 2]\n", ":2:", "cannot be an axis");
    yaml_bad(dir, "name: [x\n", ":2:", "expected YAML");
    yaml_bad(dir, "- 1\n- 2\n", ":1:", "mapping at the top");
    yaml_bad(dir, "", "empty file", NULL);
    // too large, before any parsing
    char path[600];
    snprintf(path, sizeof path, "%s/study.yaml", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("name: big\n", f);
    for (int i = 0; i < STUDY_FILE_MAX_BYTES / 16 + 1; i++) fputs("# padding......\n", f);
    fclose(f);
    study_spec sp;
    spec_init(&sp);
    lr_err e;
    assert_int_equal(study_file_read(path, &sp, &e), -1);
    assert_non_null(strstr(e.msg, "at most"));
    snprintf(path, sizeof path, "%s/missing.yaml", dir);
    assert_int_equal(study_file_read(path, &sp, &e), -1);
    assert_non_null(strstr(e.msg, "missing.yaml"));
    spec_free(&sp);
    test_rmtree(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_is_the_seed_study),
        cmocka_unit_test(test_product_in_axis_order),
        cmocka_unit_test(test_spaces),
        cmocka_unit_test(test_grid_errors),
        cmocka_unit_test(test_model_axis_names),
        cmocka_unit_test(test_yaml_issue_example),
        cmocka_unit_test(test_yaml_every_knob),
        cmocka_unit_test(test_yaml_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
