build-bench/src/data/resize.o: src/data/resize.c src/data/resize.h \
 src/data/../util/common.h src/data/augment.h src/data/dataset.h
src/data/resize.h:
src/data/../util/common.h:
src/data/augment.h:
src/data/dataset.h:
