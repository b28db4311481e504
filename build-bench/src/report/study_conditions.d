build-bench/src/report/study_conditions.o: src/report/study_conditions.c \
 src/report/study_conditions.h src/report/conditions.h \
 src/report/../stats/stats.h src/report/../util/common.h \
 src/report/report_parts.h src/report/report.h \
 src/report/../train/knobs.h src/report/../train/config.h \
 src/report/../train/../util/common.h src/report/../train/lrfind.h \
 src/report/../train/../data/dataset.h \
 src/report/../train/../data/../util/common.h
src/report/study_conditions.h:
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
