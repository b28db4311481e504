build-bench/src/model/model.o: src/model/model.c src/model/model.h \
 src/model/kernels.h src/model/../util/common.h src/model/layers.h \
 src/model/../util/rng.h
src/model/model.h:
src/model/kernels.h:
src/model/../util/common.h:
src/model/layers.h:
src/model/../util/rng.h:
