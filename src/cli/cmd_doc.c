// cmd_doc.c: `lrscope doc WHAT`: prints lrscope(1), lrscope-study(5) and the
// bash and zsh completion, generated from the command table (cli_table.c)
// and the knob table (knobs.h), so that the manual and the completion can
// never drift from --help. The build runs it; see the Makefile's man targets.
#include "commands.h"
#include "../data/dataset.h"
#include "../train/knobs.h"
#include "../util/common.h"

#include <string.h>

// roff-escapes text: backslashes, leading dots/quotes, and '-' as \- so that
// flags copy-paste as ASCII hyphens.
static void roff(FILE *o, const char *s) {
    if (*s == '.' || *s == '\'') fputs("\\&", o);
    for (; *s; s++) {
        if (*s == '\\') fputs("\\e", o);
        else if (*s == '-') fputs("\\-", o);
        else fputc(*s, o);
    }
}

static void man_flag(FILE *o, const char *flag, const char *meta, const char *help) {
    fputs(".TP\n.B ", o);
    roff(o, flag);
    if (meta) {
        fputs(" \" \"\n.I ", o);
        roff(o, meta);
    }
    fputc('\n', o);
    roff(o, help);
    fputc('\n', o);
}

static void man_knob(FILE *o, const knob *k, int as_flag) {
    char name[80], range[512], text[1024];
    if (as_flag) knob_flag(k, name, sizeof name);
    else snprintf(name, sizeof name, "%s", k->name);
    knob_range_text(k, range, sizeof range);
    snprintf(text, sizeof text, "%s (default %s%s%s%s)", k->help, k->def[0] ? k->def : "empty",
             range[0] ? "; " : "", range[0] ? (k->type == KNOB_ENUM ? "one of " : "in ") : "", range);
    man_flag(o, name, as_flag ? k->meta : NULL, text);
}

static void man_header(FILE *o, const char *name, int section, const char *what) {
    fprintf(o, ".TH %s %d \"%s\" \"lrscope %s\" \"lrscope manual\"\n.SH NAME\n%s \\- ", name, section,
            LRSCOPE_DATE, LRSCOPE_VERSION, name[0] == 'L' ? (section == 1 ? "lrscope" : "lrscope-study") : name);
    roff(o, what);
    fputc('\n', o);
}

static void man1(FILE *o) {
    man_header(o, "LRSCOPE", 1, "learning-rate studies of neural networks, in C");
    fputs(".SH SYNOPSIS\n", o);
    for (const cli_command *c = CLI_COMMANDS; c->name; c++) {
        fprintf(o, ".B lrscope %s\n", c->name);
        roff(o, c->args);
        fputs("\n.br\n", o);
    }
    fputs(".B lrscope \\-\\-version\n"
          ".SH DESCRIPTION\n"
          "lrscope trains a network once per condition of a study and per seed, records train "
          "and test loss, accuracy and macro\\-F1 every epoch, and writes the curves, results "
          "tables and a report whose every sentence is computed from the numbers.\n"
          "Its default is the classic seed study: a small ConvNet on CIFAR\\-10, 30 epochs at "
          "learning rates 0.1, 0.01 and 0.001, SGD with momentum 0.9, batch 128, StepLR(5, 0.5), "
          "crop and flip augmentation, with PyTorch's semantics.\n"
          ".SH COMMANDS\n",
          o);
    for (const cli_command *c = CLI_COMMANDS; c->name; c++) {
        fprintf(o, ".SS lrscope %s ", c->name);
        roff(o, c->args);
        fputc('\n', o);
        roff(o, c->summary);
        fputs(".\n", o);
        for (const cli_flag *f = c->flags; f->flag; f++) man_flag(o, f->flag, f->meta, f->help);
        if (c->with_knobs) {
            fputs(".PP\nEvery run knob is a flag too (and a key of a study file, see "
                  ".BR lrscope\\-study (5)):\n",
                  o);
            for (int i = 0; i < N_KNOBS; i++) man_knob(o, &KNOBS[i], 1);
        }
    }
    fputs(".SH EXIT STATUS\n"
          "0 every run finished; 1 a run diverged, was interrupted or failed; 2 bad input (a "
          "missing or damaged file, a bad flag, an output folder that cannot be written), "
          "reported before any training with a message naming the file or flag.\n"
          ".SH ENVIRONMENT\n.TP\n.B LRSCOPE_MIRROR\n"
          "a base URL every data set download is fetched from instead of the official sites.\n"
          ".SH FILES\n"
          "A study writes one folder; its files are described in\n.BR lrscope\\-files (5).\n"
          ".SH EXAMPLES\n.nf\n"
          "lrscope fetch cifar10\n"
          "lrscope run \\-\\-seeds 5\n"
          "lrscope run \\-\\-grid lr=0.1,0.01 \\-\\-grid momentum=0,0.9 \\-\\-seeds 3\n"
          "lrscope run study.yaml \\-\\-out results/my\\-study\n"
          "lrscope report results/my\\-study\n"
          ".fi\n"
          ".SH SEE ALSO\n.BR lrscope\\-study (5),\n.BR lrscope\\-files (5)\n",
          o);
}

static void man5_study(FILE *o) {
    man_header(o, "LRSCOPE-STUDY", 5, "the study file read by lrscope run");
    fputs(".SH SYNOPSIS\n.B lrscope run\n.I STUDY.yaml\n"
          ".SH DESCRIPTION\n"
          "A study file is YAML. Its top\\-level keys are\n.BR name ,\n.BR seeds ,\n"
          ".B base\nand\n.BR grid ;\n"
          "any run knob may also be given at the top level, as shorthand for\n.BR base .\n"
          ".TP\n.B name\nthe study's name, recorded in study.json.\n"
          ".TP\n.B seeds\nan integer N (seeds 1 to N) or a list of seeds; every condition runs once "
          "per seed, and seed k gives the same initial weights, data order and augmentation in "
          "every condition that shares the model and data.\n"
          ".TP\n.B base\na mapping of knobs to values; knobs not given keep their defaults.\n"
          ".TP\n.B grid\na mapping of knobs to the values they take; the conditions are the product "
          "of the axes, in the order given. An axis is a list, or\n"
          ".BI \"{logspace: [\" a \", \" b \", \" n ]}\nor\n"
          ".BI \"{linspace: [\" a \", \" b \", \" n ]}\\fR.\n"
          ".PP\nA misspelt key, a value of the wrong type or out of range, an empty grid or "
          "a duplicate condition is refused with the file, the line and the key, and nothing runs.\n"
          ".SH KNOBS\n",
          o);
    for (int i = 0; i < N_KNOBS; i++) {
        man_knob(o, &KNOBS[i], 0);
        if (!KNOBS[i].axis) fputs("Not a study axis: results never depend on it.\n", o);
    }
    fputs(".SH EXAMPLE\n.nf\n"
          "name: lr\\-vs\\-momentum\n"
          "dataset: cifar10\n"
          "epochs: 30\n"
          "seeds: 5\n"
          "base:\n"
          "  batch_size: 128\n"
          "  schedule: step\n"
          "grid:\n"
          "  lr: {logspace: [1.0e\\-4, 1.0, 9]}\n"
          "  momentum: [0.0, 0.9]\n"
          ".fi\n"
          ".SH SEE ALSO\n.BR lrscope (1),\n.BR lrscope\\-files (5)\n",
          o);
}

// The words a flag's value completes to, for bash (a compgen command).
static void bash_values(FILE *o, const char *complete) {
    if (!complete) fputs("COMPREPLY=(); return;;", o);
    else if (!strcmp(complete, "@dir")) fputs("COMPREPLY=($(compgen -d -- \"$cur\")); return;;", o);
    else if (!strcmp(complete, "@file") || !strcmp(complete, "@yaml"))
        fputs("COMPREPLY=($(compgen -f -- \"$cur\")); return;;", o);
    else if (!strcmp(complete, "@dataset"))
        fprintf(o, "COMPREPLY=($(compgen -W \"%s\" -- \"$cur\")); return;;", dataset_names());
    else {
        fputs("COMPREPLY=($(compgen -W \"", o);
        for (const char *s = complete; *s; s++) fputc(*s == '|' ? ' ' : *s, o);
        fputs("\" -- \"$cur\")); return;;", o);
    }
}

// dataset_names() separates with ", "; shells want spaces.
static void words(FILE *o, const char *list) {
    for (const char *s = list; *s; s++) {
        if (*s == ',' || *s == '|') fputc(' ', o);
        else if (!(*s == ' ' && s > list && s[-1] == ',')) fputc(*s, o);
    }
}

static void knob_complete(FILE *o, const knob *k) {
    if (k->type == KNOB_ENUM) {
        fputs("COMPREPLY=($(compgen -W \"", o);
        words(o, k->values);
        fputs("\" -- \"$cur\")); return;;", o);
    } else if (k->type == KNOB_BOOL) {
        fputs("COMPREPLY=($(compgen -W \"true false\" -- \"$cur\")); return;;", o);
    } else if (!strcmp(k->name, "dataset")) {
        fputs("COMPREPLY=($(compgen -W \"", o);
        words(o, dataset_names());
        fputs("\" -- \"$cur\")); return;;", o);
    } else if (!strcmp(k->name, "data_dir")) {
        fputs("COMPREPLY=($(compgen -d -- \"$cur\")); return;;", o);
    } else {
        fputs("COMPREPLY=(); return;;", o);
    }
}

static void bash(FILE *o) {
    fputs("# bash completion for lrscope, generated by `lrscope doc bash`\n"
          "_lrscope() {\n"
          "    local cur prev cmd\n"
          "    cur=${COMP_WORDS[COMP_CWORD]}\n"
          "    prev=${COMP_WORDS[COMP_CWORD-1]}\n"
          "    if [[ $COMP_CWORD -eq 1 ]]; then\n"
          "        COMPREPLY=($(compgen -W \"",
          o);
    for (const cli_command *c = CLI_COMMANDS; c->name; c++) fprintf(o, "%s ", c->name);
    fputs("--version --help\" -- \"$cur\"))\n        return\n    fi\n"
          "    cmd=${COMP_WORDS[1]}\n    case $cmd in\n",
          o);
    for (const cli_command *c = CLI_COMMANDS; c->name; c++) {
        fprintf(o, "    %s)\n        case $prev in\n", c->name);
        for (const cli_flag *f = c->flags; f->flag; f++) {
            if (!f->meta) continue;
            fprintf(o, "            %s) ", f->flag);
            bash_values(o, f->complete);
            fputc('\n', o);
        }
        if (c->with_knobs)
            for (int i = 0; i < N_KNOBS; i++) {
                char flag[80];
                knob_flag(&KNOBS[i], flag, sizeof flag);
                fprintf(o, "            %s) ", flag);
                knob_complete(o, &KNOBS[i]);
                fputc('\n', o);
            }
        fputs("        esac\n        if [[ $cur == -* ]]; then\n            COMPREPLY=($(compgen -W \"", o);
        for (const cli_flag *f = c->flags; f->flag; f++) fprintf(o, "%s ", f->flag);
        if (c->with_knobs)
            for (int i = 0; i < N_KNOBS; i++) {
                char flag[80];
                knob_flag(&KNOBS[i], flag, sizeof flag);
                fprintf(o, "%s ", flag);
            }
        fputs("\" -- \"$cur\"))\n        else\n            ", o);
        if (!strcmp(c->operand, "@yaml"))
            fputs("COMPREPLY=($(compgen -f -X '!*.@(yaml|yml)' -- \"$cur\") $(compgen -d -- \"$cur\"))", o);
        else if (!strcmp(c->operand, "@dir")) fputs("COMPREPLY=($(compgen -d -- \"$cur\"))", o);
        else if (!strcmp(c->operand, "@dataset")) {
            fputs("COMPREPLY=($(compgen -W \"", o);
            words(o, dataset_names());
            fputs("\" -- \"$cur\"))", o);
        } else {
            fputs("COMPREPLY=($(compgen -W \"", o);
            words(o, c->operand);
            fputs("\" -- \"$cur\"))", o);
        }
        fputs("\n        fi\n        ;;\n", o);
    }
    fputs("    esac\n}\ncomplete -F _lrscope lrscope\n", o);
}

// zsh: _arguments specs; the value after ':' is an action.
static void zsh_action(FILE *o, const char *complete) {
    if (!complete) fputs("", o);
    else if (!strcmp(complete, "@dir")) fputs("_files -/", o);
    else if (!strcmp(complete, "@file")) fputs("_files", o);
    else if (!strcmp(complete, "@yaml")) fputs("_files -g \"*.(yaml|yml)\"", o);
    else if (!strcmp(complete, "@dataset")) {
        fputs("(", o);
        words(o, dataset_names());
        fputs(")", o);
    } else {
        fputs("(", o);
        words(o, complete);
        fputs(")", o);
    }
}

// Help text inside a zsh [...] spec: no brackets or quotes.
static void zsh_text(FILE *o, const char *s) {
    for (; *s; s++) {
        if (*s == '[') fputc('(', o);
        else if (*s == ']') fputc(')', o);
        else if (*s == '\'') fputs("'\\''", o);
        else if (*s == ':') fputc(' ', o);
        else fputc(*s, o);
    }
}

static void zsh(FILE *o) {
    fputs("#compdef lrscope\n# zsh completion for lrscope, generated by `lrscope doc zsh`\n"
          "_lrscope() {\n  local -a commands\n  commands=(\n",
          o);
    for (const cli_command *c = CLI_COMMANDS; c->name; c++) {
        fprintf(o, "    '%s:", c->name);
        zsh_text(o, c->summary);
        fputs("'\n", o);
    }
    fputs("  )\n  if (( CURRENT == 2 )); then\n    _describe command commands\n    return\n  fi\n"
          "  case $words[2] in\n",
          o);
    for (const cli_command *c = CLI_COMMANDS; c->name; c++) {
        fprintf(o, "  %s)\n    shift words; (( CURRENT-- ))\n    _arguments \\\n", c->name);
        for (const cli_flag *f = c->flags; f->flag; f++) {
            fprintf(o, "      '%s[", f->flag);
            zsh_text(o, f->help);
            fputs("]", o);
            if (f->meta) {
                fprintf(o, ":%s:", f->meta);
                zsh_action(o, f->complete);
            }
            fputs("' \\\n", o);
        }
        if (c->with_knobs)
            for (int i = 0; i < N_KNOBS; i++) {
                const knob *k = &KNOBS[i];
                char flag[80];
                knob_flag(k, flag, sizeof flag);
                fprintf(o, "      '%s[", flag);
                zsh_text(o, k->help);
                fprintf(o, "]:%s:", k->meta ? k->meta : "VALUE");
                if (k->type == KNOB_ENUM) zsh_action(o, k->values);
                else if (k->type == KNOB_BOOL) fputs("(true false)", o);
                else if (!strcmp(k->name, "dataset")) zsh_action(o, "@dataset");
                else if (!strcmp(k->name, "data_dir")) zsh_action(o, "@dir");
                fputs("' \\\n", o);
            }
        fputs("      '1:", o);
        fputs(c->operand[0] == '@' ? c->operand + 1 : "what", o);
        fputs(":", o);
        zsh_action(o, c->operand);
        fputs("'\n    ;;\n", o);
    }
    fputs("  esac\n}\n_lrscope \"$@\"\n", o);
}

static void usage(FILE *o) {
    fputs("usage: lrscope doc man1|man5-study|bash|zsh\n"
          "\n"
          "Prints lrscope(1), lrscope-study(5), or the bash or zsh completion script,\n"
          "generated from the tables that also drive --help (the build installs them).\n",
          o);
}

int cmd_doc(int argc, char **argv) {
    if (argc != 2) {
        usage(stderr);
        return EXIT_BAD_INPUT;
    }
    const char *what = argv[1];
    if (!strcmp(what, "--help") || !strcmp(what, "-h")) usage(stdout);
    else if (!strcmp(what, "man1")) man1(stdout);
    else if (!strcmp(what, "man5-study")) man5_study(stdout);
    else if (!strcmp(what, "bash")) bash(stdout);
    else if (!strcmp(what, "zsh")) zsh(stdout);
    else {
        fprintf(stderr, "lrscope doc: %s: unknown; expected man1, man5-study, bash or zsh\n", what);
        return EXIT_BAD_INPUT;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "lrscope doc: cannot write standard output\n");
        return EXIT_BAD_INPUT;
    }
    return EXIT_OK;
}
