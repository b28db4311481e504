// unpack.c: extracts a tar archive (any compression libarchive reads) under a
// folder, refusing every entry that could land outside it. Names are checked
// here first, for messages that name the entry; libarchive's SECURE_SYMLINKS
// and SECURE_NODOTDOT flags stay on underneath as a second line.
#define _POSIX_C_SOURCE 200809L
#include "unpack.h"
#include "../util/fsutil.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


const char *unpack_path_problem(const char *name) {
    if (!name || !name[0]) return "has an empty name";
    if (name[0] == '/') return "has an absolute path";
    for (const char *p = name; *p;) {
        size_t len = strcspn(p, "/");
        if (len == 2 && p[0] == '.' && p[1] == '.') return "has a \"..\" component";
        p += len;
        while (*p == '/') p++;
    }
    return NULL;
}

static int fail_entry(lr_err *e, int *bad, const char *archive, const char *name,
                      const char *why) {
    *bad = 1;
    return lr_fail(e, "%s: refusing archive entry \"%s\": it %s, which could write outside "
                      "the data folder; the archive is not a genuine copy",
                   archive, name, why);
}

// Turns a link entry into a hard link to base/target, which must be a
// regular file already unpacked (so the result is a regular file, never a
// link that could point anywhere later).
static int link_to_regular(struct archive_entry *ent, const char *archive, const char *base,
                           const char *name, const char *target, const char *kind, int *bad,
                           lr_err *e) {
    char full[PATH_MAX];
    if (snprintf(full, sizeof full, "%s/%s", base, target) >= (int)sizeof full) {
        *bad = 1;
        return lr_fail(e, "%s: entry \"%s\": link target too long", archive, name);
    }
    struct stat st;
    if (lstat(full, &st) != 0 || !S_ISREG(st.st_mode)) {
        *bad = 1;
        return lr_fail(e, "%s: refusing archive entry \"%s\": it is a %s to \"%s\", which is "
                          "not a file unpacked before it; expected only files and folders",
                       archive, name, kind, target);
    }
    archive_entry_set_filetype(ent, AE_IFREG);
    archive_entry_copy_symlink(ent, NULL);
    archive_entry_copy_hardlink(ent, full);
    archive_entry_set_size(ent, 0);
    return 0;
}

// Checks an entry by type; links become hard links under base (see unpack.h).
static int check_entry(struct archive_entry *ent, const char *archive, const char *base,
                       int *bad, lr_err *e) {
    const char *name = archive_entry_pathname(ent);
    if (!name) name = archive_entry_pathname_utf8(ent);
    if (!name) {
        *bad = 1;
        return lr_fail(e, "%s: an entry's name cannot be decoded", archive);
    }
    const char *why = unpack_path_problem(name);
    if (why) return fail_entry(e, bad, archive, name, why);

    const char *hard = archive_entry_hardlink(ent);
    if (hard) {
        if (unpack_path_problem(hard)) {
            char what[PATH_MAX + 64];
            snprintf(what, sizeof what, "is a hard link to \"%s\" (%s)", hard,
                     unpack_path_problem(hard));
            return fail_entry(e, bad, archive, name, what);
        }
        char target[PATH_MAX];
        snprintf(target, sizeof target, "%s", hard);
        return link_to_regular(ent, archive, base, name, target, "hard link", bad, e);
    }
    switch (archive_entry_filetype(ent)) {
    case AE_IFREG:
    case AE_IFDIR:
        return 0;
    case AE_IFLNK: {
        // Only links that stay downward: no absolute target, no "..".
        const char *target = archive_entry_symlink(ent);
        if (!target || unpack_path_problem(target)) {
            char what[PATH_MAX + 64];
            snprintf(what, sizeof what, "is a symlink to \"%s\" (%s)", target ? target : "",
                     target ? unpack_path_problem(target) : "unreadable target");
            return fail_entry(e, bad, archive, name, what);
        }
        // Relative to the link's own folder.
        char resolved[PATH_MAX];
        const char *slash = strrchr(name, '/');
        int dir_len = slash ? (int)(slash - name) : 0;
        if (snprintf(resolved, sizeof resolved, "%.*s%s%s", dir_len, name, slash ? "/" : "",
                     target) >= (int)sizeof resolved) {
            *bad = 1;
            return lr_fail(e, "%s: entry \"%s\": link target too long", archive, name);
        }
        return link_to_regular(ent, archive, base, name, resolved, "symlink", bad, e);
    }
    default:
        *bad = 1;
        return lr_fail(e, "%s: refusing archive entry \"%s\": it is a device, fifo or socket, "
                          "expected only files and folders",
                       archive, name);
    }
}

static int too_large(const char *archive, const char *name, long long max, int *bad, lr_err *e) {
    *bad = 1;
    return lr_fail(e, "%s: unpacks to more than %lld bytes (at entry \"%s\"); not a data set "
                      "archive lrscope knows (a decompression bomb?)",
                   archive, max, name);
}

static int copy_data(struct archive *in, struct archive *out, const char *archive,
                     const char *name, long long *total, long long max, int *bad, lr_err *e) {
    for (;;) {
        const void *buf;
        size_t size;
        la_int64_t off;
        int r = archive_read_data_block(in, &buf, &size, &off);
        if (r == ARCHIVE_EOF) return 0;
        if (r < ARCHIVE_WARN) {
            *bad = 1;
            return lr_fail(e, "%s: damaged archive: %s (in entry \"%s\"); delete it and fetch again",
                           archive, lr_reason(archive_error_string(in)), name);
        }
        *total += (long long)size;
        if (*total > max) return too_large(archive, name, max, bad, e);
        if (archive_write_data_block(out, buf, size, off) < ARCHIVE_WARN)
            return lr_fail(e, "%s: cannot write \"%s\": %s", archive, name,
                           lr_reason(archive_error_string(out)));
    }
}

static int extract_all(struct archive *in, struct archive *out, const char *archive,
                       const char *base, const unpack_limits *lim, int *bad, lr_err *e) {
    long long total = 0;
    int entries = 0;
    struct archive_entry *ent;
    for (;;) {
        int r = archive_read_next_header(in, &ent);
        if (r == ARCHIVE_EOF) break;
        if (r < ARCHIVE_WARN) {
            *bad = 1;
            return lr_fail(e, "%s: damaged or not a tar archive: %s (after %d entries); "
                              "delete it and fetch again",
                           archive, lr_reason(archive_error_string(in)), entries);
        }
        if (entries >= lim->max_entries) {
            *bad = 1;
            return lr_fail(e, "%s: more than %ld entries; not a data set archive lrscope knows",
                           archive, lim->max_entries);
        }
        if (check_entry(ent, archive, base, bad, e) != 0) return -1;
        char name[PATH_MAX], full[PATH_MAX];
        const char *raw = archive_entry_pathname(ent); // check_entry saw one of the two
        snprintf(name, sizeof name, "%s", raw ? raw : archive_entry_pathname_utf8(ent));
        // The size a header announces is refused before any of it is written.
        if (archive_entry_size_is_set(ent) && archive_entry_size(ent) > lim->max_bytes - total)
            return too_large(archive, name, lim->max_bytes, bad, e);
        if (snprintf(full, sizeof full, "%s/%s", base, name) >= (int)sizeof full) {
            *bad = 1;
            return lr_fail(e, "%s: entry \"%s\": path too long", archive, name);
        }
        archive_entry_copy_pathname(ent, full);
        if (archive_write_header(out, ent) < ARCHIVE_WARN)
            return lr_fail(e, "%s: cannot extract \"%s\": %s", archive, name,
                           lr_reason(archive_error_string(out)));
        if (archive_entry_size(ent) > 0 &&
            copy_data(in, out, archive, name, &total, lim->max_bytes, bad, e) != 0)
            return -1;
        if (archive_write_finish_entry(out) < ARCHIVE_WARN)
            return lr_fail(e, "%s: cannot finish \"%s\": %s", archive, name,
                           lr_reason(archive_error_string(out)));
        entries++;
    }
    if (entries == 0) {
        *bad = 1;
        return lr_fail(e, "%s: the archive holds no files", archive);
    }
    return 0;
}

int unpack_archive_limited(const char *archive_path, const char *dest_dir,
                           const unpack_limits *lim_in, int *archive_bad, lr_err *e) {
    int bad_local = 0;
    int *bad = archive_bad ? archive_bad : &bad_local;
    *bad = 0;
    unpack_limits lim = {UNPACK_MAX_BYTES, UNPACK_MAX_ENTRIES};
    if (lim_in && lim_in->max_bytes > 0) lim.max_bytes = lim_in->max_bytes;
    if (lim_in && lim_in->max_entries > 0) lim.max_entries = lim_in->max_entries;
    // A folder, FIFO or device is refused by type before libarchive reads it.
    int fd = fs_open_regular(archive_path, "an archive file (a regular file)", NULL, e);
    if (fd < 0) return -1;
    if (fs_mkdirs(dest_dir, e) != 0) {
        close(fd);
        return -1;
    }
    // Resolved, so the prefix holds no symlink or ".." that the secure
    // flags below would reject (a data folder is often a symlink to a disk).
    char base[PATH_MAX];
    if (!realpath(dest_dir, base)) {
        close(fd);
        return lr_fail(e, "%s: cannot resolve: %s", dest_dir, lr_strerror(errno));
    }

    struct archive *in = archive_read_new();
    struct archive *out = archive_write_disk_new();
    if (!in || !out) {
        if (in) archive_read_free(in);
        if (out) archive_write_free(out);
        close(fd);
        return lr_fail(e, "%s: cannot create libarchive objects", archive_path);
    }
    archive_read_support_filter_all(in);
    archive_read_support_format_tar(in);
    archive_write_disk_set_options(out, ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                            ARCHIVE_EXTRACT_SECURE_NODOTDOT);
    int rc;
    if (archive_read_open_fd(in, fd, 1 << 16) != ARCHIVE_OK) {
        *bad = 1;
        rc = lr_fail(e, "%s: damaged or not a tar archive: %s; delete it and fetch again",
                     archive_path, lr_reason(archive_error_string(in)));
    } else {
        rc = extract_all(in, out, archive_path, base, &lim, bad, e);
    }
    if (archive_write_close(out) != ARCHIVE_OK && rc == 0)
        rc = lr_fail(e, "%s: cannot finish extraction into %s: %s", archive_path, dest_dir,
                     lr_reason(archive_error_string(out)));
    archive_write_free(out);
    archive_read_free(in);
    close(fd);
    return rc;
}

int unpack_archive(const char *archive_path, const char *dest_dir, int *archive_bad, lr_err *e) {
    return unpack_archive_limited(archive_path, dest_dir, NULL, archive_bad, e);
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) != 0 && errno != ENOENT ? -1 : 0;
}

int unpack_remove_tree(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return errno == ENOENT ? 0 : -1;
    if (nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) != 0) return -1;
    return lstat(path, &st) != 0 && errno == ENOENT ? 0 : -1;
}
