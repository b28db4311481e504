// download.h: one URL into one local file with libcurl, resumable: bytes go
// to a ".partial" file that a later call (or an automatic retry after a
// dropped connection) continues with an HTTP Range request.
//
//   download_options o = {.quiet = 0, .expected_size = 170052171};
//   long long resumed;
//   if (download_file(url, "data/x.tar.gz.partial", &o, &resumed, &err) != 0) ...
//   // then check the checksum and rename the partial file into place
#ifndef LRSCOPE_DOWNLOAD_H
#define LRSCOPE_DOWNLOAD_H

#include "../util/common.h"

// The most bytes a download may have when its size is not known: far above
// any data set lrscope fetches (CIFAR-100's archive is 161 MB).
#define DOWNLOAD_MAX_BYTES (1LL << 30)

typedef struct {
    int quiet;                // no progress bar or messages on stderr
    long long expected_size;  // for the bar when the server sends no length; 0 unknown
    long long max_size;       // refuse a file larger than this (announced, sent, or on
                              // disk for file://); 0 = DOWNLOAD_MAX_BYTES
} download_options;

// Fetches url into partial_path, continuing after the bytes already there.
// A server that ignores Range gets the file restarted from byte 0; a 416
// answer to a resume (file already whole) counts as done. *resumed_from
// (if not NULL) receives the bytes that were on disk before, so a caller
// whose checksum then fails can start over. Only http, https and file URLs;
// a file:// URL must name a regular file (not a FIFO or /dev/zero). A
// server announcing or sending more than opt->max_size is refused.
int download_file(const char *url, const char *partial_path, const download_options *opt,
                  long long *resumed_from, lr_err *e);

#endif
