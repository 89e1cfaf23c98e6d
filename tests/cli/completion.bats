#!/usr/bin/env bats
# completion/procmgr.bash: commands, options, option values, the NAMEs under
# DIR and the daemon's command line after "--". The script's lists are
# written out by hand, so the last tests hold them to procmgr's --help.

bats_require_minimum_version 1.5.0
load helpers

SCRIPT=$BATS_TEST_DIRNAME/../../completion/procmgr.bash

setup() {
	pm_setup
	# shellcheck source=../../completion/procmgr.bash
	source "$SCRIPT"
}
teardown() { pm_teardown; }

# comp WORD...: what a TAB offers at the end of "procmgr WORD...", one
# candidate a line, sorted. The words are given as bash splits them: an
# "=" word was typed with no blank around it.
comp() {
	local w prev=
	COMP_WORDS=("$PROCMGR" "$@")
	COMP_CWORD=$#
	COMP_LINE=
	for w in "${COMP_WORDS[@]}"; do
		[[ -z $COMP_LINE || $w == = || $prev == = ]] || COMP_LINE+=" "
		COMP_LINE+=$w
		prev=$w
	done
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_procmgr
	[ "${#COMPREPLY[@]}" -eq 0 ] || printf '%s\n' "${COMPREPLY[@]}" | sort
}

# is_in WORD LIST: WORD is one of LIST's words.
is_in() {
	# shellcheck disable=SC2086 # split LIST into words
	[[ " $(printf '%s ' $2)" == *" $1 "* ]]
}

@test "commands, at the start and after global options" {
	run -0 comp ""
	for cmd in start ensure restart stop status list get set await purge \
		lock logs host-fingerprint touch ps killall help; do
		is_in "$cmd" "$output"
	done
	run -0 comp st
	[ "$output" = $'start\nstatus\nstop' ]
	run -0 comp --json -q --dir /tmp e
	[ "$output" = ensure ]
	run -0 comp help re
	[ "$output" = restart ]
}

@test "options: global ones before the command, each command's after it" {
	run -0 comp --d
	[ "$output" = --dir ]
	run -0 comp --ver
	[ "$output" = $'--verbose\n--version' ]
	run -0 comp stop web --k
	[ "$output" = $'--keep-metadata\n--kill-mode\n--kill-wait' ]
	run -0 comp logs web -
	is_in -n "$output" && is_in --follow "$output" && is_in --json "$output"
	run -1 is_in --signals "$output"
	run -0 comp ensure web --fingerprint-
	[ "$output" = $'--fingerprint-env\n--fingerprint-file' ]
	# options may come before NAME
	run -0 comp purge --f
	[ "$output" = --force ]
}

@test "option values: ready modes, signal chains, env names, directories" {
	run -0 comp start web --ready ""
	[ "$output" = $'exec\nfd:\nnotify\nsocket\ntcp:\nunix:' ]
	run -0 comp start web --ready n
	[ "$output" = notify ]
	# --ready=n as bash splits it, and as one word
	run -0 comp start web --ready = n
	[ "$output" = notify ]
	run -0 comp start web --ready=n
	[ "$output" = notify ]
	run -0 comp stop web --signals TERM,K
	[ "$output" = TERM,KILL ]
	PM_COMPLETION_VAR=1 run -0 comp start web --env PM_COMPLETION_V
	[ "$output" = PM_COMPLETION_VAR= ]
	PM_COMPLETION_VAR=1 run -0 comp ensure web --fingerprint-env PM_COMPLETION_V
	[ "$output" = PM_COMPLETION_VAR ]
	mkdir -p "$T/somedir" && touch "$T/somefile"
	run -0 comp --dir "$T/some"
	[ "$output" = "$T/somedir" ]
	run -0 comp start web --log "$T/somef"
	[ "$output" = "$T/somefile" ]
	# a value is not an operand: the NAME still comes after it
	pm set web k v
	run -0 comp stop --kill-wait 3 ""
	[ "$output" = web ]
	run -0 comp stop --kill-wait=3 ""
	[ "$output" = web ]
}

@test "NAMEs: the directories under DIR/HOSTFP, wherever DIR comes from" {
	pm set web k v
	pm set api k v
	run -0 comp status ""
	[ "$output" = $'api\nweb' ]
	run -0 comp stop w
	[ "$output" = web ]
	run -0 comp logs -n 5 ""
	[ "$output" = $'api\nweb' ]

	# --dir, in both spellings, before or after the command
	"$PROCMGR" --dir "$T/other" set db k v
	for words in "--dir $T/other status" "status --dir $T/other" \
		"--dir=$T/other status"; do
		run -0 comp $words ""
		[ "$output" = db ]
	done
	run -0 comp --dir = "$T/other" status ""
	[ "$output" = db ]

	# $XDG_RUNTIME_DIR/procmgr when $PROCMGR_DIR is unset
	mkdir -p "$T/xdg"
	"$PROCMGR" --dir "$T/xdg/procmgr" set cache k v
	run -0 env -u PROCMGR_DIR XDG_RUNTIME_DIR="$T/xdg" bash -c \
		'source "$1"; COMP_WORDS=("$2" status ""); COMP_CWORD=2
		 _procmgr; echo "${COMPREPLY[@]}"' _ "$SCRIPT" "$PROCMGR"
	[ "$output" = cache ]

	# and /tmp/procmgr-UID last (looked at, not created, here)
	run -0 env -u PROCMGR_DIR -u XDG_RUNTIME_DIR bash -c \
		'source "$1"; words=(procmgr status); cword=2; _procmgr_dir' _ "$SCRIPT"
	[ "$output" = "/tmp/procmgr-$UID" ]

	# a missing DIR offers nothing
	run -0 comp --dir "$T/none" status ""
	[ -z "$output" ]
}

@test "operands: one NAME, then a KEY of that NAME for get, set and await" {
	pm set web socket 8080
	pm set web owner me
	run -0 comp status web ""
	[ -z "$output" ]
	run -0 comp get web ""
	[ "$output" = $'owner\nsocket' ]
	run -0 comp await web so
	[ "$output" = socket ]
	run -0 comp set web o
	[ "$output" = owner ]
	run -0 comp set web owner ""
	[ -z "$output" ]
	run -0 comp list ""
	[ -z "$output" ]
}

@test "after --: the daemon's command, then its arguments" {
	run -0 comp start web --ready notify -- slee
	is_in sleep "$output"
	touch "$T/arg-file"
	run -0 comp lock web -- ls "$T/arg-"
	[ "$output" = "$T/arg-file" ]
	# procmgr's options are not offered to the daemon
	run -0 comp start web -- sleep --re
	run -1 is_in --ready-timeout "$output"
}

@test "with the bash-completion package loaded too" {
	[ -r /usr/share/bash-completion/bash_completion ] ||
		skip "bash-completion is not installed"
	# shellcheck source=/dev/null
	source /usr/share/bash-completion/bash_completion
	source "$SCRIPT"
	declare -F _get_comp_words_by_ref >/dev/null
	pm set web socket 1
	run -0 comp st
	[ "$output" = $'start\nstatus\nstop' ]
	run -0 comp status ""
	[ "$output" = web ]
	run -0 comp get web s
	[ "$output" = socket ]
	run -0 comp start web --ready = n
	[ "$output" = notify ]
	run -0 comp stop --kill-wait = 3 ""
	[ "$output" = web ]
	run -0 comp stop web --signals TERM,K
	[ "$output" = TERM,KILL ]
	mkdir -p "$T/somedir"
	run -0 comp --dir "$T/some"
	[ "$output" = "$T/somedir" ]
	run -0 comp start web -- slee
	is_in sleep "$output"
}

# The options listed under "Options:" in `procmgr CMD --help`, one a line.
help_options() {
	"$PROCMGR" "$1" --help | sed -n '/^Options:/,/^$/p' |
		grep -oE '^  (-[a-zA-Z], )?--?[a-zA-Z][a-zA-Z0-9-]*' |
		tr ',' '\n' | tr -d ' '
}

# The same, only those that take a value ("--signals LIST").
help_value_options() {
	"$PROCMGR" "$1" --help | sed -n '/^Options:/,/^$/p' |
		grep -oE '^  (-[a-zA-Z], )?--?[a-zA-Z][a-zA-Z0-9-]* [A-Z]' |
		sed 's/ [A-Z]$//' | tr ',' '\n' | tr -d ' '
}

@test "each command's options are those of its --help" {
	for cmd in $_procmgr_commands; do
		"$PROCMGR" "$cmd" --help >/dev/null 2>&1 || continue
		script=$(_procmgr_options "$cmd")
		help=$(help_options "$cmd")
		for o in $help; do
			is_in "$o" "$script" ||
				{ echo "$cmd --help has $o, the script does not"; false; }
		done
		for o in $script; do
			is_in "$o" "$help" ||
				{ echo "the script has $cmd $o, --help does not"; false; }
		done
		for o in $(help_value_options "$cmd"); do
			_procmgr_takes_value "$o" ||
				{ echo "$cmd $o takes a value, the script thinks not"; false; }
		done
		for o in $help; do
			is_in "$o" "$(help_value_options "$cmd")" && continue
			run -1 _procmgr_takes_value "$o"
		done
	done
}

@test "the commands and global options are those of procmgr --help" {
	run -0 "$PROCMGR" --help
	help_cmds=$(echo "$output" | sed -n '/^Commands:/,/^$/p' |
		grep -oE '^  [a-z][a-z-]*' | tr -d ' ')
	[ -n "$help_cmds" ]
	for cmd in $help_cmds; do
		is_in "$cmd" "$_procmgr_commands" ||
			{ echo "procmgr has $cmd, the script does not"; false; }
	done
	for cmd in $_procmgr_commands; do
		[ "$cmd" = help ] && continue
		is_in "$cmd" "$help_cmds" ||
			{ echo "the script has $cmd, procmgr does not"; false; }
	done
	help_globals=$(echo "$output" | sed -n '/^Global options:/,/^$/p' |
		grep -oE '^  (-[a-zA-Z], )?--?[a-zA-Z][a-zA-Z0-9-]*' |
		tr ',' '\n' | tr -d ' ')
	[ "$(echo $help_globals | tr ' ' '\n' | sort)" = \
		"$(echo $_procmgr_global_options --version | tr ' ' '\n' | sort)" ]
}

@test "the values offered for an option are the ones its --help names" {
	start_help=$("$PROCMGR" start --help)
	for mode in exec socket notify fd: tcp: unix:; do
		[[ "$start_help" == *"$mode"* ]]
	done
	for opt in --restart --kill-mode; do
		[[ "$start_help" == *"$opt "* ]] || continue
		cur=
		for v in $(_procmgr_value "$opt"; echo "${COMPREPLY[@]}"); do
			[[ "$start_help" == *"$v"* ]] ||
				{ echo "$opt $v is not in start --help"; false; }
		done
	done
}
