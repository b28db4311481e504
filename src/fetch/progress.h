// progress.h: a download progress display: a redrawn bar with bytes, speed
// and time left when the stream is a terminal, sparse plain lines otherwise
// (logs and CI), nothing when quiet.
#ifndef LRSCOPE_PROGRESS_H
#define LRSCOPE_PROGRESS_H

#include "../util/common.h"

typedef struct {
    FILE *out;            // NULL = quiet
    int tty;              // redraw in place with '\r'
    const char *label;    // file name shown before the bar
    long long start_bytes;// bytes already on disk when this transfer began
    double t_start;       // lr_now() at the start of this transfer
    double t_last;        // last time something was printed
    int drawn;            // a bar is on screen (needs a newline at the end)
} progress;

// out NULL makes every call a no-op.
void progress_start(progress *p, FILE *out, const char *label, long long start_bytes);
// done/total count the whole file (total <= 0 if unknown).
void progress_update(progress *p, long long done, long long total);
void progress_finish(progress *p, long long done, long long total);

// "1.5 MB", "170.1 MB" (decimal units, as curl and servers report sizes).
void progress_format_bytes(char *out, size_t cap, double bytes);

#endif
