// fsutil.c: atomic file replacement, mkdir -p and whole-file reads.
#define _POSIX_C_SOURCE 200809L
#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void fs_join(char *out, size_t cap, const char *a, const char *b) {
    int n = snprintf(out, cap, "%s/%s", a, b);
    LR_ASSERT(n > 0 && (size_t)n < cap);
}

int fs_begin(fs_atomic_file *af, const char *path, lr_err *e) {
    memset(af, 0, sizeof *af);
    if (snprintf(af->path, sizeof af->path, "%s", path) >= (int)sizeof af->path ||
        snprintf(af->tmp, sizeof af->tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof af->tmp)
        return lr_fail(e, "%s: path too long", path);
    af->f = fopen(af->tmp, "wb");
    if (!af->f) return lr_fail(e, "%s: cannot write: %s", af->tmp, strerror(errno));
    return 0;
}

void fs_abort(fs_atomic_file *af) {
    if (af->f) fclose(af->f);
    af->f = NULL;
    if (af->tmp[0]) remove(af->tmp);
}

int fs_commit(fs_atomic_file *af, lr_err *e) {
    // Keep the errno of the call that failed; an earlier failed write only
    // leaves ferror set, with no errno to trust.
    const char *why = ferror(af->f) ? "a write failed (disk full?)" : NULL;
    if (!why && fflush(af->f) != 0) why = strerror(errno);
    if (!why && fsync(fileno(af->f)) != 0) why = strerror(errno);
    if (fclose(af->f) != 0 && !why) why = strerror(errno);
    af->f = NULL;
    if (why) {
        remove(af->tmp);
        return lr_fail(e, "%s: cannot write: %s", af->path, why);
    }
    if (rename(af->tmp, af->path) != 0) {
        int saved = errno;
        remove(af->tmp);
        return lr_fail(e, "%s: cannot rename into place: %s", af->path, strerror(saved));
    }
    return 0;
}

int fs_write_atomic(const char *path, const void *data, size_t len, lr_err *e) {
    fs_atomic_file af;
    if (fs_begin(&af, path, e) != 0) return -1;
    if (len && fwrite(data, 1, len, af.f) != len) {
        fs_abort(&af);
        return lr_fail(e, "%s: write failed: %s", path, strerror(errno));
    }
    return fs_commit(&af, e);
}

int fs_is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int fs_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

int fs_dir_nonempty(const char *path) {
    DIR *d = opendir(path);
    if (!d) return 0;
    struct dirent *de;
    int found = 0;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            found = 1;
            break;
        }
    }
    closedir(d);
    return found;
}

int fs_mkdirs(const char *path, lr_err *e) {
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return lr_fail(e, "%s: path too long", path);
    for (char *p = buf + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;
            *p = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return lr_fail(e, "%s: cannot create folder: %s", buf, strerror(errno));
            if (!fs_is_dir(buf))
                return lr_fail(e, "%s: exists and is not a folder", buf);
            *p = saved;
            if (saved == '\0') break;
        }
    }
    return 0;
}

int fs_read_all(const char *path, char **out, size_t *len, lr_err *e) {
    FILE *f = fopen(path, "rb");
    if (!f) return lr_fail(e, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = lr_malloc(cap + 1);
    for (;;) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap) break;
        cap *= 2;
        char *grown = realloc(buf, cap + 1);
        if (!grown) { free(buf); fclose(f); return lr_fail(e, "%s: out of memory", path); }
        buf = grown;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) { free(buf); return lr_fail(e, "%s: read error", path); }
    buf[n] = '\0';
    *out = buf;
    if (len) *len = n;
    return 0;
}
