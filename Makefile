# lrscope build. `make` builds build/lrscope; `make test` installs what is
# missing (scripts/install-deps.sh), builds and runs the tests; `make run`
# installs, builds and runs the seed study; `make bench` measures speed.
# `make DEBUG=1 test` builds with AddressSanitizer/UBSan; `WERROR=1` turns
# warnings into errors (CI does).

CC      ?= cc
BUILD   ?= build
PKGS    := jansson zlib plplot libcurl libarchive yaml-0.1 gsl
WARN    := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CFLAGS  := -std=c11 $(WARN) -pthread -D_GNU_SOURCE
LDLIBS  := -lm -pthread

ifeq ($(DEBUG),1)
  BUILD   := build-debug
  CFLAGS  += -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer
  LDFLAGS += -fsanitize=address,undefined
else
  CFLAGS  += -O3 -g
endif
ifeq ($(WERROR),1)
  CFLAGS  += -Werror
endif

# Name the Debian package when a library is missing, rather than failing in a header.
DEB_jansson    := libjansson-dev
DEB_zlib       := zlib1g-dev
DEB_plplot     := libplplot-dev plplot-driver-cairo
DEB_libcurl    := libcurl4-openssl-dev
DEB_libarchive := libarchive-dev
DEB_cmocka     := libcmocka-dev
DEB_yaml-0.1   := libyaml-dev
DEB_gsl        := libgsl-dev
# Checked only when this make itself compiles: `make test`, `make run` and
# `make bench` first install what is missing (deps), then build in a second
# make that does the check, so a brand-new machine gets through.
RECURSING_GOALS := deps clean test run bench fuzz fuzz-ci
ifeq ($(filter-out $(RECURSING_GOALS),$(or $(MAKECMDGOALS),all)),)
  SKIP_LIBCHECK := 1
endif
ifneq ($(SKIP_LIBCHECK),1)
  MISSING := $(strip $(foreach p,$(PKGS),$(if $(shell pkg-config --exists $(p) && echo ok),,$(p))))
  ifneq ($(MISSING),)
    $(error missing libraries: $(MISSING); install the Debian packages $(foreach p,$(MISSING),$(DEB_$(p))) (or run scripts/install-deps.sh))
  endif
  CFLAGS += $(shell pkg-config --cflags $(PKGS))
  LDLIBS += $(shell pkg-config --libs $(PKGS))
endif

# Every .c under src/ belongs to the library except the program's main and the
# SIMD kernel source, which is compiled once per instruction set.
SIMD_SRC := src/model/kernels_simd.c
AUG512_SRC := src/data/augment_avx512.c
MAIN_SRC := src/cli/main.c
LIB_SRC  := $(filter-out $(SIMD_SRC) $(AUG512_SRC) $(MAIN_SRC),$(wildcard src/*/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o) \
            $(BUILD)/src/model/kernels_avx2.o $(BUILD)/src/model/kernels_avx512.o \
            $(BUILD)/src/data/augment_avx512.o
TEST_SRC := $(wildcard tests/test_*.c)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
BENCH_SRC := $(wildcard bench/*.c)

.PHONY: all deps test run bench clean
all: $(BUILD)/lrscope

deps:
	@scripts/install-deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# FMA contraction is allowed in the vector paths only: the scalar path stays
# the plain reference the others are tested against.
$(BUILD)/src/model/kernels_avx2.o: $(SIMD_SRC)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -mavx2 -mfma -ffp-contract=fast -Wno-psabi -DKERNEL_ISA=avx2 -MMD -MP -c $< -o $@
$(BUILD)/src/model/kernels_avx512.o: $(SIMD_SRC)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -mavx512f -mavx512dq -mavx512bw -mavx512vl -mfma -ffp-contract=fast -DKERNEL_ISA=avx512 -MMD -MP -c $< -o $@

# Chosen at run time (augment_avx512_usable), so it may use VBMI byte permutes.
$(BUILD)/src/data/augment_avx512.o: $(AUG512_SRC)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -mavx512f -mavx512bw -mavx512vl -mavx512vbmi -MMD -MP -c $< -o $@

$(BUILD)/liblrscope.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/lrscope: $(BUILD)/src/cli/main.o $(BUILD)/liblrscope.a
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/%: tests/%.c tests/test_util.h tests/tensor_file.h $(BUILD)/liblrscope.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(shell pkg-config --cflags cmocka) -MMD -MP $< $(BUILD)/liblrscope.a \
	    $(LDFLAGS) $(LDLIBS) $(shell pkg-config --libs cmocka) -o $@

$(BUILD)/bench/%: bench/%.c $(BUILD)/liblrscope.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< $(BUILD)/liblrscope.a $(LDFLAGS) $(LDLIBS) -o $@

test: deps
	@$(MAKE) --no-print-directory $(BUILD)/lrscope $(TEST_BIN)
	@tests/run.sh $(BUILD)

# The data: DATA=DIR if given, else ./data/cifar-10-batches-bin if present,
# else a copy beside the checkout (../shared/datasets/...), else lrscope
# fetches it into ./data.
DATA ?= $(firstword $(wildcard data/cifar-10-batches-bin ../shared/datasets/cifar-10-batches-bin))
run: deps
	@$(MAKE) --no-print-directory $(BUILD)/lrscope
	$(BUILD)/lrscope run $(if $(DATA),--data $(DATA)) $(ARGS)

bench: deps
	@$(MAKE) --no-print-directory $(BUILD)/lrscope $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
	@bench/run.sh $(BUILD)

clean:
	rm -rf build build-debug

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
