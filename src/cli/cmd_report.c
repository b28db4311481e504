// cmd_report.c: `lrscope report STUDY_DIR`: rebuilds a study's figures,
// report.md and report.html from the files in its folder.
#include "commands.h"

#include <string.h>

#include "../report/report.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: lrscope report STUDY_DIR\n"
            "\n"
            "Rebuilds STUDY_DIR/figures/*.png and *.svg, STUDY_DIR/report.md and a\n"
            "self-contained STUDY_DIR/report.html from the study's files alone\n"
            "(study.json, each run's metrics.csv and run.json). Runs that never\n"
            "started, or stopped part-way, are reported as far as they got.\n"
            "\n"
            "  --help   show this message\n");
}

int cmd_report(int argc, char **argv) {
    const char *dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return EXIT_OK;
        }
        if (!argv[i][0]) {
            fprintf(stderr, "lrscope: report: STUDY_DIR is empty; expected a study folder\n");
            return EXIT_BAD_INPUT;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "lrscope: report: unknown option '%s' (expected STUDY_DIR or --help)\n",
                    argv[i]);
            return EXIT_BAD_INPUT;
        }
        if (dir) {
            fprintf(stderr, "lrscope: report: expected one STUDY_DIR, got '%s' and '%s'\n",
                    dir, argv[i]);
            return EXIT_BAD_INPUT;
        }
        dir = argv[i];
    }
    if (!dir) {
        fprintf(stderr, "lrscope: report: expected a STUDY_DIR (see `lrscope report --help`)\n");
        return EXIT_BAD_INPUT;
    }
    lr_err e = {{0}};
    if (report_build(dir, &e) != 0) {
        fprintf(stderr, "lrscope: %s\n", e.msg);
        return EXIT_BAD_INPUT;
    }
    printf("wrote %s/report.md, %s/report.html and %s/figures/\n", dir, dir, dir);
    return EXIT_OK;
}
