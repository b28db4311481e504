build-bench/src/search/search_spec.o: src/search/search_spec.c \
 src/search/search.h src/search/prune.h src/search/trial.h \
 src/search/space.h src/search/../train/knobs.h \
 src/search/../train/config.h src/search/../train/../util/common.h
src/search/search.h:
src/search/prune.h:
src/search/trial.h:
src/search/space.h:
src/search/../train/knobs.h:
src/search/../train/config.h:
src/search/../train/../util/common.h:
