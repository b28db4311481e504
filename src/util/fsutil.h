// fsutil.h: files that are never half-written: atomic replace (temp file +
// rename), folder creation, and whole-file reading.
#ifndef LRSCOPE_FSUTIL_H
#define LRSCOPE_FSUTIL_H

#include "common.h"

// Every file lrscope writes goes through here, so that a full disk, a file
// size limit or a failed rename never leaves half a file under the final
// name: the bytes go to PATH.tmp.<pid> beside it; only when every write, the
// flush, fsync and close succeeded is it renamed over PATH. On any failure
// the temporary file is removed and PATH keeps what it held before.

// Writes len bytes to path through path.tmp.<pid> and rename(2).
int fs_write_atomic(const char *path, const void *data, size_t len, lr_err *e);

// A stream onto a temporary file beside path; fs_commit closes it and
// renames it into place (or deletes it and fails if any write failed).
typedef struct {
    FILE *f;          // NULL for a file written by name (fs_begin_named)
    char path[4096];
    char tmp[4096];
} fs_atomic_file;
int fs_begin(fs_atomic_file *af, const char *path, lr_err *e);
int fs_commit(fs_atomic_file *af, lr_err *e);
void fs_abort(fs_atomic_file *af);

// For a library that opens its output by name and cannot report a write
// error (PLplot): fs_begin_named creates the empty af->tmp (so an unwritable
// folder fails here, with a message, not inside the library); the library
// writes af->tmp; fs_commit_named runs check on it, which must fail unless
// the file is whole, then fsyncs and renames it. The temporary file is
// removed on failure; fs_abort removes it too.
typedef int (*fs_check_fn)(const char *tmp, const char *path, lr_err *e);
int fs_begin_named(fs_atomic_file *af, const char *path, lr_err *e);
int fs_commit_named(fs_atomic_file *af, fs_check_fn check, lr_err *e);

// Checks for fs_commit_named: the file at tmp is a whole PNG (signature,
// then chunks whose lengths add up exactly to the file, IEND last) or a
// whole SVG (ends with "</svg>" and optional white space). Messages name path.
int fs_check_png(const char *tmp, const char *path, lr_err *e);
int fs_check_svg(const char *tmp, const char *path, lr_err *e);

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
