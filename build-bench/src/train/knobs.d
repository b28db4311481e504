build-bench/src/train/knobs.o: src/train/knobs.c src/train/knobs.h \
 src/train/config.h src/train/../util/common.h \
 src/train/../data/dataset.h src/train/../data/../util/common.h \
 src/train/../model/model.h src/train/../model/kernels.h \
 src/train/../model/../util/common.h
src/train/knobs.h:
src/train/config.h:
src/train/../util/common.h:
src/train/../data/dataset.h:
src/train/../data/../util/common.h:
src/train/../model/model.h:
src/train/../model/kernels.h:
src/train/../model/../util/common.h:
