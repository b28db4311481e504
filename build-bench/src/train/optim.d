build-bench/src/train/optim.o: src/train/optim.c src/train/optim.h \
 src/train/config.h src/train/../util/common.h src/train/schedule.h
src/train/optim.h:
src/train/config.h:
src/train/../util/common.h:
src/train/schedule.h:
