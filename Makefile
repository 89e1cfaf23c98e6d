# procmgr - one non-recursive GNU Makefile.
#
#   make                      libprocmgr.a, libprocmgr.so, procmgr
#   make check                unit tests (Check) + CLI tests (bats)
#                             + the Python binding's tests (pytest)
#                             + the fuzz corpora replayed + a short stress run
#   make unit, cli, python    one of those three
#   make stress               the whole stress suite (tests/stress; root)
#   make fuzz                 each libFuzzer target for FUZZ_SECONDS (30)
#   make valgrind             the CLI tests with procmgr under memcheck
#   make SANITIZE=address,undefined check
#   make coverage             line coverage of lib/ and src/ per file
#   make demo                 build, then show the lifecycle
#   make install              PREFIX, DESTDIR, BINDIR, LIBDIR, ... below
#   make uninstall            remove what install put there
#   make deb                  the Debian packages, into $(BUILD)/deb
#
# Objects go under $(BUILD), which differs per variant so a sanitizer or
# coverage build never mixes with the plain one.

# The version has one source, the PROCMGR_VERSION_* macros of procmgr.h.
# The soname follows the major number: 0.x releases keep the ABI of 0.1.
version_part = $(shell sed -n \
	's/^\#define PROCMGR_VERSION_$(1)[[:space:]]*\([0-9]*\).*/\1/p' \
	include/procmgr.h)
VERSION := $(call version_part,MAJOR).$(call version_part,MINOR).$(call version_part,PATCH)
SOVERSION := $(call version_part,MAJOR)

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
CFLAGS_ALL := -std=c17 -D_GNU_SOURCE $(OPT) $(WARN) -Iinclude \
	-fvisibility=hidden -DPROCMGR_BUILD
LDFLAGS_ALL :=

BUILD ?= build
ifneq ($(SANITIZE),)
BUILD := build/san
CFLAGS_ALL += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
LDFLAGS_ALL += -fsanitize=$(SANITIZE)
endif
# make valgrind's build: a dynamic CLI (see CLI_LDFLAGS)
ifeq ($(VALGRIND),1)
BUILD := build/vg
endif
ifeq ($(COVERAGE),1)
BUILD := build/cov
# atomic counters: the threads of a listing or a lock wait count the same
# lines, and plain increments from two threads leave counts gcov rejects
CFLAGS_ALL += --coverage -fprofile-update=atomic -DPROCMGR_COVERAGE
LDFLAGS_ALL += --coverage
endif
CFLAGS_ALL += $(CPPFLAGS) $(CFLAGS)
LDFLAGS_ALL += $(LDFLAGS)

# Where make install puts things. Each may be set on its own (Debian passes
# LIBDIR=/usr/lib/x86_64-linux-gnu); DESTDIR stages the whole tree. The
# library finds the monitor through LIBEXECDIR, which is compiled in: build
# and install with the same PREFIX and LIBEXECDIR (a change rebuilds lib/).
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
LIBEXECDIR ?= $(PREFIX)/libexec
INCLUDEDIR ?= $(PREFIX)/include
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
MONITOR_PATH := $(LIBEXECDIR)/procmgr/procmgr-monitor

LIB_SRC := $(sort $(wildcard lib/*.c))
CLI_SRC := $(sort $(wildcard src/*.c))
MONITOR_SRC := $(sort $(wildcard monitor/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test-*.c))
UNIT_COMMON := $(filter-out $(UNIT_SRC),$(wildcard tests/unit/*.c))
HELPER_SRC := $(sort $(wildcard tests/helpers/*.c))
BENCH_SRC := $(sort $(wildcard bench/*.c))
EXAMPLE_SRC := examples/notify-daemon.c
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz-*.c))

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
MONITOR_OBJ := $(MONITOR_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
UNIT_COMMON_OBJ := $(UNIT_COMMON:%.c=$(BUILD)/%.o)
HELPER_BIN := $(HELPER_SRC:tests/helpers/%.c=$(BUILD)/helpers/%)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
EXAMPLE_BIN := $(EXAMPLE_SRC:examples/%.c=$(BUILD)/examples/%)
# The fuzz targets built with $(CC) and replay.c: make check replays the
# corpora through them.
REPLAY_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz-replay/%)

# Two static libraries. libprocmgr.a is the one installed: its objects are
# linked into one (ld -r) whose hidden symbols are then made local, so only
# the PROCMGR_EXPORT API (procmgr_*) is global, as in the shared library.
# libprocmgr-internal.a keeps the pm_* internals visible for the unit tests,
# the test helpers and the monitor, which use them.
STATIC := $(BUILD)/libprocmgr.a
INTERNAL := $(BUILD)/libprocmgr-internal.a
SHARED := $(BUILD)/libprocmgr.so.$(VERSION)
PROCMGR := $(BUILD)/procmgr
# The monitor program (SPEC §6), installed under LIBEXECDIR/procmgr.
MONITOR := $(BUILD)/procmgr-monitor
MAN_PAGES := $(BUILD)/procmgr.1 $(BUILD)/procmgr.3
COMPLETION := completion/procmgr.bash

CHECK_CFLAGS = $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null || echo -lcheck)

OBJCOPY ?= objcopy

# The interpreter the binding is tested with and installed for: Debian's,
# whose python3-pytest `make deps` installs, when there is one.
PYTHON ?= $(firstword $(wildcard /usr/bin/python3) python3)

# Without scdoc, install leaves out the man pages and says so.
SCDOC ?= scdoc
HAVE_SCDOC := $(shell command -v $(SCDOC) 2>/dev/null)

DEPS := build-essential check bats gcovr scdoc python3 python3-pytest \
	pkg-config socat parallel strace util-linux
FUZZ_DEPS := clang libclang-rt-14-dev
VALGRIND_DEPS := valgrind bats

.PHONY: all check unit cli python stress fuzz valgrind valgrind-run \
	coverage demo deps clean install uninstall man bench deb \
	install-python uninstall-python \
	FORCE
all: $(STATIC) $(SHARED) $(PROCMGR) $(MONITOR) procmgr

$(BUILD)/%.o: %.c include/procmgr.h lib/internal.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -fPIC -MMD -c -o $@ $<

# lib/internal.h is for the library, the monitor and the tests; the CLI
# and the examples see procmgr.h alone.
INTERNAL_INC := -Ilib
$(LIB_OBJ) $(MONITOR_OBJ) $(UNIT_COMMON_OBJ): CFLAGS_ALL += $(INTERNAL_INC)

# The library reaches the monitor by a path fixed at build time. The stamp
# holds that path and changes only when it does, so that building with
# another PREFIX or LIBEXECDIR recompiles lib/ and nothing else does.
$(LIB_OBJ): CFLAGS_ALL += -DPROCMGR_MONITOR_PATH='"$(MONITOR_PATH)"'
$(LIB_OBJ): $(BUILD)/monitor-path
$(BUILD)/monitor-path: FORCE
	@mkdir -p $(dir $@)
	@echo '$(MONITOR_PATH)' | cmp -s - $@ || echo '$(MONITOR_PATH)' >$@

$(INTERNAL): $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/libprocmgr.o: $(LIB_OBJ)
	$(CC) -r -nostdlib -o $@.tmp $^
	$(OBJCOPY) --localize-hidden $@.tmp $@
	rm -f $@.tmp

$(STATIC): $(BUILD)/libprocmgr.o
	rm -f $@
	ar rcs $@ $^

# A lock wait that times out cancels its helper thread, and glibc loads
# libgcc_s at a process's first pthread_cancel(): with no fd left to
# open it, it aborts the process. Linked in, it is loaded at start.
UNWIND := -Wl,--push-state,--no-as-needed -lgcc_s -Wl,--pop-state

$(SHARED): $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,libprocmgr.so.$(SOVERSION) -o $@ $^ \
		$(UNWIND) $(LDFLAGS_ALL)
	ln -sf libprocmgr.so.$(VERSION) $(BUILD)/libprocmgr.so.$(SOVERSION)
	ln -sf libprocmgr.so.$(VERSION) $(BUILD)/libprocmgr.so

# The CLI links the installed static library: it uses procmgr.h alone.
# It is a static PIE: a command that lives a millisecond spent a seventh
# of it in the dynamic loader, and its peak RSS drops from 1.7 to 0.9
# MiB; as a PIE it keeps ASLR. (The sanitizers' runtimes are shared
# objects, so a SANITIZE build stays dynamic; so does make valgrind's,
# since memcheck reports the start-up of a static glibc as errors.) The
# library is still built shared for programs and bindings.
ifeq ($(SANITIZE)$(VALGRIND),)
CLI_LDFLAGS := -static-pie
endif
$(PROCMGR): $(CLI_OBJ) $(STATIC)
	$(CC) $(CLI_LDFLAGS) -o $@ $(CLI_OBJ) $(STATIC) -lpthread \
		$(LDFLAGS_ALL)

# The monitor is its own program (SPEC §6), built on the library's
# objects, internals included.
$(MONITOR): $(MONITOR_OBJ) $(INTERNAL)
	$(CC) -o $@ $(MONITOR_OBJ) $(INTERNAL) $(UNWIND) $(LDFLAGS_ALL)

# A stable path for the plain build's binary.
procmgr: $(PROCMGR)
	@[ "$(BUILD)" != build ] || ln -sf $(PROCMGR) procmgr

$(BUILD)/tests/%: tests/unit/%.c $(UNIT_COMMON_OBJ) $(INTERNAL)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(INTERNAL_INC) $(CHECK_CFLAGS) -o $@ $< \
		$(UNIT_COMMON_OBJ) \
		$(INTERNAL) $(CHECK_LIBS) $(UNWIND) $(LDFLAGS_ALL)

# test-oom fails the library's allocations one at a time: the allocators
# are wrapped at link time in this binary alone.
OOM_WRAP := malloc calloc realloc reallocarray strdup strndup vasprintf \
	fdopendir
$(BUILD)/tests/test-oom: LDFLAGS_ALL += $(OOM_WRAP:%=-Wl,--wrap=%)

# test-json checks the CLI's JSON writer.
$(BUILD)/tests/test-json: $(BUILD)/src/json.o
$(BUILD)/tests/test-json: CFLAGS_ALL += -Isrc
$(BUILD)/tests/test-json: UNIT_COMMON_OBJ += $(BUILD)/src/json.o

$(BUILD)/helpers/%: tests/helpers/%.c $(INTERNAL)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(INTERNAL_INC) -o $@ $< $(INTERNAL) $(LDFLAGS_ALL)

# The examples use the installed API alone, as a user's program would.
$(BUILD)/examples/%: examples/%.c $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(STATIC) $(LDFLAGS_ALL)

# A fuzz target and replay.c's main(); json and status use the CLI's JSON
# writer, as test-json does.
$(BUILD)/fuzz-replay/%: tests/fuzz/%.c tests/fuzz/replay.c tests/fuzz/fuzz.h \
		$(BUILD)/src/json.o $(INTERNAL)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(INTERNAL_INC) -Isrc -o $@ $< tests/fuzz/replay.c \
		$(BUILD)/src/json.o $(INTERNAL) -lpthread $(LDFLAGS_ALL)

$(BUILD)/bench/%: bench/%.c $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(STATIC) $(LDFLAGS_ALL)

# Install the Debian packages the build and tests need when root; say the
# apt-get line otherwise.
deps:
	@sh tests/deps.sh $(DEPS)

check: deps $(PROCMGR) $(SHARED) $(MONITOR) $(UNIT_BIN) $(HELPER_BIN) \
		$(EXAMPLE_BIN) $(REPLAY_BIN)
	@BUILD=$(BUILD) PYTHON=$(PYTHON) sh tests/run.sh

unit: $(UNIT_BIN) $(HELPER_BIN) $(MONITOR) $(REPLAY_BIN)
	@BUILD=$(BUILD) ONLY=unit sh tests/run.sh

cli: $(PROCMGR) $(SHARED) $(HELPER_BIN) $(MONITOR) $(EXAMPLE_BIN)
	@BUILD=$(BUILD) ONLY=cli sh tests/run.sh

# The Python binding's tests (tests/python, pytest) alone.
python: $(PROCMGR) $(SHARED) $(HELPER_BIN) $(MONITOR)
	@BUILD=$(BUILD) PYTHON=$(PYTHON) ONLY=python sh tests/run.sh

# STRESS_CASES picks cases: crash tree random reuse race corrupt (default:
# all).
stress: deps $(PROCMGR) $(MONITOR) $(HELPER_BIN)
	@BUILD=$(BUILD) bash tests/stress/run.sh $(STRESS_CASES)

# ---- libFuzzer: clang, the library (and the CLI's JSON writer)
# instrumented once into an archive of their own, one binary per
# tests/fuzz/fuzz-*.c; tests/fuzz/run.sh runs each for FUZZ_SECONDS over
# its seed corpus (tests/fuzz/corpus/<target>).
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 30
FUZZ_BUILD := build/fuzz
# Warnings, but not -Werror: clang warns where gcc does not (NLMSG_OK).
FUZZ_FLAGS := -std=c17 -D_GNU_SOURCE -O1 -g $(filter-out -Werror,$(WARN)) \
	-Iinclude -Ilib -Isrc \
	-fvisibility=hidden -DPROCMGR_BUILD -fno-omit-frame-pointer \
	-DPROCMGR_MONITOR_PATH='"$(MONITOR_PATH)"' \
	-fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_LIB := $(FUZZ_BUILD)/libprocmgr.a
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_BUILD)/%)

$(FUZZ_BUILD)/%.o: %.c include/procmgr.h lib/internal.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_LIB): $(LIB_SRC:%.c=$(FUZZ_BUILD)/%.o) $(FUZZ_BUILD)/src/json.o
	rm -f $@
	ar rcs $@ $^

$(FUZZ_BUILD)/fuzz-%: tests/fuzz/fuzz-%.c tests/fuzz/fuzz.h $(FUZZ_LIB)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB) \
		-lpthread

fuzz:
	@sh tests/deps.sh $(FUZZ_DEPS)
	@$(MAKE) --no-print-directory $(FUZZ_BIN)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run.sh $(FUZZ_BIN)

valgrind:
	@sh tests/deps.sh $(VALGRIND_DEPS)
	@$(MAKE) --no-print-directory VALGRIND=1 valgrind-run

valgrind-run: $(PROCMGR) $(SHARED) $(MONITOR) $(HELPER_BIN) $(EXAMPLE_BIN)
	@BUILD=$(BUILD) sh tests/valgrind/run.sh

coverage: deps
	rm -rf build/cov
	$(MAKE) COVERAGE=1 check
	@sh tests/coverage.sh build/cov

# The build's procmgr uses the build's monitor, not an installed one.
demo: deps $(PROCMGR) $(MONITOR) $(HELPER_BIN)
	@PROCMGR=$(PROCMGR) EXAMPLED=$(BUILD)/helpers/exampled \
		$(if $(MONITOR),PROCMGR_MONITOR=$(abspath $(MONITOR))) \
		sh examples/demo.sh

man: $(MAN_PAGES)
$(BUILD)/%: man/%.scd
	@mkdir -p $(dir $@)
	$(SCDOC) < $< > $@

# What make bench needs besides the build: the peers (start-stop-daemon
# comes with dpkg), hyperfine to time commands, psutil for the pants-style
# manager, perf for instruction counts, GNU time for peak RSS.
BENCH_DEPS := hyperfine s6 python3-psutil linux-perf time

bench: $(PROCMGR) $(MONITOR) $(BENCH_BIN) $(HELPER_BIN)
	@sh tests/deps.sh $(BENCH_DEPS)
	@BUILD=$(BUILD) sh bench/run.sh

# ---- install ------------------------------------------------------------
# Every file install writes is removed again by uninstall, below; keep the
# two lists in step (tests/cli/install.bats checks both).

ifneq ($(HAVE_SCDOC),)
INSTALL_MAN := $(MAN_PAGES)
endif

install: all $(INSTALL_MAN) install-python
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) \
		$(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR) \
		$(DESTDIR)$(BASHCOMPDIR)
	install -m 755 $(PROCMGR) $(DESTDIR)$(BINDIR)/procmgr
	install -m 644 $(STATIC) $(DESTDIR)$(LIBDIR)/libprocmgr.a
	install -m 755 $(SHARED) $(DESTDIR)$(LIBDIR)/libprocmgr.so.$(VERSION)
	ln -sf libprocmgr.so.$(VERSION) \
		$(DESTDIR)$(LIBDIR)/libprocmgr.so.$(SOVERSION)
	ln -sf libprocmgr.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libprocmgr.so
	install -m 644 include/procmgr.h $(DESTDIR)$(INCLUDEDIR)/procmgr.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
		-e 's|@VERSION@|$(VERSION)|' procmgr.pc.in \
		>$(DESTDIR)$(PKGCONFIGDIR)/procmgr.pc
	chmod 644 $(DESTDIR)$(PKGCONFIGDIR)/procmgr.pc
	install -m 644 $(COMPLETION) $(DESTDIR)$(BASHCOMPDIR)/procmgr
	install -d $(DESTDIR)$(LIBEXECDIR)/procmgr
	install -m 755 $(MONITOR) $(DESTDIR)$(MONITOR_PATH)
ifneq ($(HAVE_SCDOC),)
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3
	install -m 644 $(BUILD)/procmgr.1 $(DESTDIR)$(MANDIR)/man1/procmgr.1
	install -m 644 $(BUILD)/procmgr.3 $(DESTDIR)$(MANDIR)/man3/procmgr.3
else
	@echo "procmgr: warning: $(SCDOC) not found, man pages not installed" \
		"(apt-get install scdoc)" >&2
endif

# The monitor and its directory go whether or not monitor/ exists here: a
# tree installed by a newer checkout is still removed cleanly.
uninstall: uninstall-python
	rm -f $(DESTDIR)$(BINDIR)/procmgr \
		$(DESTDIR)$(LIBDIR)/libprocmgr.a \
		$(DESTDIR)$(LIBDIR)/libprocmgr.so.$(VERSION) \
		$(DESTDIR)$(LIBDIR)/libprocmgr.so.$(SOVERSION) \
		$(DESTDIR)$(LIBDIR)/libprocmgr.so \
		$(DESTDIR)$(INCLUDEDIR)/procmgr.h \
		$(DESTDIR)$(PKGCONFIGDIR)/procmgr.pc \
		$(DESTDIR)$(BASHCOMPDIR)/procmgr \
		$(DESTDIR)$(MONITOR_PATH) \
		$(DESTDIR)$(MANDIR)/man1/procmgr.1 \
		$(DESTDIR)$(MANDIR)/man3/procmgr.3
	[ ! -d $(DESTDIR)$(LIBEXECDIR)/procmgr ] || \
		rmdir --ignore-fail-on-non-empty $(DESTDIR)$(LIBEXECDIR)/procmgr

# The Python package (python/procmgr, issue 9) goes where $(PYTHON) imports
# from for this PREFIX (python/site-dir.py says where: Debian's
# dist-packages for /usr and /usr/local, PREFIX/lib/python3.X/site-packages
# elsewhere). Its _paths.py is written with PYTHON_LIBDIR, so the package
# loads the library installed beside it even where the dynamic linker does
# not look; an empty PYTHON_LIBDIR leaves the linker's search alone (the
# architecture-independent Debian package does that).
PYTHONDIR ?= $(shell $(PYTHON) python/site-dir.py $(PREFIX))
PYTHON_LIBDIR ?= $(LIBDIR)
PY_SRC := $(sort $(wildcard python/procmgr/*.py))
PY_PKG = $(DESTDIR)$(PYTHONDIR)/procmgr
install-python:
	@[ -n "$(PYTHONDIR)" ] || { echo "procmgr: cannot tell where" \
		"$(PYTHON) imports from; set PYTHONDIR" >&2; false; }
	install -d $(PY_PKG)
	install -m 644 $(filter-out %/_paths.py,$(PY_SRC)) $(PY_PKG)
	sed 's|^LIBDIR = None$$|LIBDIR = $(if $(PYTHON_LIBDIR),"$(PYTHON_LIBDIR)",None)|' \
		python/procmgr/_paths.py >$(PY_PKG)/_paths.py
	chmod 644 $(PY_PKG)/_paths.py
	grep -q '^LIBDIR = ' $(PY_PKG)/_paths.py

# __pycache__ is what Python wrote there when the package was imported.
uninstall-python:
	rm -f $(addprefix $(PY_PKG)/,$(notdir $(PY_SRC)))
	rm -rf $(PY_PKG)/__pycache__
	[ ! -d $(PY_PKG) ] || rmdir --ignore-fail-on-non-empty $(PY_PKG)

# The Debian packages (debian/), built in a copy of the tree so that the
# work tree and its build/ stay as they are; the .debs land in $(BUILD)/deb.
DEB_DIR := $(BUILD)/deb
deb:
	@sh tests/deps.sh debhelper dpkg-dev scdoc
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_DIR)/procmgr-$(VERSION)
	tar -cf - --exclude=./build --exclude=./procmgr --exclude=./.git \
		--exclude='*.gcda' --exclude='*.gcno' . | \
		tar -xf - -C $(DEB_DIR)/procmgr-$(VERSION)
	cd $(DEB_DIR)/procmgr-$(VERSION) && dpkg-buildpackage -us -uc -b
	@ls $(DEB_DIR)/*.deb

clean:
	rm -rf build procmgr

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
