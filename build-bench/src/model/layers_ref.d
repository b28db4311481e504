build-bench/src/model/layers_ref.o: src/model/layers_ref.c \
 src/model/layers.h src/model/kernels.h src/model/../util/common.h \
 src/model/../util/rng.h
src/model/layers.h:
src/model/kernels.h:
src/model/../util/common.h:
src/model/../util/rng.h:
