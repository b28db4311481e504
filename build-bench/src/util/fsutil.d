build-bench/src/util/fsutil.o: src/util/fsutil.c src/util/fsutil.h \
 src/util/common.h
src/util/fsutil.h:
src/util/common.h:
