// commands.h: the sub-commands of `lrscope`, one file each under src/cli/.
// Each takes the arguments after its own name (argv[0] is the command name)
// and returns the process exit status (0 ok, 1 a run failed, 2 bad input).
#ifndef LRSCOPE_COMMANDS_H
#define LRSCOPE_COMMANDS_H

int cmd_run(int argc, char **argv);     // cmd_run.c: the learning-rate study
int cmd_report(int argc, char **argv);  // cmd_report.c: figures + report of a study folder
int cmd_fetch(int argc, char **argv);   // cmd_fetch.c: download a data set

#endif
