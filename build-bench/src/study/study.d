build-bench/src/study/study.o: src/study/study.c src/study/study.h \
 src/study/../train/knobs.h src/study/../train/config.h \
 src/study/../train/../util/common.h src/study/../train/lrfind.h \
 src/study/../train/../data/dataset.h \
 src/study/../train/../data/../util/common.h src/study/run_files.h \
 src/study/../train/train.h src/study/../train/../model/model.h \
 src/study/../train/../model/kernels.h \
 src/study/../train/../model/../util/common.h src/study/../search/space.h \
 src/study/../search/../train/knobs.h src/study/../search/search.h \
 src/study/../search/prune.h src/study/../search/trial.h \
 src/study/../search/space.h src/study/console.h src/study/scheduler.h \
 src/study/search_run.h src/study/../train/checkpoint.h \
 src/study/../train/train.h src/study/study_ensemble.h \
 src/study/../util/common.h src/study/weights.h \
 src/study/../data/dataset.h src/study/../model/model.h \
 src/study/../data/augment.h src/study/../data/dataset.h \
 src/study/../data/loader.h src/study/../report/report.h \
 src/study/../report/../train/knobs.h \
 src/study/../report/../util/common.h src/study/../report/tfevents.h \
 src/study/../report/../train/train.h src/study/../util/fsutil.h \
 src/study/../util/common.h
src/study/study.h:
src/study/../train/knobs.h:
src/study/../train/config.h:
src/study/../train/../util/common.h:
src/study/../train/lrfind.h:
src/study/../train/../data/dataset.h:
src/study/../train/../data/../util/common.h:
src/study/run_files.h:
src/study/../train/train.h:
src/study/../train/../model/model.h:
src/study/../train/../model/kernels.h:
src/study/../train/../model/../util/common.h:
src/study/../search/space.h:
src/study/../search/../train/knobs.h:
src/study/../search/search.h:
src/study/../search/prune.h:
src/study/../search/trial.h:
src/study/../search/space.h:
src/study/console.h:
src/study/scheduler.h:
src/study/search_run.h:
src/study/../train/checkpoint.h:
src/study/../train/train.h:
src/study/study_ensemble.h:
src/study/../util/common.h:
src/study/weights.h:
src/study/../data/dataset.h:
src/study/../model/model.h:
src/study/../data/augment.h:
src/study/../data/dataset.h:
src/study/../data/loader.h:
src/study/../report/report.h:
src/study/../report/../train/knobs.h:
src/study/../report/../util/common.h:
src/study/../report/tfevents.h:
src/study/../report/../train/train.h:
src/study/../util/fsutil.h:
src/study/../util/common.h:
