// fetch.h: puts a known data set in place under a data root: downloads the
// official files (resumable, checksummed), unpacks archives safely, and
// renames the result into place only when complete.
//
//   lr_err err;
//   fetch_options o = {NULL, NULL, 0};            // official URLs and MD5s
//   if (fetch_dataset("cifar10", "data", &o, &err) != 0) {
//       fprintf(stderr, "lrscope: %s\n", err.msg);  // names the URL and the fix
//       return EXIT_BAD_INPUT;
//   }
//   // data/cifar-10-batches-bin now holds data_batch_1.bin .. test_batch.bin
//
// Layout while working (all beside the destination, on the same disk):
//   ROOT/.FOLDER.download/FILE.partial   bytes received so far (resumed next time)
//   ROOT/.FOLDER.download/FILE           a download whose MD5 matched; a file
//                                        copied here by hand is checked and used
//   ROOT/.FOLDER.unpack.PID/             the archive being unpacked
// ROOT/FOLDER appears only by rename(2) once every expected file is there.
//
// Where from, first match wins: opt->url; else $LRSCOPE_MIRROR, a base URL
// to which each file name is appended ("http://host/datasets" fetches
// "http://host/datasets/cifar-10-binary.tar.gz"); else the official mirrors
// in order. A url ending in '/' is a base URL too; otherwise it is the whole
// URL of the file, for data sets that are a single archive. http, https and
// file URLs are accepted.
#ifndef LRSCOPE_FETCH_H
#define LRSCOPE_FETCH_H

#include "../util/common.h"

typedef struct {
    const char *url;   // mirror URL or base URL; NULL = $LRSCOPE_MIRROR or official
    const char *md5;   // expected MD5 of a single-file download; NULL = official
    int quiet;         // no progress or messages on stderr
} fetch_options;

// Leaves ROOT/<dataset_info.folder> complete (returns 0 at once if it already
// is), or does not create it at all. opt NULL = defaults; root_dir NULL =
// "data" (an empty one, like an empty url or md5, is refused).
int fetch_dataset(const char *name, const char *root_dir, const fetch_options *opt, lr_err *e);

// The same for a source that is not in the table (tests; new data sets
// before they are added): name is only used in messages, folder and files
// come from src.
struct fetch_source_s;
int fetch_from_source(const char *name, const struct fetch_source_s *src, const char *root_dir,
                      const fetch_options *opt, lr_err *e);

// The data sets fetch knows, with URLs and checksums, for `lrscope fetch --help`.
void fetch_print_sources(FILE *out);

#endif
