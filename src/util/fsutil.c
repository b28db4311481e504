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
    lr_err e;
    if (fs_path(out, cap, a, b, &e) != 0) { // callers check lengths first; never abort
        fprintf(stderr, "lrscope: %s\n", e.msg);
        exit(EXIT_BAD_INPUT);
    }
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
    return fs_read_all_max(path, FS_READ_MAX, out, len, e);
}

// ------------------------------------------------------------------------
// Input from outside: file types, size caps and path lengths. Every file
// lrscope reads is checked by type before anything reads it (a FIFO would
// block, a device never ends, a folder reads as an error), and every read
// of a whole file is bounded.

const char *fs_kind(unsigned mode) {
    switch (mode & S_IFMT) {
    case S_IFREG: return "regular file";
    case S_IFDIR: return "directory";
    case S_IFIFO: return "FIFO (named pipe)";
    case S_IFSOCK: return "socket";
    case S_IFCHR: return "character device";
    case S_IFBLK: return "block device";
    case S_IFLNK: return "symbolic link";
    default: return "special file";
    }
}

static int fail_kind(const char *path, unsigned mode, const char *what, lr_err *e) {
    return lr_fail(e, "%s: is a %s, expected %s", path, fs_kind(mode), what);
}

int fs_check_regular(const char *path, const char *what, long long *size, lr_err *e) {
    if (!path[0]) return lr_fail(e, "an empty path was given, expected %s", what);
    struct stat st;
    if (stat(path, &st) != 0)
        return lr_fail(e, "%s: cannot open: %s (expected %s)", path, lr_strerror(errno), what);
    if (!S_ISREG(st.st_mode)) return fail_kind(path, st.st_mode, what, e);
    if (size) *size = (long long)st.st_size;
    return 0;
}

int fs_open_regular(const char *path, const char *what, long long *size, lr_err *e) {
    // stat first, so no device is even opened; then open without blocking
    // (a FIFO swapped in meanwhile) and check the opened file itself.
    if (fs_check_regular(path, what, NULL, e) != 0) return -1;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return lr_fail(e, "%s: cannot open: %s", path, lr_strerror(errno));
    struct stat st;
    int rc = fstat(fd, &st) != 0 ? lr_fail(e, "%s: cannot stat: %s", path, lr_strerror(errno))
             : !S_ISREG(st.st_mode) ? fail_kind(path, st.st_mode, what, e) : 0;
    if (rc != 0) {
        close(fd);
        return -1;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0) fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    if (size) *size = (long long)st.st_size;
    return fd;
}

FILE *fs_fopen_regular(const char *path, const char *what, long long *size, lr_err *e) {
    int fd = fs_open_regular(path, what, size, e);
    if (fd < 0) return NULL;
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        lr_fail(e, "%s: cannot open: %s", path, lr_strerror(errno));
        close(fd);
    }
    return f;
}

int fs_read_all_max(const char *path, size_t max, char **out, size_t *len, lr_err *e) {
    long long size = 0;
    FILE *f = fs_fopen_regular(path, "a regular file", &size, e);
    if (!f) return -1;
    if (size < 0 || (unsigned long long)size > max) {
        fclose(f);
        return lr_fail(e, "%s: %lld bytes, more than the %zu bytes (%zu MiB) lrscope reads from "
                          "one such file; not the file expected here",
                       path, size, max, max >> 20);
    }
    // Read to the end, not just st_size bytes: the file may still grow. At
    // most max + 1 bytes are read, to tell "too large" from "exactly max".
    size_t cap = (size_t)size + 1, n = 0;
    char *buf = lr_try_malloc(cap + 1);
    if (!buf) {
        fclose(f);
        return lr_fail(e, "%s: out of memory reading %zu bytes", path, cap);
    }
    for (;;) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n > max) {
            free(buf);
            fclose(f);
            return lr_fail(e, "%s: grew past %zu bytes while being read (at most %zu MiB "
                              "accepted)", path, max, max >> 20);
        }
        if (n < cap) break;
        size_t grown_cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
        char *grown = realloc(buf, grown_cap + 1);
        if (!grown) {
            free(buf);
            fclose(f);
            return lr_fail(e, "%s: out of memory reading %zu bytes", path, grown_cap);
        }
        buf = grown;
        cap = grown_cap;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return lr_fail(e, "%s: read error", path);
    }
    buf[n] = '\0';
    *out = buf;
    if (len) *len = n;
    return 0;
}

// Shows at most the first 200 characters of a long path in a message.
static void path_excerpt(char *out, size_t cap, const char *path) {
    if (strlen(path) > 200) snprintf(out, cap, "%.200s...", path);
    else snprintf(out, cap, "%s", path);
}

int fs_path(char *out, size_t cap, const char *a, const char *b, lr_err *e) {
    size_t need = strlen(a) + 1 + strlen(b);
    if (need >= cap) {
        char shown[256];
        path_excerpt(shown, sizeof shown, a);
        if (cap) out[0] = '\0';
        return lr_fail(e, "%s/%s: path too long (%zu characters, at most %zu)", shown, b, need,
                       cap - 1);
    }
    snprintf(out, cap, "%s/%s", a, b);
    return 0;
}

int fs_check_room(const char *dir, size_t longest, const char *flag, lr_err *e) {
    if (!dir[0]) return lr_fail(e, "%s is empty; expected a folder", flag);
    size_t len = strlen(dir), need = len + 1 + longest + FS_TMP_SUFFIX_MAX;
    if (need >= FS_PATH_MAX) {
        char shown[256];
        path_excerpt(shown, sizeof shown, dir);
        return lr_fail(e, "%s %s: a path of %zu characters; the names inside it take "
                          "up to %zu more, and every path must stay under %d characters. "
                          "Choose a shorter folder",
                       flag, shown, len, longest + 1 + (size_t)FS_TMP_SUFFIX_MAX, FS_PATH_MAX);
    }
    return 0;
}
