build-bench/src/fetch/fetch.o: src/fetch/fetch.c src/fetch/fetch.h \
 src/fetch/../util/common.h src/fetch/download.h src/fetch/md5.h \
 src/fetch/sources.h src/fetch/unpack.h src/fetch/../data/dataset.h \
 src/fetch/../data/../util/common.h src/fetch/../util/fsutil.h \
 src/fetch/../util/common.h
src/fetch/fetch.h:
src/fetch/../util/common.h:
src/fetch/download.h:
src/fetch/md5.h:
src/fetch/sources.h:
src/fetch/unpack.h:
src/fetch/../data/dataset.h:
src/fetch/../data/../util/common.h:
src/fetch/../util/fsutil.h:
src/fetch/../util/common.h:
