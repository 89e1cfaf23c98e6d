#!/usr/bin/env bats
# procmgr host-fingerprint: HOSTFP exactly as pants computes it.

bats_require_minimum_version 1.5.0
load helpers

setup() { pm_setup; }
teardown() { pm_teardown; }

@test "host-fingerprint equals python's sha256 over os.uname()" {
	run -0 pm host-fingerprint
	want=$(python3 -c '
import hashlib, os
h = hashlib.sha256()
for field in os.uname():
    h.update(field.encode())
print(h.hexdigest()[:12])')
	[ "$output" = "$want" ]
	[[ "$output" =~ ^[0-9a-f]{12}$ ]]
}

@test "it names the directory metadata goes into" {
	pm set web socket 1
	[ -d "$PROCMGR_DIR/$(pm host-fingerprint)/web" ]
}

@test "it takes no operands" {
	run -2 pm host-fingerprint extra
	run -2 pm host-fingerprint --bogus
	run -0 pm host-fingerprint --help
	[[ "$output" == *"host-fingerprint"* ]]
}

@test "a failed write to stdout is an error, not success" {
	run -1 --separate-stderr bash -c '"$PROCMGR" host-fingerprint >/dev/full'
	[[ "$stderr" == "procmgr: "*"standard output"* ]]
}
