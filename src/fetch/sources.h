// sources.h: where each downloadable data set comes from: official URLs (the
// mirrors torchvision uses), file names, sizes and published MD5 checksums,
// and the files that must exist once it is in place.
#ifndef LRSCOPE_SOURCES_H
#define LRSCOPE_SOURCES_H

#include "../util/common.h"

enum { SOURCE_MAX_FILES = 4, SOURCE_MAX_MIRRORS = 3, SOURCE_MAX_EXPECT = 8 };

typedef struct {
    const char *name;     // file name on the server and on disk
    const char *md5;      // published checksum, lower-case hex
    long long size;       // bytes, 0 where not published; a download of the official
                          // file larger than this is refused
} source_file;

typedef struct fetch_source_s {
    const char *folder;       // the dataset_info.folder this source fills
    const char *datasets;     // dataset names served, for --help ("cifar100, cifar100-coarse")
    const char *mirrors[SOURCE_MAX_MIRRORS]; // base URLs ending in '/', tried in order
    source_file files[SOURCE_MAX_FILES];
    int n_files;
    // Archives: the folder inside the archive that becomes ROOT/folder.
    // NULL: the files are kept as downloaded (MNIST's .gz files).
    const char *archive_dir;
    const char *expect[SOURCE_MAX_EXPECT]; // must be regular files in ROOT/folder
    // Bounds on unpacking the archive (unpack_limits); 0 = unpack.h's defaults.
    long long max_unpacked_bytes;
    long max_entries;
} fetch_source;

// The source that fills a data set folder, or NULL (e.g. "folder" data sets).
const fetch_source *sources_find(const char *folder);
int sources_count(void);
const fetch_source *sources_at(int i);

#endif
