// main.c: `lrscope COMMAND ...`: dispatches to the sub-commands.
#include "commands.h"
#include "../train/knobs.h"
#include "../util/common.h"

#include <signal.h>
#include <string.h>

// In sanitizer builds (make DEBUG=1): fontconfig, loaded by PLplot's cairo
// drivers, keeps its font cache until exit; that is not our leak.
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libfontconfig.so\n"; }

static void usage(FILE *out) {
    fprintf(out,
            "lrscope %s: learning-rate studies of neural networks, fast, in C\n"
            "\n"
            "usage: lrscope COMMAND [options]\n"
            "\n"
            "commands:\n"
            "  run       train once per condition and seed and record every epoch (the\n"
            "            seed study by default: ConvNet, CIFAR-10, lr 0.1/0.01/0.001,\n"
            "            30 epochs); `lrscope run STUDY.yaml` runs a study file\n"
            "  report    rebuild the figures and report of a study folder\n"
            "  fetch     download a data set (cifar10, ...)\n"
            "  lrfind    the learning-rate range test: loss against a rising rate, and\n"
            "            suggested rates (valley, steepest, minimum/10); --seeds N shows\n"
            "            how much they move between seeds\n"
            "\n"
            "run's options (defaults and ranges in `lrscope run --help`): STUDY.yaml,\n"
            "--grid KEY=V1,V2,..., --lrs LIST, --seeds N|LIST, --out DIR, --jobs N,\n"
            "--no-report, --quiet, and one flag per knob:\n",
            LRSCOPE_VERSION);
    int col = 0;
    for (int i = 0; i < N_KNOBS; i++) {
        char flag[64], item[96];
        knob_flag(&KNOBS[i], flag, sizeof flag);
        int n = snprintf(item, sizeof item, "%s %s%s", flag, KNOBS[i].meta, i + 1 < N_KNOBS ? "," : ".");
        if (col + n + 1 > 79) {
            fputc('\n', out);
            col = 0;
        }
        fprintf(out, "%s%s", col ? " " : "", item);
        col += n + (col ? 1 : 0);
    }
    fprintf(out,
            "\n\n"
            "`lrscope COMMAND --help` describes each command's options.\n");
}

int main(int argc, char **argv) {
    // The terminal must not decide the results. With stdout or stderr a
    // closed pipe (`lrscope run | head -1`) a write fails with EPIPE instead
    // of killing the study before its report; past a file-size limit a write
    // fails with EFBIG, which the file it was for reports, instead of killing
    // it. Console writes that fail are dropped (src/study/console.c) and never
    // change the exit status; result files go through src/util/fsutil.c.
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN);
    if (argc < 2) {
        usage(stderr);
        return EXIT_BAD_INPUT;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("lrscope %s\n", LRSCOPE_VERSION);
        return EXIT_OK;
    }
    if (strcmp(cmd, "run") == 0) return cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "report") == 0) return cmd_report(argc - 1, argv + 1);
    if (strcmp(cmd, "fetch") == 0) return cmd_fetch(argc - 1, argv + 1);
    if (strcmp(cmd, "lrfind") == 0) return cmd_lrfind(argc - 1, argv + 1);
    fprintf(stderr, "lrscope: unknown command \"%s\"; expected run, report, fetch or lrfind (see lrscope --help)\n",
            cmd);
    return EXIT_BAD_INPUT;
}
