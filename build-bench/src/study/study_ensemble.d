build-bench/src/study/study_ensemble.o: src/study/study_ensemble.c \
 src/study/study_ensemble.h src/study/../util/common.h \
 src/study/weights.h src/study/../data/dataset.h \
 src/study/../data/../util/common.h src/study/../model/model.h \
 src/study/../model/kernels.h src/study/../model/../util/common.h \
 src/study/../cli/commands.h src/study/../cli/../train/lrfind.h \
 src/study/../cli/../train/config.h \
 src/study/../cli/../train/../util/common.h \
 src/study/../cli/../train/../data/dataset.h \
 src/study/../cli/../model/model.h src/study/../cli/../study/weights.h \
 src/study/../report/ensemble.h src/study/../report/../util/common.h \
 src/study/../report/report.h src/study/../report/../train/knobs.h \
 src/study/../report/../train/config.h src/study/../train/metrics.h \
 src/study/../train/../util/common.h src/study/../train/train.h \
 src/study/../train/config.h src/study/../train/../data/dataset.h \
 src/study/../train/../model/model.h src/study/../util/fsutil.h \
 src/study/../util/common.h
src/study/study_ensemble.h:
src/study/../util/common.h:
src/study/weights.h:
src/study/../data/dataset.h:
src/study/../data/../util/common.h:
src/study/../model/model.h:
src/study/../model/kernels.h:
src/study/../model/../util/common.h:
src/study/../cli/commands.h:
src/study/../cli/../train/lrfind.h:
src/study/../cli/../train/config.h:
src/study/../cli/../train/../util/common.h:
src/study/../cli/../train/../data/dataset.h:
src/study/../cli/../model/model.h:
src/study/../cli/../study/weights.h:
src/study/../report/ensemble.h:
src/study/../report/../util/common.h:
src/study/../report/report.h:
src/study/../report/../train/knobs.h:
src/study/../report/../train/config.h:
src/study/../train/metrics.h:
src/study/../train/../util/common.h:
src/study/../train/train.h:
src/study/../train/config.h:
src/study/../train/../data/dataset.h:
src/study/../train/../model/model.h:
src/study/../util/fsutil.h:
src/study/../util/common.h:
