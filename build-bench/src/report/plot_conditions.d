build-bench/src/report/plot_conditions.o: src/report/plot_conditions.c \
 src/report/conditions.h src/report/../stats/stats.h \
 src/report/../util/common.h src/report/report_parts.h \
 src/report/report.h src/report/../train/knobs.h \
 src/report/../train/config.h src/report/../train/../util/common.h \
 src/report/../train/lrfind.h src/report/../train/../data/dataset.h \
 src/report/../train/../data/../util/common.h \
 /usr/include/plplot/plplot.h /usr/include/plplot/plConfig.h \
 /usr/include/plplot/pldll.h
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
/usr/include/plplot/plplot.h:
/usr/include/plplot/plConfig.h:
/usr/include/plplot/pldll.h:
