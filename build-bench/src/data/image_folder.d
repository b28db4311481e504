build-bench/src/data/image_folder.o: src/data/image_folder.c \
 src/data/dataset.h src/data/../util/common.h src/data/../util/fsutil.h \
 src/data/../util/common.h
src/data/dataset.h:
src/data/../util/common.h:
src/data/../util/fsutil.h:
src/data/../util/common.h:
