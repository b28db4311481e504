build-bench/src/data/augment.o: src/data/augment.c src/data/augment.h \
 src/data/dataset.h src/data/../util/common.h src/data/../model/kernels.h \
 src/data/../model/../util/common.h
src/data/augment.h:
src/data/dataset.h:
src/data/../util/common.h:
src/data/../model/kernels.h:
src/data/../model/../util/common.h:
