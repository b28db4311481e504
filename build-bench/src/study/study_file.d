build-bench/src/study/study_file.o: src/study/study_file.c \
 src/study/study_file.h src/study/grid.h src/study/../train/knobs.h \
 src/study/../train/config.h src/study/../train/../util/common.h \
 src/study/../search/search.h src/study/../search/prune.h \
 src/study/../search/trial.h src/study/../search/space.h \
 src/study/../search/../train/knobs.h src/study/../util/fsutil.h \
 src/study/../util/common.h
src/study/study_file.h:
src/study/grid.h:
src/study/../train/knobs.h:
src/study/../train/config.h:
src/study/../train/../util/common.h:
src/study/../search/search.h:
src/study/../search/prune.h:
src/study/../search/trial.h:
src/study/../search/space.h:
src/study/../search/../train/knobs.h:
src/study/../util/fsutil.h:
src/study/../util/common.h:
