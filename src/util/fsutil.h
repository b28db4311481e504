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

// Reads a whole regular file; *out is owned by the caller (NUL-terminated
// extra byte). At most FS_READ_MAX bytes (fs_read_all_max for another cap);
// folders, FIFOs and devices are refused by type (fs_open_regular).
int fs_read_all(const char *path, char **out, size_t *len, lr_err *e);

// Joins a and b with a '/', into out. A path that does not fit prints a
// message naming it and exits with status 2 (never an assertion); code that
// joins paths from outside uses fs_path and returns the error instead.
void fs_join(char *out, size_t cap, const char *a, const char *b);

// ------------------------------------------------------------------------
// Input from outside (see fsutil.c): types, size caps and path lengths.

enum {
    FS_PATH_MAX = 4096,       // every path buffer of lrscope holds this much
    FS_TMP_SUFFIX_MAX = 24,   // ".tmp.<pid>" added by fs_begin, with room to spare
};
// The longest name a study writes inside its folder, with room to spare: a
// run folder (run names are under 128 characters) and a file in it
// ("weights.lrsw"), or figures/NAME.svg (figure stems under 48). An --out
// or STUDY_DIR must leave this much room (fs_check_room).
enum { FS_STUDY_NAME_MAX = 160 };
// Cap of fs_read_all: 256 MiB, far above any text, JSON, weights or image
// file lrscope reads whole.
#define FS_READ_MAX ((size_t)256 << 20)

// "regular file", "directory", "FIFO (named pipe)", "socket",
// "character device", "block device", ... for a st_mode.
const char *fs_kind(unsigned mode);
// Fails unless path is (a symlink to) a regular file, saying what it is
// instead: "PATH: is a directory, expected WHAT" (what: "a CIFAR-10 batch
// file", ...). Sets *size (if not NULL) to its length.
int fs_check_regular(const char *path, const char *what, long long *size, lr_err *e);
// Opens a regular file read-only; a FIFO, device or folder is refused by
// type before it is read (and a FIFO never blocks the open). Returns the
// fd, or -1 with a message.
int fs_open_regular(const char *path, const char *what, long long *size, lr_err *e);
FILE *fs_fopen_regular(const char *path, const char *what, long long *size, lr_err *e);
// fs_read_all with a cap of max bytes, refusing a larger file by its size.
int fs_read_all_max(const char *path, size_t max, char **out, size_t *len, lr_err *e);
// Joins a and b into out, or fails naming the path (first 200 characters).
int fs_path(char *out, size_t cap, const char *a, const char *b, lr_err *e);
// Fails (naming flag and dir) when dir is empty or too long to hold names
// of up to `longest` characters (plus a temporary-file suffix) within
// FS_PATH_MAX: checked before any work that would write there.
int fs_check_room(const char *dir, size_t longest, const char *flag, lr_err *e);

#endif
