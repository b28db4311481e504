build-bench/src/model/model_batch.o: src/model/model_batch.c \
 src/model/model_batch.h src/model/model.h src/model/kernels.h \
 src/model/../util/common.h src/model/../train/pool.h src/model/layers.h
src/model/model_batch.h:
src/model/model.h:
src/model/kernels.h:
src/model/../util/common.h:
src/model/../train/pool.h:
src/model/layers.h:
