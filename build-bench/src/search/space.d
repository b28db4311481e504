build-bench/src/search/space.o: src/search/space.c src/search/space.h \
 src/search/../train/knobs.h src/search/../train/config.h \
 src/search/../train/../util/common.h
src/search/space.h:
src/search/../train/knobs.h:
src/search/../train/config.h:
src/search/../train/../util/common.h:
