// test_knobs.c: the knob table (src/train/knobs.c): every row parses its own
// default, refuses the empty string and values out of range with the range
// in the message, formats back to what it read, and round-trips through
// JSON; flags and keys are derived from names; misspellings find the
// closest name. Every test loops over the table, so a new row is covered.
#include "test_util.h"

#include "../src/train/knobs.h"

// A value of k, different from its default, that the row accepts.
static void other_value(const knob *k, char *out, size_t cap) {
    run_config d;
    config_defaults(&d);
    switch (k->type) {
    case KNOB_DOUBLE: {
        double def = *(const double *)((const char *)&d + k->offset);
        double v = def != k->hi ? (def + k->hi) / 2 : (def + k->lo) / 2;
        if (k->hi > 1e5 && def < 1e5) v = fabs(def) * 3 + 0.25; // a wide range: stay near the default (max_lr: -1)
        snprintf(out, cap, "%.17g", v);
        return;
    }
    case KNOB_INT:
    case KNOB_UINT64: {
        long long def = k->type == KNOB_INT ? *(const int *)((const char *)&d + k->offset)
                                            : (long long)*(const uint64_t *)((const char *)&d + k->offset);
        snprintf(out, cap, "%lld", def < (long long)k->hi ? def + 1 : def - 1);
        return;
    }
    case KNOB_BOOL:
        snprintf(out, cap, "%s", *(const int *)((const char *)&d + k->offset) ? "false" : "true");
        return;
    case KNOB_ENUM: {
        // the first allowed value that is not the default
        const char *p = k->values;
        for (;;) {
            const char *bar = strchr(p, '|');
            size_t n = bar ? (size_t)(bar - p) : strlen(p);
            if (strlen(k->def) != n || strncmp(p, k->def, n) != 0) {
                snprintf(out, cap, "%.*s", (int)n, p);
                return;
            }
            if (!bar) fail_msg("%s: an enum with a single value", k->name);
            p = bar + 1;
        }
    }
    case KNOB_STRING:
        if (!strcmp(k->name, "dataset")) snprintf(out, cap, "mnist");
        else if (!strcmp(k->name, "model")) snprintf(out, cap, "lenet5"); // checked: a name or known layers
        else snprintf(out, cap, "%s-other", k->def[0] ? k->def : "x");
        return;
    case KNOB_INT_LIST: snprintf(out, cap, "%.0f,%.0f", k->lo, k->lo + 1); return;
    }
}

static void test_defaults_parse_and_format_back(void **state) {
    (void)state;
    run_config c;
    config_defaults(&c);
    assert_true(N_KNOBS >= 16);
    for (int i = 0; i < N_KNOBS; i++) {
        const knob *k = &KNOBS[i];
        char text[4200];
        knob_format(k, &c, text, sizeof text, KNOB_TEXT_EXACT);
        if (strcmp(text, k->def) != 0) fail_msg("%s: default \"%s\" formats as \"%s\"", k->name, k->def, text);
        assert_non_null(k->help);
        assert_non_null(k->meta);
        assert_true(k->offset + k->size <= sizeof(run_config));
        for (int j = 0; j < i; j++) assert_string_not_equal(KNOBS[j].name, k->name);
    }
    // the seed study's settings, by name
    assert_true(c.momentum == 0.9 && c.batch_size == 128 && c.epochs == 30 && c.step_size == 5 && c.gamma == 0.5);
    assert_int_equal(c.seed, 1);
    assert_string_equal(c.schedule, "step");
}

static void test_every_knob_parses_other_value(void **state) {
    (void)state;
    for (int i = 0; i < N_KNOBS; i++) {
        const knob *k = &KNOBS[i];
        run_config c, d;
        config_defaults(&c);
        config_defaults(&d);
        char v[4200], back[4200];
        other_value(k, v, sizeof v);
        lr_err e;
        if (knob_parse(k, v, &c, k->name, &e) != 0) fail_msg("%s %s: %s", k->name, v, e.msg);
        assert_false(knob_equal(k, &c, &d));
        knob_format(k, &c, back, sizeof back, KNOB_TEXT_EXACT);
        run_config again;
        config_defaults(&again);
        assert_int_equal(knob_parse(k, back, &again, k->name, &e), 0);
        if (!knob_equal(k, &c, &again)) fail_msg("%s: %s formatted as %s reads back differently", k->name, v, back);
        // only this knob's field changed
        for (int j = 0; j < N_KNOBS; j++)
            if (j != i && !knob_equal(&KNOBS[j], &c, &d)) fail_msg("setting %s changed %s", k->name, KNOBS[j].name);
    }
}

static void test_bad_values_refused_with_range(void **state) {
    (void)state;
    for (int i = 0; i < N_KNOBS; i++) {
        const knob *k = &KNOBS[i];
        run_config c, d;
        config_defaults(&c);
        config_defaults(&d);
        lr_err e = {{0}};
        char flag[64];
        knob_flag(k, flag, sizeof flag);
        if (k->def[0]) { // the empty string, unless empty is the default's meaning
            if (knob_parse(k, "", &c, flag, &e) != -1) fail_msg("%s: the empty string was accepted", k->name);
            assert_non_null(strstr(e.msg, flag));
            assert_non_null(strstr(e.msg, "empty"));
        }
        const char *bad[4] = {NULL};
        char lo[64], hi[64];
        switch (k->type) {
        case KNOB_DOUBLE:
            snprintf(lo, sizeof lo, "%.17g", k->lo - (k->lo ? fabs(k->lo) : 1));
            snprintf(hi, sizeof hi, "%.17g", k->hi * 2 + 1);
            bad[0] = lo, bad[1] = hi, bad[2] = "abc", bad[3] = "nan";
            break;
        case KNOB_INT:
        case KNOB_UINT64:
        case KNOB_INT_LIST:
            snprintf(lo, sizeof lo, "%.0f", k->lo - 1);
            snprintf(hi, sizeof hi, "%.0f", k->hi + 1);
            bad[0] = lo, bad[1] = hi, bad[2] = "1.5", bad[3] = "x";
            break;
        case KNOB_BOOL: bad[0] = "maybe"; break;
        case KNOB_ENUM: bad[0] = "bogus"; break;
        case KNOB_STRING: {
            static char longer[5000];
            memset(longer, 'x', k->size);
            longer[k->size] = '\0';
            bad[0] = longer;
            if (k->check) bad[1] = "bogus";
            break;
        }
        }
        for (int b = 0; b < 4 && bad[b]; b++) {
            if (knob_parse(k, bad[b], &c, flag, &e) != -1) fail_msg("%s %s: accepted", k->name, bad[b]);
            if (!strstr(e.msg, flag)) fail_msg("%s: message does not name the flag: %s", k->name, e.msg);
            if (k->type == KNOB_DOUBLE || k->type == KNOB_INT || k->type == KNOB_UINT64) {
                char range[64];
                snprintf(range, sizeof range, k->type == KNOB_DOUBLE ? "[%g, %g]" : "[%.0f, %.0f]", k->lo, k->hi);
                if (!strstr(e.msg, range)) fail_msg("%s: message does not give the range %s: %s", k->name, range, e.msg);
            }
            assert_true(knob_equal(k, &c, &d)); // a refused value leaves the field alone
        }
    }
    // enum messages list the values
    run_config c;
    config_defaults(&c);
    lr_err e;
    assert_int_equal(knob_parse(knob_find("schedule"), "cosin", &c, "--schedule", &e), -1);
    assert_non_null(strstr(e.msg, "step, constant, multistep"));
    assert_non_null(strstr(e.msg, "did you mean \"cosine\"")); // a misspelt value gets the closest
    assert_int_equal(knob_parse(knob_find("optimizer"), "adamm", &c, "--optimizer", &e), -1);
    assert_non_null(strstr(e.msg, "did you mean \"adam\""));
}

static void test_json_round_trip(void **state) {
    (void)state;
    run_config a, b;
    config_defaults(&a);
    for (int i = 0; i < N_KNOBS; i++) { // every knob off its default
        char v[4200];
        other_value(&KNOBS[i], v, sizeof v);
        lr_err e;
        assert_int_equal(knob_parse(&KNOBS[i], v, &a, "test", &e), 0);
    }
    json_t *j = knobs_to_json(&a);
    assert_int_equal((int)json_object_size(j), N_KNOBS);
    char *text = json_dumps(j, JSON_REAL_PRECISION(17));
    json_decref(j);
    json_error_t je;
    json_t *back = json_loads(text, 0, &je);
    free(text);
    assert_non_null(back);
    config_defaults(&b);
    lr_err e;
    if (knobs_from_json(back, &b, "test", &e) != 0) fail_msg("%s", e.msg);
    for (int i = 0; i < N_KNOBS; i++)
        if (!knob_equal(&KNOBS[i], &a, &b)) fail_msg("%s differs after the JSON round trip", KNOBS[i].name);
    // a renamed key is refused with the closest name
    json_object_set_new(back, "batchsize", json_integer(64));
    config_defaults(&b);
    assert_int_equal(knobs_from_json(back, &b, "study.json", &e), -1);
    assert_non_null(strstr(e.msg, "\"batchsize\""));
    assert_non_null(strstr(e.msg, "did you mean \"batch_size\""));
    json_decref(back);
}

static void test_flags_and_suggestions(void **state) {
    (void)state;
    char flag[64];
    knob_flag(knob_find("batch_size"), flag, sizeof flag);
    assert_string_equal(flag, "--batch-size");
    assert_ptr_equal(knob_find_flag("--batch-size"), knob_find("batch_size"));
    assert_ptr_equal(knob_find_flag("--weight-decay"), knob_find("weight_decay"));
    assert_null(knob_find_flag("--batch_size")); // flags spell words with '-'
    assert_null(knob_find("nonsense"));
    for (int i = 0; i < N_KNOBS; i++) {
        knob_flag(&KNOBS[i], flag, sizeof flag);
        assert_ptr_equal(knob_find_flag(flag), &KNOBS[i]);
    }
    assert_int_equal(knob_edit_distance("momentum", "momentum"), 0);
    assert_int_equal(knob_edit_distance("momentun", "momentum"), 1);
    assert_int_equal(knob_edit_distance("mometnum", "momentum"), 1); // a swap counts once
    assert_int_equal(knob_edit_distance("", "abc"), 3);
    static const char *const names[] = {"lr", "momentum", "weight_decay", "batch_size", NULL};
    assert_string_equal(knob_closest("momentun", names), "momentum");
    assert_string_equal(knob_closest("weight-decay", names), "weight_decay");
    assert_string_equal(knob_closest("batchsize", names), "batch_size");
    assert_null(knob_closest("frobnicate", names)); // nothing near: no suggestion
}

static void test_help_lists_every_knob(void **state) {
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    knobs_help(f);
    fclose(f);
    // lines are wrapped: compare with runs of spaces and newlines as one space
    char *w = buf;
    for (char *r = buf; *r; r++) {
        if (*r == '\n' || *r == ' ') {
            if (w > buf && w[-1] == ' ') continue;
            *w++ = ' ';
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
    for (int i = 0; i < N_KNOBS; i++) {
        char flag[64], want[300];
        knob_flag(&KNOBS[i], flag, sizeof flag);
        if (!strstr(buf, flag)) fail_msg("--help lacks %s", flag);
        snprintf(want, sizeof want, "default %s", KNOBS[i].def);
        if (KNOBS[i].def[0] && strlen(KNOBS[i].def) < 40 && !strstr(buf, want))
            fail_msg("--help lacks \"%s\" for %s", want, flag);
    }
    assert_non_null(strstr(buf, "[1e-12, 1e+06]")); // lr's range
    free(buf);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_parse_and_format_back),
        cmocka_unit_test(test_every_knob_parses_other_value),
        cmocka_unit_test(test_bad_values_refused_with_range),
        cmocka_unit_test(test_json_round_trip),
        cmocka_unit_test(test_flags_and_suggestions),
        cmocka_unit_test(test_help_lists_every_knob),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
