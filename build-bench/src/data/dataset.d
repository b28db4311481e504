build-bench/src/data/dataset.o: src/data/dataset.c src/data/dataset.h \
 src/data/../util/common.h src/data/../util/fsutil.h \
 src/data/../util/common.h
src/data/dataset.h:
src/data/../util/common.h:
src/data/../util/fsutil.h:
src/data/../util/common.h:
