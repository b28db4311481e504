build-bench/src/report/summary.o: src/report/summary.c \
 src/report/report.h src/report/../train/knobs.h \
 src/report/../train/config.h src/report/../train/../util/common.h \
 src/report/../util/common.h src/report/../study/run_files.h \
 src/report/../study/../train/knobs.h \
 src/report/../study/../train/train.h \
 src/report/../study/../train/config.h \
 src/report/../study/../train/../data/dataset.h \
 src/report/../study/../train/../data/../util/common.h \
 src/report/../study/../train/../model/model.h \
 src/report/../study/../train/../model/kernels.h \
 src/report/../study/../train/../model/../util/common.h \
 src/report/../study/../search/space.h \
 src/report/../study/../search/../train/knobs.h \
 src/report/../util/fsutil.h src/report/../util/common.h
src/report/report.h:
src/report/../train/knobs.h:
src/report/../train/config.h:
src/report/../train/../util/common.h:
src/report/../util/common.h:
src/report/../study/run_files.h:
src/report/../study/../train/knobs.h:
src/report/../study/../train/train.h:
src/report/../study/../train/config.h:
src/report/../study/../train/../data/dataset.h:
src/report/../study/../train/../data/../util/common.h:
src/report/../study/../train/../model/model.h:
src/report/../study/../train/../model/kernels.h:
src/report/../study/../train/../model/../util/common.h:
src/report/../study/../search/space.h:
src/report/../study/../search/../train/knobs.h:
src/report/../util/fsutil.h:
src/report/../util/common.h:
