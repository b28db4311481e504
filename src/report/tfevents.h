// tfevents.h: TensorBoard event files, written directly: TFRecord framing
// with masked CRC-32C around the few fields of tensorflow.Event that scalars
// and the HParams plugin need (tensorboard/compat/proto/event.proto,
// summary.proto; tensorboard/plugins/hparams/api.proto, plugin_data.proto).
//
//     // at study start, in the study's TensorBoard folder: the grid
//     tfevents_study_write(dir, axes, n_axes, runs, n_runs, tfevents_wall_now(), &e);
//     // after every epoch and at the end of a run, in its folder
//     tfevents_run_write(run_dir, &cfg, axes, n_axes, &result, start_wall, &e);
//
// A run's file is rebuilt whole from its records each time and replaces the
// old one atomically (fsutil.h). Its name and bytes are a function of the
// records alone, apart from the wall_time fields (derived from start_wall and
// the epochs' recorded seconds): each rewrite extends the previous bytes, as
// an appending writer would, so a reader that reopens the file by name sees
// the new events after the ones it read. What a run's file holds, in order:
//   file_version "brain.Event:2";
//   HParams session_start_info: the run's axis values and seed;
//   per epoch e (from 1): "lr" for each optimiser step of the epoch (step =
//     global step from 0, the schedule replayed, schedule.h), then
//     train/loss, train/acc, train/f1 and, in evaluated epochs, test/loss,
//     test/acc, test/f1 (step = e);
//   when the run has ended (finished, diverged, failed): session_end_info.
// The study's file holds file_version and the HParams experiment (the axes
// and seed as hparams, their values as discrete domains, the six metrics).
#ifndef LRSCOPE_TFEVENTS_H
#define LRSCOPE_TFEVENTS_H

#include "../train/knobs.h"
#include "../train/train.h"

// Every event file is named this, plus "." and 8 hex digits of a hash of the
// run's folder inside the study ("" for the study's own file). TensorBoard
// takes any file whose name contains "tfevents".
#define TFEVENTS_PREFIX "events.out.tfevents.0000000000.lrscope"
enum { TFEVENTS_NAME_LEN = sizeof TFEVENTS_PREFIX + 8 };

// Tags of the scalars (also the HParams metrics).
#define TFEVENTS_TAG_LR "lr"
extern const char *const TFEVENTS_METRIC_TAGS[6]; // train/loss, train/acc, train/f1, test/...

// A growing byte buffer (lr_realloc: never NULL).
typedef struct {
    uint8_t *p;
    size_t n, cap;
} tfevents_buf;
void tfevents_buf_free(tfevents_buf *b);

// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78); "123456789" gives 0xE3069283.
uint32_t tfevents_crc32c(const void *data, size_t n);
// TFRecord's mask: ((crc >> 15) | (crc << 17)) + 0xa282ead8.
uint32_t tfevents_crc_mask(uint32_t crc);

// Appends one TFRecord: length (uint64 LE), masked CRC of the length, data,
// masked CRC of the data.
void tfevents_put_record(tfevents_buf *b, const void *data, size_t n);
// Appends one framed Event each.
void tfevents_put_file_version(tfevents_buf *b, double wall_time);
void tfevents_put_scalar(tfevents_buf *b, double wall_time, int64_t step, const char *tag, float value);

// Wall-clock seconds since the epoch (the events' wall_time).
double tfevents_wall_now(void);

// "DIR/events.out.tfevents.0000000000.lrscope.<hash of rel>"
void tfevents_file_path(char *out, size_t cap, const char *dir, const char *rel);

// The folder of a study's TensorBoard files: study_dir itself, or with
// --tensorboard ROOT, ROOT/<study name> (the name as given, else study_dir's
// last component, '/' made '_'). Fails naming --tensorboard if it is too long.
int tfevents_study_dir(char *out, size_t cap, const char *study_dir, const char *tb_root, const char *study_name,
                       lr_err *e);

// Writes the study's event file (HParams experiment) into dir, made if needed.
int tfevents_study_write(const char *dir, const knob *const *axes, int n_axes, const run_config *runs, int n_runs,
                         double wall_time, lr_err *e);

// Writes run cfg's event file into dir (made if needed) from r's records.
// start_wall: when the run started (tfevents_wall_now()).
int tfevents_run_write(const char *dir, const run_config *cfg, const knob *const *axes, int n_axes,
                       const run_result *r, double start_wall, lr_err *e);

#endif
