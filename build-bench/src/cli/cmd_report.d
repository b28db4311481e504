build-bench/src/cli/cmd_report.o: src/cli/cmd_report.c src/cli/commands.h \
 src/cli/../train/lrfind.h src/cli/../train/config.h \
 src/cli/../train/../util/common.h src/cli/../train/../data/dataset.h \
 src/cli/../train/../data/../util/common.h src/cli/../model/model.h \
 src/cli/../model/kernels.h src/cli/../model/../util/common.h \
 src/cli/../study/weights.h src/cli/../study/../data/dataset.h \
 src/cli/../study/../model/model.h src/cli/../report/report.h \
 src/cli/../report/../train/knobs.h src/cli/../report/../train/config.h \
 src/cli/../report/../util/common.h
src/cli/commands.h:
src/cli/../train/lrfind.h:
src/cli/../train/config.h:
src/cli/../train/../util/common.h:
src/cli/../train/../data/dataset.h:
src/cli/../train/../data/../util/common.h:
src/cli/../model/model.h:
src/cli/../model/kernels.h:
src/cli/../model/../util/common.h:
src/cli/../study/weights.h:
src/cli/../study/../data/dataset.h:
src/cli/../study/../model/model.h:
src/cli/../report/report.h:
src/cli/../report/../train/knobs.h:
src/cli/../report/../train/config.h:
src/cli/../report/../util/common.h:
