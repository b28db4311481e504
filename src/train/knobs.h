// knobs.h: the one table of a run's knobs (STYLE rule 12). Each row names a
// field of run_config, its type, range or allowed values, default and help;
// the table drives `lrscope run`'s flags and --help, the study file's schema
// (base: keys and grid: axes), what run.json and study.json record, and the
// report's configuration table. Adding a knob is adding a field to run_config
// and a row to KNOBS in knobs.c.
//
//     run_config c;
//     config_defaults(&c);                       // every row's default
//     const knob *k = knob_find("batch_size");   // flag --batch-size
//     lr_err e;
//     if (knob_parse(k, "256", &c, "--batch-size", &e) != 0) fprintf(stderr, "%s\n", e.msg);
//     char text[64];
//     knob_format(k, &c, text, sizeof text, KNOB_TEXT_EXACT);  // "256"
#ifndef LRSCOPE_KNOBS_H
#define LRSCOPE_KNOBS_H

#include <jansson.h>

#include "config.h"

typedef enum {
    KNOB_DOUBLE,   // double; range [lo, hi]
    KNOB_INT,      // int; range [lo, hi]
    KNOB_UINT64,   // uint64_t; range [lo, hi]
    KNOB_STRING,   // char[size]; optional check()
    KNOB_ENUM,     // char[size] holding one of `values`
    KNOB_BOOL,     // int, 0 or 1; text true/false (also 1/0, yes/no, on/off)
    KNOB_INT_LIST, // int_list; text "5,10,20"; every element in [lo, hi]
} knob_type;

typedef struct {
    const char *name;    // snake_case: the YAML and JSON key; the flag is --name with '-' for '_'
    knob_type type;
    size_t offset, size; // the field in run_config
    double lo, hi;       // numeric range, inclusive (DOUBLE, INT, UINT64, INT_LIST elements)
    const char *values;  // ENUM: the allowed values, '|'-separated, e.g. "step|constant"
    const char *def;     // default, as the text a flag would give ("" for an empty string)
    const char *meta;    // placeholder in --help: "X", "N", "NAME", ...
    const char *help;    // one line, no default (--help adds it)
    int axis;            // 1: may be a study axis (0: results never depend on it)
    // STRING: extra check; returns NULL when fine, else what was expected.
    const char *(*check)(const char *value);
} knob;

extern const knob KNOBS[];
extern const int N_KNOBS;

// The row named name (snake_case), or NULL.
const knob *knob_find(const char *name);
// The row of a flag ("--batch-size" or "batch-size"), or NULL.
const knob *knob_find_flag(const char *flag);
// "--batch-size" for batch_size.
void knob_flag(const knob *k, char *out, size_t cap);

// Edit (Damerau-Levenshtein, optimal string alignment) distance, for "did you mean".
int knob_edit_distance(const char *a, const char *b);
// The candidate closest to word, or NULL when none is near enough to be a
// likely misspelling (distance at most 1/3 of the longer, at least 2 allowed).
// Candidates: a NULL-terminated list.
const char *knob_closest(const char *word, const char *const *candidates);

// Parses text into k's field of c, checking type and range; `where` names the
// source for the message ("--momentum", "study.yaml:7: momentum"). The empty
// string is refused except for a STRING knob whose default is empty.
int knob_parse(const knob *k, const char *text, run_config *c, const char *where, lr_err *e);

enum {
    KNOB_TEXT_EXACT = 0, // the shortest text that reads back exactly (0.1, not 0.10000000000000001)
    KNOB_TEXT_SHORT = 1, // for people and folder names (%g)
};
// The field as text (a list as "5,10,20", a bool as true/false).
void knob_format(const knob *k, const run_config *c, char *out, size_t cap, int style);
// 1 if the field is the same in a and b.
int knob_equal(const knob *k, const run_config *a, const run_config *b);
// The allowed range or values as text for messages and --help: "[0, 1]", "step, constant".
void knob_range_text(const knob *k, char *out, size_t cap);

// Every knob of c as a JSON object, in table order (numbers as numbers).
json_t *knobs_to_json(const run_config *c);
// Reads an object written by knobs_to_json into c (which should hold the
// defaults first: a knob missing from obj keeps its value). An unknown key, a
// wrong type or a value out of range is an error naming `where` and the key.
int knobs_from_json(json_t *obj, run_config *c, const char *where, lr_err *e);

// Refuses `--name`, which is neither a knob's flag nor one of the command's
// own flags (`extra`, without "--"), suggesting the closest of them all.
int knobs_unknown_flag(const char *name, const char *const *extra, int n_extra, const char *command,
                       lr_err *e);

// Writes one line per knob: flag, placeholder, help, default and range.
void knobs_help(FILE *out);

#endif
