// unpack.h: safe extraction of a downloaded .tar.gz with libarchive, and the
// recursive removal used to clean up after a failed one.
//
//   int bad;
//   if (unpack_archive("data/.x.download/x.tar.gz", "data/.x.unpack.123", &bad, &err) != 0)
//       unpack_remove_tree("data/.x.unpack.123");
#ifndef LRSCOPE_UNPACK_H
#define LRSCOPE_UNPACK_H

#include "../util/common.h"

// Bounds on what one archive may unpack to, checked as it is read: a
// decompression bomb stops at max_bytes, not when the disk is full.
typedef struct {
    long long max_bytes;  // file contents in all; 0 = UNPACK_MAX_BYTES
    long max_entries;     // files, folders and links; 0 = UNPACK_MAX_ENTRIES
} unpack_limits;
#define UNPACK_MAX_BYTES (4LL << 30)
#define UNPACK_MAX_ENTRIES 100000L

// Extracts every entry of the archive under dest_dir (created if missing),
// so that the result is only folders and regular files inside dest_dir.
// Refuses, naming the entry: absolute paths, ".." components, device files
// and fifos, and writing through a symlink. Links: a symlink or hard link
// whose target is absolute or climbs with ".." is refused; one whose target
// is a regular file unpacked earlier from the same archive becomes a hard
// link to it (a regular file); any other link (to a folder, to a later or
// missing entry) is refused. The archive itself must be a regular file.
// Exceeding lim (NULL = defaults) is refused. *archive_bad (if not NULL) is
// set to 1 when the archive itself is at fault (damaged, unsafe or too
// large), 0 when the local disk is (no space, permissions). Partial output
// stays in dest_dir for the caller to remove.
int unpack_archive_limited(const char *archive_path, const char *dest_dir,
                           const unpack_limits *lim, int *archive_bad, lr_err *e);
// unpack_archive_limited with the default limits.
int unpack_archive(const char *archive_path, const char *dest_dir, int *archive_bad, lr_err *e);

// Checks one archive member name; returns NULL if safe, else the reason.
const char *unpack_path_problem(const char *name);

// rm -rf without following symlinks; 0 if path is gone afterwards.
int unpack_remove_tree(const char *path);

#endif
