build-bench/src/fetch/sources.o: src/fetch/sources.c src/fetch/sources.h \
 src/fetch/../util/common.h
src/fetch/sources.h:
src/fetch/../util/common.h:
