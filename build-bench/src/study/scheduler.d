build-bench/src/study/scheduler.o: src/study/scheduler.c \
 src/study/scheduler.h src/study/../train/train.h \
 src/study/../train/config.h src/study/../train/../util/common.h \
 src/study/../train/../data/dataset.h \
 src/study/../train/../data/../util/common.h \
 src/study/../train/../model/model.h \
 src/study/../train/../model/kernels.h \
 src/study/../train/../model/../util/common.h
src/study/scheduler.h:
src/study/../train/train.h:
src/study/../train/config.h:
src/study/../train/../util/common.h:
src/study/../train/../data/dataset.h:
src/study/../train/../data/../util/common.h:
src/study/../train/../model/model.h:
src/study/../train/../model/kernels.h:
src/study/../train/../model/../util/common.h:
