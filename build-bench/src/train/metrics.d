build-bench/src/train/metrics.o: src/train/metrics.c src/train/metrics.h \
 src/train/../util/common.h
src/train/metrics.h:
src/train/../util/common.h:
