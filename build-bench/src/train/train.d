build-bench/src/train/train.o: src/train/train.c src/train/train.h \
 src/train/config.h src/train/../util/common.h \
 src/train/../data/dataset.h src/train/../data/../util/common.h \
 src/train/../model/model.h src/train/../model/kernels.h \
 src/train/../model/../util/common.h src/train/metrics.h \
 src/train/optim.h src/train/schedule.h src/train/pool.h \
 src/train/../data/loader.h src/train/../data/dataset.h
src/train/train.h:
src/train/config.h:
src/train/../util/common.h:
src/train/../data/dataset.h:
src/train/../data/../util/common.h:
src/train/../model/model.h:
src/train/../model/kernels.h:
src/train/../model/../util/common.h:
src/train/metrics.h:
src/train/optim.h:
src/train/schedule.h:
src/train/pool.h:
src/train/../data/loader.h:
src/train/../data/dataset.h:
