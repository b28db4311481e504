// test_docs.c: the generated manual pages and shell completion (lrscope doc,
// make docs, make install/uninstall): lint-clean, complete (every command,
// flag and knob appears), completing what they should, installed and removed
// exactly.
#include "test_util.h"
#include "../src/cli/commands.h"
#include "../src/train/knobs.h"

#include <sys/stat.h>
#include <sys/wait.h>

static const char *bin(void) {
    const char *b = getenv("LRSCOPE_BIN");
    return b && *b ? b : "build/lrscope";
}

// Runs a shell command; returns its exit status and its stdout+stderr in *out.
static int sh(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int sh(char **out, const char *fmt, ...) {
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    FILE *p = popen(cmd, "r");
    if (!p) fail_msg("cannot run %s", cmd);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += n;
        if (len + 1 == cap) buf = realloc(buf, cap *= 2);
    }
    buf[len] = '\0';
    int rc = pclose(p);
    if (out) *out = buf;
    else free(buf);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// A flag as roff writes it: every '-' as "\-".
static void roff_text(char *out, size_t cap, const char *s) {
    size_t n = 0;
    for (; *s && n + 3 < cap; s++) {
        if (*s == '-') out[n++] = '\\';
        out[n++] = *s;
    }
    out[n] = '\0';
}

static void assert_contains(const char *text, const char *needle, const char *what) {
    if (!strstr(text, needle)) fail_msg("%s does not mention \"%s\"", what, needle);
}

// mandoc -T lint finds nothing at warning level in either generated page.
static void test_man_pages_lint_clean(void **state) {
    (void)state;
    const char *pages[] = {"man1", "man5-study"};
    for (int i = 0; i < 2; i++) {
        char *out;
        int rc = sh(&out, "'%s' doc %s > /tmp/lrscope-doc-%d.man && mandoc -T lint -W warning "
                          "/tmp/lrscope-doc-%d.man 2>&1", bin(), pages[i], (int)getpid(), (int)getpid());
        if (rc != 0 || out[0]) fail_msg("lrscope doc %s: mandoc -T lint (rc %d):\n%s", pages[i], rc, out);
        free(out);
        // and man(1) renders it with a NAME section
        rc = sh(&out, "MANWIDTH=80 man -l /tmp/lrscope-doc-%d.man 2>/dev/null", (int)getpid());
        assert_int_equal(rc, 0);
        assert_contains(out, "NAME", pages[i]);
        free(out);
    }
    char path[64];
    snprintf(path, sizeof path, "/tmp/lrscope-doc-%d.man", (int)getpid());
    unlink(path);
}

// Every command, every command flag and every knob is in lrscope(1); every
// knob with its default is in lrscope-study(5).
static void test_man_pages_complete(void **state) {
    (void)state;
    char *man1, *man5;
    assert_int_equal(sh(&man1, "'%s' doc man1", bin()), 0);
    assert_int_equal(sh(&man5, "'%s' doc man5-study", bin()), 0);
    for (const cli_command *c = CLI_COMMANDS; c->name; c++) {
        char want[128];
        snprintf(want, sizeof want, ".SS lrscope %s", c->name);
        assert_contains(man1, want, "lrscope(1)");
        for (const cli_flag *f = c->flags; f->flag; f++) {
            char roff[128];
            roff_text(roff, sizeof roff, f->flag);
            assert_contains(man1, roff, "lrscope(1)");
        }
    }
    for (int i = 0; i < N_KNOBS; i++) {
        char flag[80], roff[200];
        knob_flag(&KNOBS[i], flag, sizeof flag);
        roff_text(roff, sizeof roff, flag);
        assert_contains(man1, roff, "lrscope(1)");
        char key[200];
        snprintf(key, sizeof key, ".B %s\n", KNOBS[i].name);
        // knob names hold '_' only, so the roff text is the name itself
        assert_contains(man5, key, "lrscope-study(5)");
    }
    free(man1);
    free(man5);
}

// Completes a command line with the generated bash script; returns COMPREPLY
// joined by spaces.
static char *bash_complete(const char *words, int cword) {
    char *out;
    int rc = sh(&out,
                "'%s' doc bash > /tmp/lrscope-comp-%d.bash && bash -c 'source /tmp/lrscope-comp-%d.bash; "
                "COMP_WORDS=(%s); COMP_CWORD=%d; _lrscope; echo \"${COMPREPLY[*]}\"' 2>&1",
                bin(), (int)getpid(), (int)getpid(), words, cword);
    if (rc != 0) fail_msg("bash completion of \"%s\" failed (rc %d): %s", words, rc, out);
    return out;
}

static void test_bash_completion(void **state) {
    (void)state;
    char *out;
    assert_int_equal(sh(&out, "'%s' doc bash | bash -n 2>&1", bin()), 0);
    free(out);
    out = bash_complete("lrscope r", 1);
    assert_contains(out, "run", "commands");
    assert_contains(out, "report", "commands");
    free(out);
    // every knob's flag completes from its prefix
    for (int i = 0; i < N_KNOBS; i++) {
        char flag[80], words[200];
        knob_flag(&KNOBS[i], flag, sizeof flag);
        snprintf(words, sizeof words, "lrscope run %.*s", (int)strlen(flag) - 1, flag);
        out = bash_complete(words, 2);
        assert_contains(out, flag, words);
        free(out);
    }
    // an enum knob completes to its values
    for (int i = 0; i < N_KNOBS; i++) {
        if (KNOBS[i].type != KNOB_ENUM) continue;
        char flag[80], words[200], first[64];
        knob_flag(&KNOBS[i], flag, sizeof flag);
        snprintf(words, sizeof words, "lrscope run %s ''", flag);
        out = bash_complete(words, 3);
        snprintf(first, sizeof first, "%.*s", (int)strcspn(KNOBS[i].values, "|"), KNOBS[i].values);
        assert_contains(out, first, words);
        free(out);
    }
    out = bash_complete("lrscope fetch cifar", 2);
    assert_contains(out, "cifar10", "fetch's data sets");
    assert_contains(out, "cifar100", "fetch's data sets");
    free(out);
    char path[64];
    snprintf(path, sizeof path, "/tmp/lrscope-comp-%d.bash", (int)getpid());
    unlink(path);
}

static void test_zsh_completion(void **state) {
    (void)state;
    char *out;
    int rc = sh(&out, "'%s' doc zsh > /tmp/lrscope-z-%d && zsh -n /tmp/lrscope-z-%d 2>&1; rc=$?; "
                      "rm -f /tmp/lrscope-z-%d; exit $rc",
                bin(), (int)getpid(), (int)getpid(), (int)getpid());
    if (rc != 0) fail_msg("zsh -n rejects the completion: %s", out);
    free(out);
    assert_int_equal(sh(&out, "'%s' doc zsh", bin()), 0);
    assert_contains(out, "#compdef lrscope", "zsh completion");
    for (int i = 0; i < N_KNOBS; i++) {
        char flag[80], spec[100];
        knob_flag(&KNOBS[i], flag, sizeof flag);
        snprintf(spec, sizeof spec, "'%s[", flag);
        assert_contains(out, spec, "zsh completion");
    }
    free(out);
}

static void test_doc_bad_input(void **state) {
    (void)state;
    char *out;
    assert_int_equal(sh(&out, "'%s' doc nonsense 2>&1", bin()), 2);
    assert_contains(out, "nonsense", "the refusal");
    free(out);
    assert_int_equal(sh(&out, "'%s' doc 2>&1", bin()), 2);
    free(out);
    // a closed stdout is an error, not a truncated page reported as success
    assert_int_equal(sh(&out, "'%s' doc man1 > /dev/full 2>&1", bin()), 2);
    free(out);
}

// --version names the version, the commit and the kernels.
static void test_version(void **state) {
    (void)state;
    char *out;
    assert_int_equal(sh(&out, "'%s' --version", bin()), 0);
    assert_contains(out, "lrscope " LRSCOPE_VERSION " (commit ", "--version");
    assert_contains(out, "kernels on this CPU: scalar", "--version");
    free(out);
}

// make install into a staging DESTDIR puts exactly the six files there, they
// work from there, and make uninstall removes exactly them.
static void test_install_uninstall(void **state) {
    (void)state;
    char dir[4096], *out;
    test_mkdtemp(dir, sizeof dir);
    const char *build = getenv("LRSCOPE_BUILD");
    if (!build || !*build) build = "build";
    const char *debug = strstr(build, "debug") ? "DEBUG=1" : "";
    int rc = sh(&out, "make --no-print-directory -s %s BUILD='%s' install DESTDIR='%s' PREFIX=/opt/lr 2>&1",
                debug, build, dir);
    if (rc != 0) fail_msg("make install failed (rc %d): %s", rc, out);
    free(out);
    const char *files[] = {"/opt/lr/bin/lrscope", "/opt/lr/share/man/man1/lrscope.1",
                           "/opt/lr/share/man/man5/lrscope-study.5", "/opt/lr/share/man/man5/lrscope-files.5",
                           "/opt/lr/share/bash-completion/completions/lrscope",
                           "/opt/lr/share/zsh/site-functions/_lrscope"};
    for (int i = 0; i < 6; i++) {
        char p[8192];
        snprintf(p, sizeof p, "%s%s", dir, files[i]);
        struct stat st;
        if (stat(p, &st) != 0 || st.st_size == 0) fail_msg("make install did not install %s", files[i]);
    }
    assert_int_equal(sh(&out, "find '%s' -type f | wc -l", dir), 0);
    assert_int_equal(atoi(out), 6);
    free(out);
    assert_int_equal(sh(&out, "cd / && '%s/opt/lr/bin/lrscope' --version", dir), 0);
    free(out);
    rc = sh(&out, "make --no-print-directory -s %s BUILD='%s' uninstall DESTDIR='%s' PREFIX=/opt/lr 2>&1",
            debug, build, dir);
    if (rc != 0) fail_msg("make uninstall failed (rc %d): %s", rc, out);
    free(out);
    assert_int_equal(sh(&out, "find '%s' -type f | wc -l", dir), 0);
    assert_int_equal(atoi(out), 0);
    free(out);
    test_rmtree(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_man_pages_lint_clean),
        cmocka_unit_test(test_man_pages_complete),
        cmocka_unit_test(test_bash_completion),
        cmocka_unit_test(test_zsh_completion),
        cmocka_unit_test(test_doc_bad_input),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_install_uninstall),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
