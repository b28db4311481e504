build-bench/src/data/mnist.o: src/data/mnist.c src/data/dataset.h \
 src/data/../util/common.h src/data/../util/fsutil.h \
 src/data/../util/common.h
src/data/dataset.h:
src/data/../util/common.h:
src/data/../util/fsutil.h:
src/data/../util/common.h:
