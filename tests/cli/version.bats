#!/usr/bin/env bats
# The version has one source, PROCMGR_VERSION_MAJOR/MINOR/PATCH in
# procmgr.h; everything that shows a version must agree with it.

bats_require_minimum_version 1.5.0

TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
: "${PROCMGR:=$TOP/build/procmgr}"

setup() {
	V=
	for part in MAJOR MINOR PATCH; do
		n=$(sed -n "s/^#define PROCMGR_VERSION_$part[[:space:]]*\([0-9]*\).*/\1/p" \
			"$TOP/include/procmgr.h")
		[[ "$n" =~ ^[0-9]+$ ]]
		V=$V${V:+.}$n
	done
}

@test "procmgr --version prints the header's version" {
	run -0 "$PROCMGR" --version
	[ "$output" = "procmgr $V" ]
}

@test "the shared library is named for it" {
	[ -e "$(dirname "$PROCMGR")/libprocmgr.so.$V" ]
	[ "$(readlink "$(dirname "$PROCMGR")/libprocmgr.so.${V%%.*}")" = "libprocmgr.so.$V" ]
}

@test "debian/changelog's newest entry is that version" {
	run -0 sed -n '1s/^procmgr (\([^)]*\)).*/\1/p' "$TOP/debian/changelog"
	# without an epoch or a Debian revision, if there is one
	v=${output#*:}
	[ "${v%-*}" = "$V" ]
}

@test "no other file spells out a version of its own" {
	# the Makefile and procmgr.pc.in take it from the header
	run -1 grep -nE '^VERSION *:?= *[0-9]' "$TOP/Makefile"
	run -1 grep -nE '[0-9]+\.[0-9]+\.[0-9]+' "$TOP/procmgr.pc.in"
	run -1 grep -nE '#define PROCMGR_VERSION +"' "$TOP/include/procmgr.h"
}
