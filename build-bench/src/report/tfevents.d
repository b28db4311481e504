build-bench/src/report/tfevents.o: src/report/tfevents.c \
 src/report/tfevents.h src/report/../train/knobs.h \
 src/report/../train/config.h src/report/../train/../util/common.h \
 src/report/../train/train.h src/report/../train/../data/dataset.h \
 src/report/../train/../data/../util/common.h \
 src/report/../train/../model/model.h \
 src/report/../train/../model/kernels.h \
 src/report/../train/../model/../util/common.h \
 src/report/../train/schedule.h src/report/../util/fsutil.h \
 src/report/../util/common.h
src/report/tfevents.h:
src/report/../train/knobs.h:
src/report/../train/config.h:
src/report/../train/../util/common.h:
src/report/../train/train.h:
src/report/../train/../data/dataset.h:
src/report/../train/../data/../util/common.h:
src/report/../train/../model/model.h:
src/report/../train/../model/kernels.h:
src/report/../train/../model/../util/common.h:
src/report/../train/schedule.h:
src/report/../util/fsutil.h:
src/report/../util/common.h:
