#!/bin/sh
# Install the Debian packages named in "$@" that are missing: directly when
# root, otherwise print the one apt-get line that would do it and fail.
missing=
for p in "$@"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
	echo "procmgr: installing build dependencies:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null && apt-get install -y -qq $missing >/dev/null ||
		{ echo "procmgr: apt-get install failed" >&2; exit 1; }
	exit 0
fi
echo "procmgr: missing build dependencies; run as root:" >&2
echo "  apt-get install -y$missing" >&2
exit 1
