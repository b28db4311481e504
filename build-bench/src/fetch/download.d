build-bench/src/fetch/download.o: src/fetch/download.c \
 src/fetch/download.h src/fetch/../util/common.h src/fetch/progress.h \
 src/fetch/../util/fsutil.h src/fetch/../util/common.h
src/fetch/download.h:
src/fetch/../util/common.h:
src/fetch/progress.h:
src/fetch/../util/fsutil.h:
src/fetch/../util/common.h:
