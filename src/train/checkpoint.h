// checkpoint.h: a run's state on disk, written after every epoch so that
// `lrscope resume` continues the run bit for bit (train.h, the trainer).
//
//   checkpoint_write(run_dir, t, &cfg, &err);          // after an epoch
//   ...
//   trainer *t = trainer_create(&cfg, ...);
//   int k = checkpoint_restore(run_dir, t, &cfg, stderr);  // k epochs restored, 0: from scratch
//
// The file (little-endian):
//   0  "LRSCCKPT"             magic
//   8  u32 version (1)        12 u32 header bytes (48)
//   16 u64 configuration id   (checkpoint_config_id: every knob but threads and
//                              prefetch, and the run's folder)
//   24 u64 parameters         32 u32 classes          36 u32 epochs done
//   40 u64 payload bytes      48 payload (trainer_save)
//   end u32 CRC-32 of everything before it
// The payload holds the model's whole state, its parameters followed by its
// buffers (batch norm's running statistics; none for models without bn, so
// their files are byte for byte those of earlier lrscopes, which could not
// train bn: the version stays 1). Its length is checked against the model.
// Each write keeps the one before as checkpoint.prev.lrsc (rename, then an
// atomic write of the new file): a newest file that is missing, truncated or
// corrupt falls back to the previous one, and the fallback is said on the log.
#ifndef LRSCOPE_CHECKPOINT_H
#define LRSCOPE_CHECKPOINT_H

#include <stdio.h>

#include "train.h"

#define CHECKPOINT_FILE "checkpoint.lrsc"
#define CHECKPOINT_PREV_FILE "checkpoint.prev.lrsc"
enum { CHECKPOINT_VERSION = 1, CHECKPOINT_HEADER = 48 };

// A 64-bit identity of the run's configuration: every knob except threads
// and prefetch (which never change a result), and the run's folder name.
uint64_t checkpoint_config_id(const run_config *cfg);

// The whole file's bytes for t's state (*out owned by the caller).
void checkpoint_encode(const trainer *t, const run_config *cfg, uint8_t **out, size_t *len);
// Checks a file's bytes (header, sizes, checksum, configuration) and restores
// them into t, a fresh trainer of cfg; -1 with e saying what is wrong, t untouched.
int checkpoint_decode(const uint8_t *p, size_t len, trainer *t, const run_config *cfg, lr_err *e);

// Rotates run_dir's checkpoint to the previous one and writes t's state.
int checkpoint_write(const char *run_dir, const trainer *t, const run_config *cfg, lr_err *e);
// Reads one checkpoint file into t; -1 with e naming the file.
int checkpoint_read(const char *path, trainer *t, const run_config *cfg, lr_err *e);
// Restores t from run_dir's newest good checkpoint, else the previous one.
// Returns the epochs restored, or 0 when the run starts from scratch. Every
// file refused and every fallback is said on log (NULL: silent); a folder
// with no checkpoint at all starts from scratch silently.
int checkpoint_restore(const char *run_dir, trainer *t, const run_config *cfg, FILE *log);

#endif
