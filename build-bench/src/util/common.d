build-bench/src/util/common.o: src/util/common.c src/util/common.h
src/util/common.h:
