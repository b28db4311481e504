build-bench/src/stats/stats.o: src/stats/stats.c src/stats/stats.h \
 src/stats/../util/common.h
src/stats/stats.h:
src/stats/../util/common.h:
