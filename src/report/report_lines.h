// report_lines.h: a growing list of report sentences, each formatted with
// printf (conditions.c, ensemble.c, search_report.c build their sentences
// this way and hand the list over as char ** with its count).
#ifndef LRSCOPE_REPORT_LINES_H
#define LRSCOPE_REPORT_LINES_H

#include <stdarg.h>
#include <stdio.h>

#include "../util/common.h"

typedef struct {
    char **lines;
    int n, cap;
} line_list;

static inline void say(line_list *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void say(line_list *l, const char *fmt, ...) {
    char buf[8192]; // two 256-byte names and the numbers fit many times over
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 8;
        l->lines = lr_realloc(l->lines, (size_t)l->cap * sizeof *l->lines);
    }
    l->lines[l->n++] = lr_strdup(buf);
}

#endif
