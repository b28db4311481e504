// fsutil.h: files that are never half-written: atomic replace (temp file +
// rename), folder creation, and whole-file reading.
#ifndef LRSCOPE_FSUTIL_H
#define LRSCOPE_FSUTIL_H

#include "common.h"

// Writes len bytes to path through path.tmp.<pid> and rename(2).
int fs_write_atomic(const char *path, const void *data, size_t len, lr_err *e);

// A stream onto a temporary file beside path; fs_commit closes it and
// renames it into place (or deletes it and fails if any write failed).
typedef struct {
    FILE *f;
    char path[4096];
    char tmp[4096];
} fs_atomic_file;
int fs_begin(fs_atomic_file *af, const char *path, lr_err *e);
int fs_commit(fs_atomic_file *af, lr_err *e);
void fs_abort(fs_atomic_file *af);

// mkdir -p. Fails with a message naming the path if it can't be made.
int fs_mkdirs(const char *path, lr_err *e);
int fs_is_dir(const char *path);
int fs_exists(const char *path);
// 1 if the folder exists and holds anything besides . and ..
int fs_dir_nonempty(const char *path);

// Reads a whole file; *out is owned by the caller (NUL-terminated extra byte).
int fs_read_all(const char *path, char **out, size_t *len, lr_err *e);

// Joins a and b with a '/', into out (fails loudly if it does not fit).
void fs_join(char *out, size_t cap, const char *a, const char *b);

#endif
