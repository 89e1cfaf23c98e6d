# procmgr - one non-recursive GNU Makefile.
#
#   make                      libprocmgr.a, libprocmgr.so, procmgr
#   make check                unit tests (Check) + CLI tests (bats) + a
#                             short stress run
#   make stress               the whole stress suite (tests/stress; root)
#   make SANITIZE=address,undefined check
#   make fuzz                 each libFuzzer target for FUZZ_SECONDS (30)
#   make valgrind             the CLI tests with procmgr under memcheck
#   make coverage             line coverage of lib/ and src/ per file
#   make demo                 build, then show the lifecycle
#
# Objects go under $(BUILD), which differs per variant so a sanitizer or
# coverage build never mixes with the plain one.

VERSION := 0.1.0
SOVERSION := 0

CC ?= cc
ifeq ($(origin CC),default)
CC := gcc
endif

WARN := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wvla -Wwrite-strings -Wformat=2 -fno-common
ifneq ($(WERROR),0)
WARN += -Werror
endif

OPT ?= -O2 -g
ifeq ($(COVERAGE),1)
OPT := -O0 -g
endif
CFLAGS_ALL := -std=c17 -D_GNU_SOURCE $(OPT) $(WARN) -Iinclude -Ilib \
	-fvisibility=hidden -DPROCMGR_BUILD
LDFLAGS_ALL :=

BUILD ?= build
ifneq ($(SANITIZE),)
BUILD := build/san
CFLAGS_ALL += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
LDFLAGS_ALL += -fsanitize=$(SANITIZE)
endif
ifeq ($(COVERAGE),1)
BUILD := build/cov
CFLAGS_ALL += --coverage -DPROCMGR_COVERAGE
LDFLAGS_ALL += --coverage
endif
CFLAGS_ALL += $(CFLAGS)
LDFLAGS_ALL += $(LDFLAGS)

LIB_SRC := $(sort $(wildcard lib/*.c))
CLI_SRC := $(sort $(wildcard src/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test-*.c))
UNIT_COMMON := $(filter-out $(UNIT_SRC),$(wildcard tests/unit/*.c))
HELPER_SRC := $(sort $(wildcard tests/helpers/*.c))
BENCH_SRC := $(sort $(wildcard bench/*.c))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz-*.c))

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
UNIT_COMMON_OBJ := $(UNIT_COMMON:%.c=$(BUILD)/%.o)
HELPER_BIN := $(HELPER_SRC:tests/helpers/%.c=$(BUILD)/helpers/%)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
# The fuzz targets built with $(CC) and replay.c: make check replays the
# corpora through them.
REPLAY_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz-replay/%)

STATIC := $(BUILD)/libprocmgr.a
SHARED := $(BUILD)/libprocmgr.so.$(VERSION)
PROCMGR := $(BUILD)/procmgr

CHECK_CFLAGS = $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null || echo -lcheck)

PREFIX ?= /usr/local
DEPS := build-essential check bats gcovr scdoc python3 pkg-config strace \
	util-linux
FUZZ_DEPS := clang libclang-rt-14-dev
VALGRIND_DEPS := valgrind bats

.PHONY: all check unit cli stress fuzz valgrind coverage demo deps clean \
	install man bench
all: $(STATIC) $(SHARED) $(PROCMGR) procmgr

$(BUILD)/%.o: %.c include/procmgr.h lib/internal.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -fPIC -MMD -c -o $@ $<

$(STATIC): $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(SHARED): $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,libprocmgr.so.$(SOVERSION) -o $@ $^ \
		$(LDFLAGS_ALL)
	ln -sf libprocmgr.so.$(VERSION) $(BUILD)/libprocmgr.so.$(SOVERSION)
	ln -sf libprocmgr.so.$(VERSION) $(BUILD)/libprocmgr.so

$(PROCMGR): $(CLI_OBJ) $(STATIC)
	$(CC) -o $@ $(CLI_OBJ) $(STATIC) $(LDFLAGS_ALL)

# A stable path for the plain build's binary.
procmgr: $(PROCMGR)
	@[ "$(BUILD)" != build ] || ln -sf $(PROCMGR) procmgr

$(BUILD)/tests/%: tests/unit/%.c $(UNIT_COMMON_OBJ) $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(CHECK_CFLAGS) -o $@ $< $(UNIT_COMMON_OBJ) \
		$(STATIC) $(CHECK_LIBS) $(LDFLAGS_ALL)

$(BUILD)/helpers/%: tests/helpers/%.c $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(STATIC) $(LDFLAGS_ALL)

$(BUILD)/fuzz-replay/%: tests/fuzz/%.c tests/fuzz/replay.c tests/fuzz/fuzz.h \
		$(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< tests/fuzz/replay.c $(STATIC) \
		$(LDFLAGS_ALL)

$(BUILD)/bench/%: bench/%.c $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(STATIC) $(LDFLAGS_ALL)

# Install the Debian packages the build and tests need when root; say the
# apt-get line otherwise.
deps:
	@sh tests/deps.sh $(DEPS)

check: deps $(PROCMGR) $(UNIT_BIN) $(HELPER_BIN) $(REPLAY_BIN)
	@BUILD=$(BUILD) sh tests/run.sh

unit: $(UNIT_BIN) $(HELPER_BIN) $(REPLAY_BIN)
	@BUILD=$(BUILD) ONLY=unit sh tests/run.sh

cli: $(PROCMGR) $(HELPER_BIN)
	@BUILD=$(BUILD) ONLY=cli sh tests/run.sh

# STRESS_CASES picks cases: crash tree reuse race corrupt (default: all).
stress: deps $(PROCMGR) $(HELPER_BIN)
	@BUILD=$(BUILD) bash tests/stress/run.sh $(STRESS_CASES)

# ---- libFuzzer: clang, the library instrumented once into its own
# archive, one binary per tests/fuzz/fuzz-*.c; tests/fuzz/run.sh runs each
# for FUZZ_SECONDS over its seed corpus (tests/fuzz/corpus/<target>).
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 30
FUZZ_BUILD := build/fuzz
FUZZ_FLAGS := -std=c17 -D_GNU_SOURCE -O1 -g $(WARN) -Iinclude -Ilib \
	-fvisibility=hidden -DPROCMGR_BUILD -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_LIB := $(FUZZ_BUILD)/libprocmgr.a
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_BUILD)/%)

$(FUZZ_BUILD)/%.o: %.c include/procmgr.h lib/internal.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_LIB): $(LIB_SRC:%.c=$(FUZZ_BUILD)/%.o)
	rm -f $@
	ar rcs $@ $^

# An archive, so fuzz-notify (which compiles lib/ready.c into itself) does
# not get a second copy of ready.o.
$(FUZZ_BUILD)/fuzz-%: tests/fuzz/fuzz-%.c tests/fuzz/fuzz.h $(FUZZ_LIB)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB)

fuzz:
	@sh tests/deps.sh $(FUZZ_DEPS)
	@$(MAKE) --no-print-directory $(FUZZ_BIN)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run.sh $(FUZZ_BIN)

valgrind: $(PROCMGR) $(HELPER_BIN)
	@sh tests/deps.sh $(VALGRIND_DEPS)
	@BUILD=$(BUILD) sh tests/valgrind/run.sh

coverage: deps
	rm -rf build/cov
	$(MAKE) COVERAGE=1 check
	@sh tests/coverage.sh build/cov

demo: deps $(PROCMGR) $(HELPER_BIN)
	@BUILD=$(BUILD) sh examples/demo.sh

man: $(BUILD)/procmgr.1 $(BUILD)/procmgr.3
$(BUILD)/%: man/%.scd
	@mkdir -p $(dir $@)
	scdoc < $< > $@

bench: $(PROCMGR) $(BENCH_BIN) $(HELPER_BIN)
	@BUILD=$(BUILD) sh bench/run.sh

install: all man
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib \
		$(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig \
		$(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man3
	install -m 755 $(PROCMGR) $(DESTDIR)$(PREFIX)/bin/procmgr
	install -m 644 $(STATIC) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(SHARED) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libprocmgr.so.$(VERSION) \
		$(DESTDIR)$(PREFIX)/lib/libprocmgr.so.$(SOVERSION)
	ln -sf libprocmgr.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libprocmgr.so
	install -m 644 include/procmgr.h $(DESTDIR)$(PREFIX)/include/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' \
		procmgr.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/procmgr.pc
	install -m 644 $(BUILD)/procmgr.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 $(BUILD)/procmgr.3 $(DESTDIR)$(PREFIX)/share/man/man3/

clean:
	rm -rf build procmgr

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
