build-bench/src/fetch/progress.o: src/fetch/progress.c \
 src/fetch/progress.h src/fetch/../util/common.h
src/fetch/progress.h:
src/fetch/../util/common.h:
