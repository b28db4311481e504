build-bench/src/data/cifar100.o: src/data/cifar100.c src/data/dataset.h \
 src/data/../util/common.h src/data/../util/fsutil.h \
 src/data/../util/common.h
src/data/dataset.h:
src/data/../util/common.h:
src/data/../util/fsutil.h:
src/data/../util/common.h:
