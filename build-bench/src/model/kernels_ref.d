build-bench/src/model/kernels_ref.o: src/model/kernels_ref.c \
 src/model/kernels.h src/model/../util/common.h
src/model/kernels.h:
src/model/../util/common.h:
