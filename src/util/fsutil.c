// fsutil.c: atomic file replacement, mkdir -p and whole-file reads.
#define _POSIX_C_SOURCE 200809L
#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void fs_join(char *out, size_t cap, const char *a, const char *b) {
    int n = snprintf(out, cap, "%s/%s", a, b);
    LR_ASSERT(n > 0 && (size_t)n < cap);
}

static int tmp_name(fs_atomic_file *af, const char *path, lr_err *e) {
    memset(af, 0, sizeof *af);
    if (snprintf(af->path, sizeof af->path, "%s", path) >= (int)sizeof af->path ||
        snprintf(af->tmp, sizeof af->tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof af->tmp) {
        af->tmp[0] = '\0';
        return lr_fail(e, "%s: path too long", path);
    }
    return 0;
}

int fs_begin(fs_atomic_file *af, const char *path, lr_err *e) {
    if (tmp_name(af, path, e) != 0) return -1;
    af->f = fopen(af->tmp, "wb");
    if (!af->f) {
        int saved = errno;
        remove(af->tmp); // a failed open may still have created it
        af->tmp[0] = '\0';
        return lr_fail(e, "%s: cannot write: %s", path, strerror(saved));
    }
    return 0;
}

void fs_abort(fs_atomic_file *af) {
    if (af->f) fclose(af->f);
    af->f = NULL;
    if (af->tmp[0]) remove(af->tmp);
    af->tmp[0] = '\0';
}

// Renames the finished temporary file into place; removes it if that fails.
static int install(fs_atomic_file *af, lr_err *e) {
    if (rename(af->tmp, af->path) != 0) {
        int saved = errno;
        remove(af->tmp);
        af->tmp[0] = '\0';
        return lr_fail(e, "%s: cannot rename into place: %s", af->path, strerror(saved));
    }
    af->tmp[0] = '\0';
    return 0;
}

int fs_commit(fs_atomic_file *af, lr_err *e) {
    LR_ASSERT(af->f != NULL);
    // Keep the errno of the call that failed; an earlier failed write only
    // leaves ferror set, with no errno to trust.
    const char *why = ferror(af->f) ? "a write failed (disk full or file too large?)" : NULL;
    if (!why && fflush(af->f) != 0) why = strerror(errno);
    if (!why && ferror(af->f)) why = "a write failed (disk full or file too large?)";
    if (!why && fsync(fileno(af->f)) != 0) why = strerror(errno);
    if (fclose(af->f) != 0 && !why) why = strerror(errno);
    af->f = NULL;
    if (why) {
        remove(af->tmp);
        af->tmp[0] = '\0';
        return lr_fail(e, "%s: cannot write: %s", af->path, why);
    }
    return install(af, e);
}

int fs_write_atomic(const char *path, const void *data, size_t len, lr_err *e) {
    fs_atomic_file af;
    if (fs_begin(&af, path, e) != 0) return -1;
    if (len && fwrite(data, 1, len, af.f) != len) {
        int saved = errno;
        fs_abort(&af);
        return lr_fail(e, "%s: cannot write: %s", path, strerror(saved));
    }
    return fs_commit(&af, e);
}

int fs_begin_named(fs_atomic_file *af, const char *path, lr_err *e) {
    if (fs_begin(af, path, e) != 0) return -1;
    if (fclose(af->f) != 0) {
        int saved = errno;
        af->f = NULL;
        fs_abort(af);
        return lr_fail(e, "%s: cannot write: %s", path, strerror(saved));
    }
    af->f = NULL;
    return 0;
}

int fs_commit_named(fs_atomic_file *af, fs_check_fn check, lr_err *e) {
    LR_ASSERT(af->f == NULL && af->tmp[0]);
    int fd = open(af->tmp, O_RDONLY | O_CLOEXEC);
    int rc = fd < 0 ? lr_fail(e, "%s: cannot write: %s", af->path, strerror(errno)) : 0;
    if (rc == 0) rc = check(af->tmp, af->path, e);
    if (rc == 0 && fsync(fd) != 0) rc = lr_fail(e, "%s: cannot write: %s", af->path, strerror(errno));
    if (fd >= 0) close(fd);
    if (rc != 0) {
        fs_abort(af);
        return -1;
    }
    return install(af, e);
}

// Reads up to cap bytes at offset off of f; returns the count (short at EOF).
static size_t read_at(FILE *f, long long off, void *buf, size_t cap) {
    if (fseeko(f, (off_t)off, SEEK_SET) != 0) return 0;
    return fread(buf, 1, cap, f);
}

static uint32_t be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int fs_check_png(const char *tmp, const char *path, lr_err *e) {
    static const unsigned char SIG[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    FILE *f = fopen(tmp, "rb");
    if (!f) return lr_fail(e, "%s: cannot read back: %s", path, strerror(errno));
    struct stat st;
    long long size = fstat(fileno(f), &st) == 0 ? (long long)st.st_size : -1;
    unsigned char head[8];
    const char *why = NULL;
    if (size < 8 || read_at(f, 0, head, 8) != 8 || memcmp(head, SIG, 8) != 0) {
        why = "no PNG signature";
    } else {
        // Walk the chunks: length (4), type (4), data, CRC (4); a cut file
        // ends inside one, a whole one ends exactly after IEND.
        long long off = 8;
        for (;;) {
            unsigned char ch[8];
            if (off + 12 > size || read_at(f, off, ch, 8) != 8) { why = "cut short before its IEND chunk"; break; }
            long long next = off + 12 + (long long)be32(ch);
            if (next > size) { why = "cut short inside a chunk"; break; }
            if (memcmp(ch + 4, "IEND", 4) == 0) {
                if (next != size) why = "bytes after its IEND chunk";
                break;
            }
            off = next;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (!why && bad) why = "read error";
    if (why) return lr_fail(e, "%s: the figure was not written whole (%s; disk full?)", path, why);
    return 0;
}

int fs_check_svg(const char *tmp, const char *path, lr_err *e) {
    FILE *f = fopen(tmp, "rb");
    if (!f) return lr_fail(e, "%s: cannot read back: %s", path, strerror(errno));
    struct stat st;
    long long size = fstat(fileno(f), &st) == 0 ? (long long)st.st_size : 0;
    char tail[256];
    long long from = size > (long long)sizeof tail ? size - (long long)sizeof tail : 0;
    size_t n = size > 0 ? read_at(f, from, tail, sizeof tail) : 0;
    fclose(f);
    while (n > 0 && (tail[n - 1] == '\n' || tail[n - 1] == '\r' || tail[n - 1] == ' ' || tail[n - 1] == '\t'))
        n--;
    static const char END[] = "</svg>";
    if (n < sizeof END - 1 || memcmp(tail + n - (sizeof END - 1), END, sizeof END - 1) != 0)
        return lr_fail(e, "%s: the figure was not written whole (it does not end with </svg>; disk full?)",
                       path);
    return 0;
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
