build-bench/src/report/ensemble.o: src/report/ensemble.c \
 src/report/ensemble.h src/report/../util/common.h \
 src/report/../stats/stats.h src/report/../util/fsutil.h \
 src/report/../util/common.h
src/report/ensemble.h:
src/report/../util/common.h:
src/report/../stats/stats.h:
src/report/../util/fsutil.h:
src/report/../util/common.h:
