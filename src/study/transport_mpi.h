// transport_mpi.h: a study's runs across MPI ranks (Open MPI). Rank 0 owns
// the study: it expands the grid, runs the scheduler (scheduler.h) and its
// decisions, and writes every file; it trains too, one run at a time like
// every rank. The other ranks are workers: rank 0 hands each an item (the
// run's configuration as knob JSON, its state if it continues), the worker
// trains it epoch by epoch and sends back each epoch's record and the state
// after it (trainer_save), and rank 0 restores that state into a trainer of
// its own and writes checkpoint, metrics.csv, run.json and the event files
// from it exactly as in one process. So every file is the same bits whatever
// rank trained a run, and a dead rank loses nothing rank 0 wrote.
//
//   main:      mpi_start(&argc, &argv, LRSCOPE_COMMIT);   // MPI_Init only under mpirun
//              if (mpi_rank() > 0 && command is run/resume) status = mpi_worker_main();
//              ... mpi_stop();
//   study.c:   mpi_study_check(s, e)                     // data, version, kernels, before any file
//              m = mpi_study_open(s)                     // NULL in one process
//              sl = mpi_slot_claim(m); ... mpi_slot_epoch(sl, t, &hooks, ...) ...; mpi_slot_release(m, sl)
//              mpi_study_end(m, quiet)
//
// The same binary runs without mpirun exactly as before: MPI is initialised
// only when the environment says mpirun started the process
// (OMPI_COMM_WORLD_SIZE or PMIX_RANK), never as a singleton. Built with
// MPI=0 (no Open MPI), every function here is a no-op and mpi_active() is 0.
#ifndef LRSCOPE_TRANSPORT_MPI_H
#define LRSCOPE_TRANSPORT_MPI_H

#include "scheduler.h"
#include "study.h"

// ---- the process
// Initialises MPI when launched by mpirun; says so for -np 1 (one process).
void mpi_start(int *argc, char ***argv, const char *commit);
int mpi_rank(void);   // 0 without MPI
int mpi_size(void);   // 1 without MPI
int mpi_active(void); // 1 when there are workers to hand runs to
// A worker rank (rank > 0) serves rank 0 until told the study ended;
// returns its exit status.
int mpi_worker_main(void);
// Tells the workers to quit if rank 0 never did (an error before the
// study), then MPI_Finalize. Safe without MPI.
void mpi_stop(void);

// ---- a study (rank 0)
typedef struct mpi_study mpi_study;
typedef struct mpi_slot mpi_slot;

// Checks every rank before any training: the same lrscope version and
// commit, the same kernels for the runs' --isa, and every data set of the
// study present with the same sizes and CRC-32 of its bytes (each rank loads
// it from its own disk). 0 when MPI is not active. -1 with e naming the
// host and what differs: the study stops, nothing trained.
int mpi_study_check(const study *s, lr_err *e);
// The ranks as slots to hand items to; NULL when MPI is not active.
mpi_study *mpi_study_open(const study *s);
// How many runs go side by side: one per rank.
int mpi_study_ranks(const mpi_study *m);
// A free rank for the next item (rank 0's own slot among them); released
// when the item ends.
mpi_slot *mpi_slot_claim(mpi_study *m);
void mpi_slot_release(mpi_study *m, mpi_slot *sl);
int mpi_slot_remote(const mpi_slot *sl);
// The configuration of the trainer rank 0 creates for this slot: for a
// remote one it only holds the state the worker sends (its threads as the
// worker's, no loader thread).
void mpi_slot_config(const mpi_slot *sl, run_config *cfg);
// One epoch of item it, trained where the slot is: locally trainer_epoch;
// remotely the worker trains it, the hooks (on_epoch, after_epoch: the
// scheduler's decision) run here, and t receives the state after it.
// Returns the status as trainer_epoch does.
run_status mpi_slot_epoch(mpi_slot *sl, trainer *t, const train_hooks *hooks, const study_item *it,
                          const run_config *cfg);
// Ends the study on every worker; prints the traffic rank 0 handled.
void mpi_study_end(mpi_study *m, int quiet);

// CRC-32 of a data set's sizes, labels and pixels (what the data check compares).
uint32_t mpi_dataset_crc(const dataset *d);

#endif
