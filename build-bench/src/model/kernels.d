build-bench/src/model/kernels.o: src/model/kernels.c src/model/kernels.h \
 src/model/../util/common.h
src/model/kernels.h:
src/model/../util/common.h:
