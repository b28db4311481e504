build-bench/src/study/console.o: src/study/console.c src/study/console.h \
 src/study/../train/train.h src/study/../train/config.h \
 src/study/../train/../util/common.h src/study/../train/../data/dataset.h \
 src/study/../train/../data/../util/common.h \
 src/study/../train/../model/model.h \
 src/study/../train/../model/kernels.h \
 src/study/../train/../model/../util/common.h src/study/run_files.h \
 src/study/../train/knobs.h src/study/../search/space.h \
 src/study/../search/../train/knobs.h
src/study/console.h:
src/study/../train/train.h:
src/study/../train/config.h:
src/study/../train/../util/common.h:
src/study/../train/../data/dataset.h:
src/study/../train/../data/../util/common.h:
src/study/../train/../model/model.h:
src/study/../train/../model/kernels.h:
src/study/../train/../model/../util/common.h:
src/study/run_files.h:
src/study/../train/knobs.h:
src/study/../search/space.h:
src/study/../search/../train/knobs.h:
