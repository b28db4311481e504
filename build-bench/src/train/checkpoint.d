build-bench/src/train/checkpoint.o: src/train/checkpoint.c \
 src/train/checkpoint.h src/train/train.h src/train/config.h \
 src/train/../util/common.h src/train/../data/dataset.h \
 src/train/../data/../util/common.h src/train/../model/model.h \
 src/train/../model/kernels.h src/train/../model/../util/common.h \
 src/train/knobs.h src/train/optim.h src/train/schedule.h \
 src/train/../util/fsutil.h src/train/../util/common.h
src/train/checkpoint.h:
src/train/train.h:
src/train/config.h:
src/train/../util/common.h:
src/train/../data/dataset.h:
src/train/../data/../util/common.h:
src/train/../model/model.h:
src/train/../model/kernels.h:
src/train/../model/../util/common.h:
src/train/knobs.h:
src/train/optim.h:
src/train/schedule.h:
src/train/../util/fsutil.h:
src/train/../util/common.h:
