# lrscope build. `make` builds build/lrscope; `make test` installs what is
# missing (scripts/install-deps.sh), builds and runs the tests; `make run`
# installs, builds and runs the seed study; `make bench` measures speed.
# `make DEBUG=1 test` builds with AddressSanitizer/UBSan; `make race` runs the
# tests that train side by side under ThreadSanitizer; `WERROR=1` turns
# warnings into errors (CI does). `make fuzz` builds the libFuzzer harnesses
# of fuzz/ with clang into build-fuzz/ and runs each for FUZZ_SECONDS (60);
# `make fuzz-ci` runs each for 20 s and fails on any crash. MPI (a study's
# runs across mpirun's ranks, src/study/transport_mpi.h) is built in when Open
# MPI is installed (pkg-config ompi-c); `MPI=0` builds without it, `MPI=1`
# requires it.

CC      ?= cc
BUILD   ?= build
PKGS    := jansson zlib plplot libcurl libarchive yaml-0.1 gsl
WARN    := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
VERSION := $(shell sed -n 's/^\#define LRSCOPE_VERSION "\(.*\)"/\1/p' src/util/common.h)
# EXTRA_CFLAGS, CPPFLAGS and LDFLAGS from the caller are added (the Debian
# build passes its hardening flags that way).
CFLAGS  := -std=c11 $(WARN) -pthread -D_GNU_SOURCE $(CPPFLAGS)
LDLIBS  := -lm -pthread

ifeq ($(DEBUG),1)
  BUILD   := build-debug
  CFLAGS  += -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer
  LDFLAGS += -fsanitize=address,undefined
else ifeq ($(TSAN),1)
  # ThreadSanitizer: `make race` runs the tests that train with several jobs
  # or threads against this build (a study's runners, the thread pool).
  BUILD   := build-tsan
  CFLAGS  += -O1 -g -fsanitize=thread -fno-omit-frame-pointer
  LDFLAGS += -fsanitize=thread
else ifeq ($(FUZZ),1)
  # The library and the harnesses built with clang, libFuzzer's coverage and
  # ASan + UBSan: used by `make fuzz`.
  CC      := clang
  BUILD   := build-fuzz
  # UBSan stays recoverable so that fuzz/ubsan.supp applies; fuzz/run.sh sets
  # halt_on_error=1, so every other report is a crash.
  CFLAGS  += -O1 -g -fsanitize=fuzzer-no-link,address,undefined \
             -fno-omit-frame-pointer -Wno-unknown-warning-option
  LDFLAGS += -fsanitize=address,undefined
  # The vector layer kernels (layers_simd.c: deeply inlined, unrolled tiles)
  # take clang over 6 minutes per ISA with the sanitizers and coverage; the
  # fuzz build compiles them plain. They run under ASan and UBSan in the
  # DEBUG build (test_layer_kernels, test_layers), against the reference.
  SIMD_FLAGS := -fno-sanitize=all
else
  CFLAGS  += -O3 -g
endif
CFLAGS += $(EXTRA_CFLAGS)
ifeq ($(WERROR),1)
  CFLAGS  += -Werror
endif
# Not with the libFuzzer build: the harnesses never start MPI.
ifneq ($(FUZZ),1)
  MPI ?= $(if $(shell pkg-config --exists ompi-c && echo ok),1,0)
endif
ifeq ($(MPI),1)
  PKGS += ompi-c
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
DEB_ompi-c     := libopenmpi-dev openmpi-bin
# Checked only when this make itself compiles: `make test`, `make run` and
# `make bench` first install what is missing (deps), then build in a second
# make that does the check, so a brand-new machine gets through.
RECURSING_GOALS := deps clean test run bench fuzz fuzz-ci uninstall
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
SIMD_SRC := src/model/kernels_simd.c src/model/layers_simd.c
AUG512_SRC := src/data/augment_avx512.c
MAIN_SRC := src/cli/main.c
LIB_SRC  := $(filter-out $(SIMD_SRC) $(AUG512_SRC) $(MAIN_SRC),$(wildcard src/*/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o) \
            $(SIMD_SRC:src/model/%_simd.c=$(BUILD)/src/model/%_avx2.o) \
            $(SIMD_SRC:src/model/%_simd.c=$(BUILD)/src/model/%_avx512.o) \
            $(BUILD)/src/data/augment_avx512.o
TEST_SRC := $(wildcard tests/test_*.c)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
BENCH_SRC := $(wildcard bench/*.c)

FUZZ_SRC := $(wildcard fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_SECONDS ?= 60

.PHONY: all deps test check race check-report run bench clean install uninstall docs fuzz fuzz-ci fuzz-build
all: $(BUILD)/lrscope docs

# Manual pages and shell completion, generated from the tables that drive
# --help (lrscope doc ...) and from docs/output-format.md (tools/md2man.awk).
DOCS := $(BUILD)/man/lrscope.1 $(BUILD)/man/lrscope-study.5 $(BUILD)/man/lrscope-files.5 \
        $(BUILD)/completion/lrscope.bash $(BUILD)/completion/_lrscope
docs: $(DOCS)
$(BUILD)/man/lrscope.1: $(BUILD)/lrscope
	@mkdir -p $(dir $@)
	$(BUILD)/lrscope doc man1 > $@.tmp && mv $@.tmp $@
$(BUILD)/man/lrscope-study.5: $(BUILD)/lrscope
	@mkdir -p $(dir $@)
	$(BUILD)/lrscope doc man5-study > $@.tmp && mv $@.tmp $@
$(BUILD)/man/lrscope-files.5: docs/output-format.md tools/md2man.awk $(BUILD)/commit.h
	@mkdir -p $(dir $@)
	awk -v name=lrscope-files -v section=5 -v title="the files an lrscope study writes" \
	    -v date="$(DOC_DATE)" -v version=$(VERSION) -f tools/md2man.awk $< > $@.tmp && mv $@.tmp $@
$(BUILD)/completion/lrscope.bash: $(BUILD)/lrscope
	@mkdir -p $(dir $@)
	$(BUILD)/lrscope doc bash > $@.tmp && mv $@.tmp $@
$(BUILD)/completion/_lrscope: $(BUILD)/lrscope
	@mkdir -p $(dir $@)
	$(BUILD)/lrscope doc zsh > $@.tmp && mv $@.tmp $@

# make install [PREFIX=/usr/local] [DESTDIR=staging]; make uninstall removes
# exactly what install put there.
PREFIX  ?= /usr/local
BINDIR  := $(PREFIX)/bin
MANDIR  := $(PREFIX)/share/man
BASHDIR := $(PREFIX)/share/bash-completion/completions
ZSHDIR  ?= $(if $(filter /usr,$(PREFIX)),$(PREFIX)/share/zsh/vendor-completions,$(PREFIX)/share/zsh/site-functions)
INSTALLED := $(BINDIR)/lrscope $(MANDIR)/man1/lrscope.1 $(MANDIR)/man5/lrscope-study.5 \
             $(MANDIR)/man5/lrscope-files.5 $(BASHDIR)/lrscope $(ZSHDIR)/_lrscope
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(BASHDIR) $(DESTDIR)$(ZSHDIR)
	install -m 755 $(BUILD)/lrscope $(DESTDIR)$(BINDIR)/lrscope
	install -m 644 $(BUILD)/man/lrscope.1 $(DESTDIR)$(MANDIR)/man1/lrscope.1
	install -m 644 $(BUILD)/man/lrscope-study.5 $(BUILD)/man/lrscope-files.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 644 $(BUILD)/completion/lrscope.bash $(DESTDIR)$(BASHDIR)/lrscope
	install -m 644 $(BUILD)/completion/_lrscope $(DESTDIR)$(ZSHDIR)/_lrscope
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))

deps:
	@scripts/install-deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# FMA contraction is allowed in the vector paths only: the scalar path stays
# the plain reference the others are tested against.
$(BUILD)/src/model/%_avx2.o: src/model/%_simd.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(if $(findstring layers_,$(notdir $@)),$(SIMD_FLAGS)) -mavx2 -mfma -ffp-contract=fast -Wno-psabi \
	    -DKERNEL_ISA=avx2 -MMD -MP -c $< -o $@
$(BUILD)/src/model/%_avx512.o: src/model/%_simd.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(if $(findstring layers_,$(notdir $@)),$(SIMD_FLAGS)) -mavx512f -mavx512dq -mavx512bw -mavx512vl \
	    -mfma -ffp-contract=fast -DKERNEL_ISA=avx512 -MMD -MP -c $< -o $@

# Chosen at run time (augment_avx512_usable), so it may use VBMI byte permutes.
$(BUILD)/src/data/augment_avx512.o: $(AUG512_SRC)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -mavx512f -mavx512bw -mavx512vl -mavx512vbmi -MMD -MP -c $< -o $@

# The commit lrscope was built from, for --version: rewritten only when it
# changes, so an unchanged tree does not rebuild. COMMIT=... overrides it
# (a source package built outside git).
COMMIT ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
# The manual's date: the commit's (reproducible), else debian/changelog's.
DOC_DATE ?= $(shell git log -1 --format=%cs 2>/dev/null || date -u -d "$$(dpkg-parsechangelog -S Date 2>/dev/null)" +%F)
$(BUILD)/commit.h: FORCE
	@mkdir -p $(BUILD)
	@printf '#define LRSCOPE_COMMIT "%s"\n#define LRSCOPE_DATE "%s"\n' "$(COMMIT)" "$(DOC_DATE)" > $@.new
	@cmp -s $@.new $@ && rm -f $@.new || mv $@.new $@
$(BUILD)/src/cli/main.o $(BUILD)/src/cli/cmd_doc.o: $(BUILD)/src/cli/%.o: src/cli/%.c $(BUILD)/commit.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -include $(BUILD)/commit.h -MMD -MP -c $< -o $@
FORCE:

# MPI on or off (LRSCOPE_MPI) changes one object only: its stamp is rewritten
# when MPI changes, so `make MPI=0` and `make` can share a build folder.
$(BUILD)/mpi.stamp: FORCE
	@mkdir -p $(BUILD)
	@echo "MPI=$(MPI)" > $@.new
	@cmp -s $@.new $@ && rm -f $@.new || mv $@.new $@
$(BUILD)/src/study/transport_mpi.o: src/study/transport_mpi.c $(BUILD)/mpi.stamp
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(if $(filter 1,$(MPI)),-DLRSCOPE_MPI) -MMD -MP -c $< -o $@

$(BUILD)/liblrscope.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/lrscope: $(BUILD)/src/cli/main.o $(BUILD)/liblrscope.a
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/%: tests/%.c $(wildcard tests/*.h) $(BUILD)/liblrscope.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(shell pkg-config --cflags cmocka) -MMD -MP $< $(BUILD)/liblrscope.a \
	    $(LDFLAGS) $(LDLIBS) $(shell pkg-config --libs cmocka) -o $@

$(BUILD)/bench/%: bench/%.c $(BUILD)/liblrscope.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< $(BUILD)/liblrscope.a $(LDFLAGS) $(LDLIBS) -o $@

$(BUILD)/fuzz/%: fuzz/%.c $(wildcard fuzz/*.h) $(BUILD)/liblrscope.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer $< $(BUILD)/liblrscope.a $(LDFLAGS) $(LDLIBS) -o $@

test: deps
	@$(MAKE) --no-print-directory check

# The tests without the install step (the Debian package build uses it).
check: all $(TEST_BIN)
	@tests/run.sh $(BUILD)

# The tests that run a study's runs side by side (--jobs) or a run on
# several threads, with lrscope and the tests built with ThreadSanitizer: any
# data race fails them (TSan exits 66 at the first report).
RACE_TESTS := test_cli_study test_search_run test_resume test_predict test_train_bn
race: deps
	@$(MAKE) --no-print-directory TSAN=1 build-tsan/lrscope $(RACE_TESTS:%=build-tsan/tests/%)
	@TSAN_OPTIONS="halt_on_error=1 exitcode=66 suppressions=$(CURDIR)/tests/tsan.supp $(TSAN_OPTIONS)" tests/run.sh build-tsan $(RACE_TESTS)

# report.html in headless Chromium: no outside request, every figure loads
# (tests/tools/check_report.sh). Apart from `make test`: chromium is 100 MB+.
check-report: $(BUILD)/lrscope
	@command -v chromium >/dev/null || { echo "check-report: needs Debian's chromium (apt-get install chromium)"; exit 2; }
	tests/tools/check_report.sh $(BUILD)/lrscope

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

# Fuzzing: install clang and its libFuzzer runtime when missing, then build
# with FUZZ=1 in a second make (as `test` does) and run every harness.
fuzz-build:
	@$(MAKE) --no-print-directory FUZZ=1 $(FUZZ_SRC:fuzz/%.c=build-fuzz/fuzz/%)
fuzz:
	@scripts/install-deps.sh --with-fuzz
	@$(MAKE) --no-print-directory fuzz-build
	@fuzz/run.sh build-fuzz $(FUZZ_SECONDS)
fuzz-ci:
	@scripts/install-deps.sh --with-fuzz
	@$(MAKE) --no-print-directory fuzz-build
	@fuzz/run.sh build-fuzz 20

clean:
	rm -rf build build-debug build-fuzz build-tsan

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
