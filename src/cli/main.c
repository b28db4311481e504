// main.c: `lrscope COMMAND ...`: dispatches to the sub-commands.
#include "commands.h"
#include "../model/kernels.h"
#include "../study/transport_mpi.h"
#include "../train/knobs.h"
#include "../util/common.h"

#include <signal.h>
#include <string.h>

// In sanitizer builds (make DEBUG=1): fontconfig, loaded by PLplot's cairo
// drivers, keeps its font cache until exit; that is not our leak.
const char *__lsan_default_suppressions(void);
// Open MPI's libraries keep allocations until exit too (suppressed by library,
// never our own code). MPI_Finalize unloads its plugins, so only the frames
// below them (libmpi, libopen-pal...) can name the library: a sanitizer run
// under mpirun wants ASAN_OPTIONS=fast_unwind_on_malloc=0 (test_mpi sets it)
// to record those frames.
const char *__lsan_default_suppressions(void) {
    return "leak:libfontconfig.so\nleak:libmpi.so\nleak:libopen-pal.so\nleak:libopen-rte.so\nleak:libpmix.so\n"
           "leak:libevent\nleak:libhwloc.so\nleak:mca_\n";
}

static void usage(FILE *out) {
    fprintf(out,
            "lrscope %s: learning-rate studies of neural networks, fast, in C\n"
            "\n"
            "usage: lrscope COMMAND [options]\n"
            "       lrscope --version\n"
            "\n"
            "commands:\n",
            LRSCOPE_VERSION);
    for (const cli_command *c = CLI_COMMANDS; c->name; c++)
        fprintf(out, "  %-8s %s %s\n           %s\n", c->name, c->name, c->args, c->summary);
    fprintf(out, "\nrun's options (defaults and ranges in `lrscope run --help`):");
    int col = 79;
    const cli_command *run = cli_command_find("run");
    for (const cli_flag *f = run->flags; f->flag; f++) {
        char item[96];
        int n = snprintf(item, sizeof item, "%s%s%s,", f->flag, f->meta ? " " : "", f->meta ? f->meta : "");
        if (col + n + 1 > 79) {
            fputc('\n', out);
            col = 0;
        }
        fprintf(out, "%s%s", col ? " " : "", item);
        col += n + (col ? 1 : 0);
    }
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
            "`lrscope COMMAND --help` describes each command's options; `man lrscope` once\n"
            "installed (make install, or the Debian package).\n");
}

static int dispatch(int argc, char **argv);

int main(int argc, char **argv) {
    // Under mpirun, MPI starts here (transport_mpi.h); a worker rank serves
    // rank 0's study instead of reading the command line's study itself
    // (no shared file system: the study file and folder are rank 0's).
    mpi_start(&argc, &argv, LRSCOPE_COMMIT);
    int status;
    if (mpi_rank() > 0 && argc >= 2 && (!strcmp(argv[1], "run") || !strcmp(argv[1], "resume")))
        status = mpi_worker_main();
    else
        status = dispatch(argc, argv);
    mpi_stop();
    return status;
}

static int dispatch(int argc, char **argv) {
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
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        // The commit is passed by the build (-DLRSCOPE_COMMIT) when it has one.
        lr_err e;
        const kernel_table *best = kernels_select("auto", &e);
        printf("lrscope %s (commit %s)\nkernels on this CPU: %s (auto: %s)\n", LRSCOPE_VERSION,
               LRSCOPE_COMMIT, kernels_available(), best ? best->isa : "none");
        return EXIT_OK;
    }
    const cli_command *c = cli_command_find(cmd);
    if (c) return c->fn(argc - 1, argv + 1);
    const char *names[32];
    char list[256] = "";
    int n = 0;
    for (const cli_command *k = CLI_COMMANDS; k->name && n < 31; k++) {
        names[n++] = k->name;
        size_t len = strlen(list);
        snprintf(list + len, sizeof list - len, "%s%s", len ? ", " : "", k->name);
    }
    names[n] = NULL;
    const char *near = knob_closest(cmd, names);
    fprintf(stderr, "lrscope: unknown command \"%s\"; %s%s%sexpected one of %s (see lrscope --help)\n", cmd,
            near ? "did you mean " : "", near ? near : "", near ? "? " : "", list);
    return EXIT_BAD_INPUT;
}
