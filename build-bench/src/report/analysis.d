build-bench/src/report/analysis.o: src/report/analysis.c \
 src/report/report.h src/report/../train/knobs.h \
 src/report/../train/config.h src/report/../train/../util/common.h \
 src/report/../util/common.h src/report/study_conditions.h \
 src/report/conditions.h src/report/../stats/stats.h \
 src/report/report_parts.h src/report/../train/lrfind.h \
 src/report/../train/../data/dataset.h \
 src/report/../train/../data/../util/common.h
src/report/report.h:
src/report/../train/knobs.h:
src/report/../train/config.h:
src/report/../train/../util/common.h:
src/report/../util/common.h:
src/report/study_conditions.h:
src/report/conditions.h:
src/report/../stats/stats.h:
src/report/report_parts.h:
src/report/../train/lrfind.h:
src/report/../train/../data/dataset.h:
src/report/../train/../data/../util/common.h:
