build-bench/src/fetch/md5.o: src/fetch/md5.c src/fetch/md5.h \
 src/fetch/../util/common.h src/fetch/../util/fsutil.h \
 src/fetch/../util/common.h
src/fetch/md5.h:
src/fetch/../util/common.h:
src/fetch/../util/fsutil.h:
src/fetch/../util/common.h:
