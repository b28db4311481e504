build-bench/src/train/pool.o: src/train/pool.c src/train/pool.h \
 src/train/../util/common.h
src/train/pool.h:
src/train/../util/common.h:
