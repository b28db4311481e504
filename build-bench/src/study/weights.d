build-bench/src/study/weights.o: src/study/weights.c src/study/weights.h \
 src/study/../data/dataset.h src/study/../data/../util/common.h \
 src/study/../model/model.h src/study/../model/kernels.h \
 src/study/../model/../util/common.h src/study/../util/fsutil.h \
 src/study/../util/common.h
src/study/weights.h:
src/study/../data/dataset.h:
src/study/../data/../util/common.h:
src/study/../model/model.h:
src/study/../model/kernels.h:
src/study/../model/../util/common.h:
src/study/../util/fsutil.h:
src/study/../util/common.h:
