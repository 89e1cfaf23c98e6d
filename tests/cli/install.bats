#!/usr/bin/env bats
# make install and make uninstall, staged in a DESTDIR: every file lands
# where PREFIX, LIBDIR and friends say, with its mode; a program builds
# against the staged copy through pkg-config and runs; the Python package
# lands where the interpreter imports from and loads the staged library;
# the installed libraries export the public API alone; uninstall leaves
# none of our files.
#
# The file builds its own copy of the library and CLI (a few seconds) in a
# private BUILD directory with its own PREFIX, so it never touches the
# build the other tests use, whatever variant (sanitizer, coverage) that is.

bats_require_minimum_version 1.5.0

TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
PFX=/opt/pm
MULTIARCH=/opt/pm/lib/x86_64-linux-gnu
# The interpreter the Makefile installs the Python package for.
PY=${PYTHON:-python3}
[ -n "${PYTHON:-}" ] || [ ! -x /usr/bin/python3 ] || PY=/usr/bin/python3

# The version as procmgr.h defines it.
header_version() {
	local part v=
	for part in MAJOR MINOR PATCH; do
		v=$v${v:+.}$(sed -n "s/^#define PROCMGR_VERSION_$part[[:space:]]*\([0-9]*\).*/\1/p" \
			"$TOP/include/procmgr.h")
	done
	echo "$v"
}

# mk BUILD [VAR=VALUE...] [TARGET...]: a plain make of this tree into BUILD,
# shielded from the make that runs the tests (its flags, its variant).
mk() {
	local build=$1
	shift
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
		make -C "$TOP" --no-print-directory -j2 BUILD="$build" \
		SANITIZE= COVERAGE= WERROR=0 "$@"
}

setup_file() {
	B=$BATS_FILE_TMPDIR/build
	mk "$B" PREFIX=$PFX all man "$B/libprocmgr-internal.a" \
		>"$BATS_FILE_TMPDIR/build.log" 2>&1 ||
		{ cat "$BATS_FILE_TMPDIR/build.log" >&3; return 1; }
}

setup() {
	B=$BATS_FILE_TMPDIR/build
	D=$BATS_TEST_TMPDIR/root
	V=$(header_version)
	PYDIR=$("$PY" "$TOP/python/site-dir.py" "$PFX")
}

# The package's files, as install_staged puts them.
python_files() {
	local f
	for f in "$TOP"/python/procmgr/*.py; do
		echo "f 644 ${PYDIR#/}/procmgr/${f##*/}"
	done
}

# install_staged [VAR=VALUE...]: make install of the file's build into $D.
install_staged() {
	run -0 --separate-stderr mk "$B" PREFIX=$PFX LIBDIR=$MULTIARCH \
		DESTDIR="$D" "$@" install
}

# Every non-directory under $D: "TYPE MODE PATH", sorted.
staged_files() {
	[ ! -d "$D" ] || find "$D" ! -type d -printf '%y %m %P\n' | sort
}

# What install must put there for PREFIX=/opt/pm and the multiarch LIBDIR.
expected_files() {
	local lib=${MULTIARCH#/}
	{
		echo "f 755 opt/pm/bin/procmgr"
		echo "f 644 opt/pm/include/procmgr.h"
		echo "f 644 opt/pm/share/bash-completion/completions/procmgr"
		echo "f 644 opt/pm/share/man/man1/procmgr.1"
		echo "f 644 opt/pm/share/man/man3/procmgr.3"
		echo "f 644 $lib/libprocmgr.a"
		echo "f 755 $lib/libprocmgr.so.$V"
		echo "l 777 $lib/libprocmgr.so.0"
		echo "l 777 $lib/libprocmgr.so"
		echo "f 644 $lib/pkgconfig/procmgr.pc"
		echo "f 755 opt/pm/libexec/procmgr/procmgr-monitor"
		python_files
	} | sort
}

@test "install puts each file under PREFIX and LIBDIR, with its mode" {
	install_staged
	diff -u <(expected_files) <(staged_files)
	lib=$D$MULTIARCH
	[ "$(readlink "$lib/libprocmgr.so.0")" = "libprocmgr.so.$V" ]
	[ "$(readlink "$lib/libprocmgr.so")" = libprocmgr.so.0 ]
	# the soname is what the .so.0 link is named
	objdump -p "$lib/libprocmgr.so.$V" | grep -q 'SONAME *libprocmgr\.so\.0$'
	cmp "$TOP/include/procmgr.h" "$D$PFX/include/procmgr.h"
	cmp "$TOP/completion/procmgr.bash" \
		"$D$PFX/share/bash-completion/completions/procmgr"
	run -0 "$D$PFX/bin/procmgr" --version
	[ "$output" = "procmgr $V" ]
}

@test "the pkg-config file names the real libdir, includedir and version" {
	install_staged
	pc=$D$MULTIARCH/pkgconfig/procmgr.pc
	grep -qx "prefix=$PFX" "$pc"
	grep -qx "libdir=$MULTIARCH" "$pc"
	grep -qx "includedir=$PFX/include" "$pc"
	grep -qx "Version: $V" "$pc"
	run -1 grep @ "$pc"
}

@test "a program builds against the staged copy with pkg-config and runs" {
	install_staged
	export PKG_CONFIG_PATH=$D$MULTIARCH/pkgconfig PKG_CONFIG_SYSROOT_DIR=$D
	run -0 pkg-config --modversion procmgr
	[ "$output" = "$V" ]
	flags=$(pkg-config --cflags --libs procmgr)
	[[ "$flags" == *"-I$D$PFX/include"* && "$flags" == *"-L$D$MULTIARCH"* ]]

	# shared, found through the rpath the man page recommends
	cc -std=c17 -Wall -Werror "$TOP/examples/client.c" -o "$BATS_TEST_TMPDIR/rpath" \
		$flags -Wl,-rpath,"$D$MULTIARCH"
	run -3 "$BATS_TEST_TMPDIR/rpath" --dir "$BATS_TEST_TMPDIR/pm" web
	[ "${lines[0]}" = "libprocmgr $V (built against $V)" ]
	[ "${lines[1]}" = "web: stopped" ]
	ldd "$BATS_TEST_TMPDIR/rpath" | grep -q "=> $D$MULTIARCH/libprocmgr.so.0 "

	# shared, found through LD_LIBRARY_PATH
	cc -std=c17 "$TOP/examples/client.c" -o "$BATS_TEST_TMPDIR/ldpath" $flags
	LD_LIBRARY_PATH=$D$MULTIARCH run -3 "$BATS_TEST_TMPDIR/ldpath" \
		--dir "$BATS_TEST_TMPDIR/pm" web
	[ "${lines[1]}" = "web: stopped" ]

	# static: no libprocmgr.so needed at run time
	cc -std=c17 "$TOP/examples/client.c" -o "$BATS_TEST_TMPDIR/static" \
		$(pkg-config --cflags procmgr) "$D$MULTIARCH/libprocmgr.a"
	run -0 ldd "$BATS_TEST_TMPDIR/static"
	[[ "$output" != *libprocmgr* ]]
	run -3 "$BATS_TEST_TMPDIR/static" --dir "$BATS_TEST_TMPDIR/pm" web
}

@test "the installed libraries export procmgr_* alone, no pm_* internals" {
	install_staged
	lib=$D$MULTIARCH
	run -0 bash -c "nm -g --defined-only '$lib/libprocmgr.a' | awk 'NF == 3 { print \$3 }'"
	[ "${#lines[@]}" -gt 30 ]
	for sym in "${lines[@]}"; do
		[[ "$sym" == procmgr_* ]] || { echo "exported from .a: $sym"; false; }
	done
	run -0 bash -c "nm -D --defined-only '$lib/libprocmgr.so.$V' | awk 'NF == 3 { print \$3 }'"
	[ "${#lines[@]}" -gt 30 ]
	for sym in "${lines[@]}"; do
		[[ "$sym" == procmgr_* ]] || { echo "exported from .so: $sym"; false; }
	done
	# the internals are still there for the tests, in the internal archive
	nm -g --defined-only "$B/libprocmgr-internal.a" | grep -q ' T pm_'
}

@test "uninstall removes every file install put there" {
	install_staged
	[ -n "$(staged_files)" ]
	run -0 mk "$B" PREFIX=$PFX LIBDIR=$MULTIARCH DESTDIR="$D" uninstall
	run -0 staged_files
	[ -z "$output" ] || { echo "left behind: $output"; false; }
	[ ! -e "$D$PFX/libexec/procmgr" ]
	# a second uninstall has nothing to do and still succeeds
	run -0 mk "$B" PREFIX=$PFX LIBDIR=$MULTIARCH DESTDIR="$D" uninstall
}

@test "install twice over itself is the same tree" {
	install_staged
	first=$(staged_files)
	install_staged
	[ "$(staged_files)" = "$first" ]
}

@test "without scdoc, install leaves out the man pages and warns" {
	install_staged SCDOC=/nonexistent/scdoc
	[[ "$stderr" == *"warning: /nonexistent/scdoc not found, man pages not installed"* ]]
	[ ! -e "$D$PFX/share/man" ]
	[ -x "$D$PFX/bin/procmgr" ]
	[ -e "$D$MULTIARCH/libprocmgr.so" ]
	run -0 mk "$B" PREFIX=$PFX LIBDIR=$MULTIARCH DESTDIR="$D" \
		SCDOC=/nonexistent/scdoc uninstall
	run -0 staged_files
	[ -z "$output" ]
}

@test "the Python package records LIBDIR and loads the library from there" {
	install_staged
	[ "$PYDIR" = "$PFX/lib/$("$PY" -c 'import sys; print("python%d.%d" % sys.version_info[:2])')/site-packages" ]
	for f in "$TOP"/python/procmgr/*.py; do
		[ "${f##*/}" = _paths.py ] && continue
		cmp "$f" "$D$PYDIR/procmgr/${f##*/}"
	done
	grep -qx "LIBDIR = \"$MULTIARCH\"" "$D$PYDIR/procmgr/_paths.py"
	# The staged LIBDIR is not where it was recorded to be: say so.
	PYTHONPATH=$D$PYDIR run -1 env -u PROCMGR_LIB "$PY" -c 'import procmgr'
	[[ "$output" == *"$MULTIARCH/libprocmgr.so.0 (the install LIBDIR)"* ]]
	# $PROCMGR_LIB overrides it
	PYTHONPATH=$D$PYDIR PROCMGR_LIB=$D$MULTIARCH/libprocmgr.so.0 \
		run -0 "$PY" -c 'import procmgr; print(procmgr.version(), procmgr.__file__)'
	[ "$output" = "$V $D$PYDIR/procmgr/__init__.py" ]

	# Recorded where it really is, it loads with nothing else said.
	run -0 mk "$B" PREFIX=$PFX LIBDIR=$MULTIARCH \
		PYTHON_LIBDIR=$D$MULTIARCH DESTDIR="$D" install-python
	cd "$BATS_TEST_TMPDIR"
	PYTHONPATH=$D$PYDIR run -0 env -u PROCMGR_LIB "$PY" -c '
import procmgr
pm = procmgr.ProcessManager("web", "pm")
print(procmgr.version(), pm.status().state)'
	[ "$output" = "$V stopped" ]
}

@test "the Python package goes to Debian's dist-packages for /usr and /usr/local" {
	"$PY" -c 'import sysconfig, sys; sys.exit("deb_system" not in sysconfig.get_scheme_names())' ||
		skip "$PY is not Debian's python3"
	run -0 mk "$B" PREFIX=/usr DESTDIR="$D" install-python
	[ -f "$D/usr/lib/python3/dist-packages/procmgr/__init__.py" ]
	run -0 mk "$B" PREFIX=/usr/local DESTDIR="$D" install-python
	pyv=$("$PY" -c 'import sys; print("python%d.%d" % sys.version_info[:2])')
	[ -f "$D/usr/local/lib/$pyv/dist-packages/procmgr/__init__.py" ]
	# an empty PYTHON_LIBDIR leaves the library to the dynamic linker
	run -0 mk "$B" PREFIX=/usr PYTHON_LIBDIR= DESTDIR="$D" install-python
	grep -qx 'LIBDIR = None' "$D/usr/lib/python3/dist-packages/procmgr/_paths.py"
	# what Python compiled on import goes too
	mkdir "$D/usr/lib/python3/dist-packages/procmgr/__pycache__"
	touch "$D/usr/lib/python3/dist-packages/procmgr/__pycache__/x.pyc"
	run -0 mk "$B" PREFIX=/usr DESTDIR="$D" uninstall-python
	run -0 mk "$B" PREFIX=/usr/local DESTDIR="$D" uninstall-python
	run -0 find "$D" ! -type d
	[ -z "$output" ]
	[ ! -e "$D/usr/lib/python3/dist-packages/procmgr" ]
}

@test "the defaults: PREFIX /usr/local, LIBDIR PREFIX/lib, LIBEXECDIR PREFIX/libexec" {
	B2=$BATS_TEST_TMPDIR/build-default
	run -0 mk "$B2" DESTDIR="$D" install
	for f in bin/procmgr lib/libprocmgr.a lib/libprocmgr.so \
		lib/pkgconfig/procmgr.pc include/procmgr.h \
		share/bash-completion/completions/procmgr; do
		[ -e "$D/usr/local/$f" ] || { echo "missing /usr/local/$f"; false; }
	done
	grep -qx 'libdir=/usr/local/lib' "$D/usr/local/lib/pkgconfig/procmgr.pc"
	[ "$(cat "$B2/monitor-path")" = /usr/local/libexec/procmgr/procmgr-monitor ]
	[ -x "$D/usr/local/libexec/procmgr/procmgr-monitor" ]
	[ -f "$D$("$PY" "$TOP/python/site-dir.py" /usr/local)/procmgr/__init__.py" ]
}

@test "the library is built with the monitor path of its LIBEXECDIR" {
	[ "$(cat "$B/monitor-path")" = "$PFX/libexec/procmgr/procmgr-monitor" ]
	grep -qaF "$PFX/libexec/procmgr/procmgr-monitor" "$B/libprocmgr.so.$(header_version)"
	grep -qaF "$PFX/libexec/procmgr/procmgr-monitor" "$B/procmgr"
}
