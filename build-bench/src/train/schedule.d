build-bench/src/train/schedule.o: src/train/schedule.c \
 src/train/schedule.h src/train/config.h src/train/../util/common.h
src/train/schedule.h:
src/train/config.h:
src/train/../util/common.h:
