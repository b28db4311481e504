// commands.h: the sub-commands of `lrscope`, one file each under src/cli/,
// and the table that lists them with their flags (cli_table.c). Each takes
// the arguments after its own name (argv[0] is the command name) and returns
// the process exit status (0 ok, 1 a run failed, 2 bad input).
#ifndef LRSCOPE_COMMANDS_H
#define LRSCOPE_COMMANDS_H

int cmd_run(int argc, char **argv);     // cmd_run.c: the learning-rate study
int cmd_report(int argc, char **argv);  // cmd_report.c: figures + report of a study folder
int cmd_fetch(int argc, char **argv);   // cmd_fetch.c: download a data set
int cmd_doc(int argc, char **argv);     // cmd_doc.c: generated man pages and completion

// A flag that is not a run knob. `complete` tells the shell completion what
// its value is: NULL (none), "@dir", "@file", "@yaml", "@dataset", or the
// allowed values separated by '|'.
typedef struct {
    const char *flag, *meta, *help, *complete;
} cli_flag;

typedef struct {
    const char *name;     // "run"
    const char *args;     // synopsis after the name
    const char *summary;  // one line
    int (*fn)(int argc, char **argv);
    const cli_flag *flags; // terminated by a NULL flag
    int with_knobs;       // the run knobs (knobs.h) are flags of this command too
    const char *operand;  // what its positional argument is, in cli_flag.complete's terms
} cli_command;

extern const cli_command CLI_COMMANDS[]; // terminated by a NULL name
const cli_command *cli_command_find(const char *name);

#endif
