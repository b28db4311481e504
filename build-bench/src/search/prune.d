build-bench/src/search/prune.o: src/search/prune.c src/search/prune.h \
 src/search/trial.h src/search/space.h src/search/../train/knobs.h \
 src/search/../train/config.h src/search/../train/../util/common.h
src/search/prune.h:
src/search/trial.h:
src/search/space.h:
src/search/../train/knobs.h:
src/search/../train/config.h:
src/search/../train/../util/common.h:
