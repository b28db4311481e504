build-bench/src/train/knobs_check.o: src/train/knobs_check.c \
 src/train/config.h src/train/../util/common.h
src/train/config.h:
src/train/../util/common.h:
