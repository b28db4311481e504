// cmd_fetch.c: `lrscope fetch NAME [--dir DIR] [--url URL] [--md5 HEX] [--quiet]`:
// downloads a known data set into DIR (default "data") with fetch_dataset.
#include "commands.h"
#include "../fetch/fetch.h"
#include "../data/dataset.h"

#include <string.h>

static void print_usage(FILE *out) {
    fprintf(out,
            "usage: lrscope fetch NAME [--dir DIR] [--url URL] [--md5 HEX] [--quiet]\n"
            "\n"
            "Downloads a data set, checks its MD5 and unpacks it into DIR/FOLDER. The\n"
            "folder appears only once complete; an interrupted download resumes from\n"
            "DIR/.FOLDER.download/FILE.partial the next time.\n"
            "\n"
            "  --dir DIR    data root (default: data)\n"
            "  --url URL    a mirror: the whole URL of the archive, or a base URL ending\n"
            "               in '/' to which each file name is appended (http, https or\n"
            "               file:// for a local copy)\n"
            "  --md5 HEX    expected MD5 of a single-archive download, for a mirror\n"
            "               whose copy differs from the official one\n"
            "  --quiet      no progress on stderr\n"
            "\n"
            "Environment: LRSCOPE_MIRROR=BASE_URL fetches every file from BASE_URL/FILE\n"
            "instead of the official sites (--url wins over it).\n"
            "\n"
            "Data sets (NAME  -> DIR/FOLDER, files, official sources):\n");
    fetch_print_sources(out);
    fprintf(out, "  folder  -> nothing to fetch: your own images in DIR/images/train/CLASS/\n"
                 "             and DIR/images/test/CLASS/ (PNG or JPEG)\n");
}

// Value of an option given as "--opt VALUE" or "--opt=VALUE"; NULL if argv[*i]
// is not opt. Sets *missing when the value is absent.
static const char *option_value(int argc, char **argv, int *i, const char *opt, int *missing) {
    size_t len = strlen(opt);
    const char *arg = argv[*i];
    if (strncmp(arg, opt, len) != 0) return NULL;
    if (arg[len] == '=') return arg + len + 1;
    if (arg[len] != '\0') return NULL;
    if (*i + 1 >= argc) {
        *missing = 1;
        return NULL;
    }
    return argv[++*i];
}

static int empty_value(const char *flag, const char *expected) {
    fprintf(stderr, "lrscope fetch: %s is empty; expected %s\n", flag, expected);
    return EXIT_BAD_INPUT;
}

int cmd_fetch(int argc, char **argv) {
    const char *name = NULL, *dir = "data";
    fetch_options opt = {NULL, NULL, 0};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *v = NULL;
        int missing = 0;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            print_usage(stdout);
            return EXIT_OK;
        } else if (strcmp(arg, "--quiet") == 0 || strcmp(arg, "-q") == 0) {
            opt.quiet = 1;
        } else if ((v = option_value(argc, argv, &i, "--dir", &missing)) != NULL) {
            if (!v[0]) return empty_value("--dir", "a folder");
            dir = v;
        } else if ((v = option_value(argc, argv, &i, "--url", &missing)) != NULL) {
            if (!v[0]) return empty_value("--url", "a URL (http://, https:// or file://)");
            opt.url = v;
        } else if ((v = option_value(argc, argv, &i, "--md5", &missing)) != NULL) {
            if (!v[0]) return empty_value("--md5", "32 hexadecimal digits");
            opt.md5 = v;
        } else if (missing) {
            fprintf(stderr, "lrscope fetch: %s needs a value\n", arg);
            return EXIT_BAD_INPUT;
        } else if (!arg[0]) {
            fprintf(stderr, "lrscope fetch: the data set name is empty; expected one of: %s\n",
                    dataset_names());
            return EXIT_BAD_INPUT;
        } else if (arg[0] == '-') {
            fprintf(stderr, "lrscope fetch: unknown option %s; see `lrscope fetch --help`\n", arg);
            return EXIT_BAD_INPUT;
        } else if (name) {
            fprintf(stderr, "lrscope fetch: one data set at a time (got \"%s\" and \"%s\")\n",
                    name, arg);
            return EXIT_BAD_INPUT;
        } else {
            name = arg;
        }
    }
    if (!name) {
        fprintf(stderr, "lrscope fetch: which data set? expected one of: %s\n\n", dataset_names());
        print_usage(stderr);
        return EXIT_BAD_INPUT;
    }
    if (!dir[0]) {
        fprintf(stderr, "lrscope fetch: --dir is empty; expected a folder\n");
        return EXIT_BAD_INPUT;
    }
    lr_err err;
    if (fetch_dataset(name, dir, &opt, &err) != 0) {
        fprintf(stderr, "lrscope fetch: %s\n", err.msg);
        return EXIT_BAD_INPUT;
    }
    return EXIT_OK;
}
