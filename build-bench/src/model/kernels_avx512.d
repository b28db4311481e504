build-bench/src/model/kernels_avx512.o: src/model/kernels_simd.c \
 src/model/kernels.h src/model/../util/common.h
src/model/kernels.h:
src/model/../util/common.h:
