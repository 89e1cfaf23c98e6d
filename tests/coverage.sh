#!/bin/sh
# Print line coverage of lib/, src/ and monitor/ per file from the coverage
# build in $1, and fail if any file is under 90%.
obj=${1:-build/cov}
out=$(gcovr -r . -f 'lib/' -f 'src/' -f 'monitor/' --object-directory "$obj" \
	--exclude-unreachable-branches "$obj" 2>/dev/null) || exit 1
echo "$out"
low=$(echo "$out" | awk '$1 ~ /^(lib|src|monitor)\// && $4+0 < 90 { print $1 " " $4 }')
if [ -n "$low" ]; then
	echo "coverage under 90%:"
	echo "$low"
	exit 1
fi
