build-bench/src/search/sampler.o: src/search/sampler.c src/search/tpe.h \
 src/search/search.h src/search/prune.h src/search/trial.h \
 src/search/space.h src/search/../train/knobs.h \
 src/search/../train/config.h src/search/../train/../util/common.h \
 src/search/../util/rng.h
src/search/tpe.h:
src/search/search.h:
src/search/prune.h:
src/search/trial.h:
src/search/space.h:
src/search/../train/knobs.h:
src/search/../train/config.h:
src/search/../train/../util/common.h:
src/search/../util/rng.h:
