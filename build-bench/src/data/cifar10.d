build-bench/src/data/cifar10.o: src/data/cifar10.c src/data/dataset.h \
 src/data/../util/common.h src/data/../util/fsutil.h \
 src/data/../util/common.h
src/data/dataset.h:
src/data/../util/common.h:
src/data/../util/fsutil.h:
src/data/../util/common.h:
