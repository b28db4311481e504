build-bench/src/cli/cmd_run.o: src/cli/cmd_run.c src/cli/commands.h \
 src/cli/../train/lrfind.h src/cli/../train/config.h \
 src/cli/../train/../util/common.h src/cli/../train/../data/dataset.h \
 src/cli/../train/../data/../util/common.h src/cli/../model/model.h \
 src/cli/../model/kernels.h src/cli/../model/../util/common.h \
 src/cli/../study/weights.h src/cli/../study/../data/dataset.h \
 src/cli/../study/../model/model.h src/cli/../data/dataset.h \
 src/cli/../fetch/fetch.h src/cli/../fetch/../util/common.h \
 src/cli/../model/kernels.h src/cli/../report/tfevents.h \
 src/cli/../report/../train/knobs.h src/cli/../report/../train/config.h \
 src/cli/../report/../train/train.h \
 src/cli/../report/../train/../data/dataset.h \
 src/cli/../report/../train/../model/model.h \
 src/cli/../study/search_run.h src/cli/../study/scheduler.h \
 src/cli/../study/../train/train.h src/cli/../study/study.h \
 src/cli/../study/../train/knobs.h src/cli/../study/../train/lrfind.h \
 src/cli/../study/run_files.h src/cli/../study/../search/space.h \
 src/cli/../study/../search/../train/knobs.h \
 src/cli/../study/../search/search.h src/cli/../study/../search/prune.h \
 src/cli/../study/../search/trial.h src/cli/../study/../search/space.h \
 src/cli/../study/study.h src/cli/../study/study_file.h \
 src/cli/../study/grid.h src/cli/../train/knobs.h \
 src/cli/../train/optim.h src/cli/../train/schedule.h \
 src/cli/../train/train.h src/cli/../util/fsutil.h \
 src/cli/../util/common.h
src/cli/commands.h:
src/cli/../train/lrfind.h:
src/cli/../train/config.h:
src/cli/../train/../util/common.h:
src/cli/../train/../data/dataset.h:
src/cli/../train/../data/../util/common.h:
src/cli/../model/model.h:
src/cli/../model/kernels.h:
src/cli/../model/../util/common.h:
src/cli/../study/weights.h:
src/cli/../study/../data/dataset.h:
src/cli/../study/../model/model.h:
src/cli/../data/dataset.h:
src/cli/../fetch/fetch.h:
src/cli/../fetch/../util/common.h:
src/cli/../model/kernels.h:
src/cli/../report/tfevents.h:
src/cli/../report/../train/knobs.h:
src/cli/../report/../train/config.h:
src/cli/../report/../train/train.h:
src/cli/../report/../train/../data/dataset.h:
src/cli/../report/../train/../model/model.h:
src/cli/../study/search_run.h:
src/cli/../study/scheduler.h:
src/cli/../study/../train/train.h:
src/cli/../study/study.h:
src/cli/../study/../train/knobs.h:
src/cli/../study/../train/lrfind.h:
src/cli/../study/run_files.h:
src/cli/../study/../search/space.h:
src/cli/../study/../search/../train/knobs.h:
src/cli/../study/../search/search.h:
src/cli/../study/../search/prune.h:
src/cli/../study/../search/trial.h:
src/cli/../study/../search/space.h:
src/cli/../study/study.h:
src/cli/../study/study_file.h:
src/cli/../study/grid.h:
src/cli/../train/knobs.h:
src/cli/../train/optim.h:
src/cli/../train/schedule.h:
src/cli/../train/train.h:
src/cli/../util/fsutil.h:
src/cli/../util/common.h:
