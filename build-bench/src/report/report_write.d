build-bench/src/report/report_write.o: src/report/report_write.c \
 src/report/report_docs.h src/report/conditions.h \
 src/report/../stats/stats.h src/report/../util/common.h \
 src/report/report_parts.h src/report/report.h \
 src/report/../train/knobs.h src/report/../train/config.h \
 src/report/../train/../util/common.h src/report/../train/lrfind.h \
 src/report/../train/../data/dataset.h \
 src/report/../train/../data/../util/common.h src/report/ensemble.h \
 src/report/../train/config.h src/report/../util/fsutil.h \
 src/report/../util/common.h
src/report/report_docs.h:
src/report/conditions.h:
src/report/../stats/stats.h:
src/report/../util/common.h:
src/report/report_parts.h:
src/report/report.h:
src/report/../train/knobs.h:
src/report/../train/config.h:
src/report/../train/../util/common.h:
src/report/../train/lrfind.h:
src/report/../train/../data/dataset.h:
src/report/../train/../data/../util/common.h:
src/report/ensemble.h:
src/report/../train/config.h:
src/report/../util/fsutil.h:
src/report/../util/common.h:
