// unpack.h: safe extraction of a downloaded .tar.gz with libarchive, and the
// recursive removal used to clean up after a failed one.
//
//   int bad;
//   if (unpack_archive("data/.x.download/x.tar.gz", "data/.x.unpack.123", &bad, &err) != 0)
//       unpack_remove_tree("data/.x.unpack.123");
#ifndef LRSCOPE_UNPACK_H
#define LRSCOPE_UNPACK_H

#include "../util/common.h"

// Extracts every entry of the archive under dest_dir (created if missing).
// Refuses, naming the entry: absolute paths, ".." components, symlinks whose
// target is absolute or climbs with "..", hard links to such paths, device
// files and fifos, and writing through a symlink. *archive_bad (if not NULL)
// is set to 1 when the archive itself is at fault (damaged or unsafe), 0 when
// the local disk is (no space, permissions). Partial output stays in dest_dir
// for the caller to remove.
int unpack_archive(const char *archive_path, const char *dest_dir, int *archive_bad, lr_err *e);

// Checks one archive member name; returns NULL if safe, else the reason.
const char *unpack_path_problem(const char *name);

// rm -rf without following symlinks; 0 if path is gone afterwards.
int unpack_remove_tree(const char *path);

#endif
