build-bench/src/data/augment_avx512.o: src/data/augment_avx512.c \
 src/data/augment.h src/data/dataset.h src/data/../util/common.h \
 src/data/../model/kernels.h src/data/../model/../util/common.h
src/data/augment.h:
src/data/dataset.h:
src/data/../util/common.h:
src/data/../model/kernels.h:
src/data/../model/../util/common.h:
