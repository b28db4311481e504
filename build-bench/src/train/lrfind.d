build-bench/src/train/lrfind.o: src/train/lrfind.c src/train/lrfind.h \
 src/train/config.h src/train/../util/common.h \
 src/train/../data/dataset.h src/train/../data/../util/common.h \
 src/train/train.h src/train/../model/model.h \
 src/train/../model/kernels.h src/train/../model/../util/common.h \
 src/train/../util/fsutil.h src/train/../util/common.h
src/train/lrfind.h:
src/train/config.h:
src/train/../util/common.h:
src/train/../data/dataset.h:
src/train/../data/../util/common.h:
src/train/train.h:
src/train/../model/model.h:
src/train/../model/kernels.h:
src/train/../model/../util/common.h:
src/train/../util/fsutil.h:
src/train/../util/common.h:
