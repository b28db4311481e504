build-bench/src/study/run_files.o: src/study/run_files.c \
 src/study/run_files.h src/study/../train/knobs.h \
 src/study/../train/config.h src/study/../train/../util/common.h \
 src/study/../train/train.h src/study/../train/../data/dataset.h \
 src/study/../train/../data/../util/common.h \
 src/study/../train/../model/model.h \
 src/study/../train/../model/kernels.h \
 src/study/../train/../model/../util/common.h src/study/../search/space.h \
 src/study/../search/../train/knobs.h src/study/../train/metrics.h \
 src/study/../util/fsutil.h src/study/../util/common.h
src/study/run_files.h:
src/study/../train/knobs.h:
src/study/../train/config.h:
src/study/../train/../util/common.h:
src/study/../train/train.h:
src/study/../train/../data/dataset.h:
src/study/../train/../data/../util/common.h:
src/study/../train/../model/model.h:
src/study/../train/../model/kernels.h:
src/study/../train/../model/../util/common.h:
src/study/../search/space.h:
src/study/../search/../train/knobs.h:
src/study/../train/metrics.h:
src/study/../util/fsutil.h:
src/study/../util/common.h:
