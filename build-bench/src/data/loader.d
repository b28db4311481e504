build-bench/src/data/loader.o: src/data/loader.c src/data/loader.h \
 src/data/dataset.h src/data/../util/common.h src/data/augment.h \
 src/data/../model/kernels.h src/data/../model/../util/common.h \
 src/data/../util/rng.h
src/data/loader.h:
src/data/dataset.h:
src/data/../util/common.h:
src/data/augment.h:
src/data/../model/kernels.h:
src/data/../model/../util/common.h:
src/data/../util/rng.h:
