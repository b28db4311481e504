build-bench/src/fetch/unpack.o: src/fetch/unpack.c src/fetch/unpack.h \
 src/fetch/../util/common.h src/fetch/../util/fsutil.h \
 src/fetch/../util/common.h
src/fetch/unpack.h:
src/fetch/../util/common.h:
src/fetch/../util/fsutil.h:
src/fetch/../util/common.h:
