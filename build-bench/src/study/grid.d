build-bench/src/study/grid.o: src/study/grid.c src/study/grid.h \
 src/study/../train/knobs.h src/study/../train/config.h \
 src/study/../train/../util/common.h src/study/../data/dataset.h \
 src/study/../data/../util/common.h
src/study/grid.h:
src/study/../train/knobs.h:
src/study/../train/config.h:
src/study/../train/../util/common.h:
src/study/../data/dataset.h:
src/study/../data/../util/common.h:
