# bash completion for procmgr(1)                           -*- shell-script -*-
#
# Completes the commands, each command's options, the values of the options
# that take a fixed set of them, and the NAMEs that have metadata under DIR
# (DIR as procmgr picks it: --dir, $PROCMGR_DIR, $XDG_RUNTIME_DIR/procmgr,
# /tmp/procmgr-UID; NAMEs are the directories in DIR/HOSTFP). After "--" it
# completes the daemon's command line like any other.
#
# The option lists are written out here, which keeps a TAB free of extra
# processes; tests/cli/completion.bats checks them against each command's
# --help, so a new option must be added here too. It works with or without
# the bash-completion package (using its helpers when they are loaded).

_procmgr_commands="start ensure restart stop status list get set await purge
	lock logs host-fingerprint touch ps killall help"

_procmgr_global_options="--dir --json -q --quiet -v --verbose -h --help"

# The options of COMMAND, without the global ones.
_procmgr_options()
{
	local spawn="--fingerprint --fingerprint-env --fingerprint-file --cwd
		--log --log-max --env --process-name --ready --ready-timeout
		--kill-on-timeout --lock-timeout --restart --restart-limit
		--idle-timeout --watchdog --max-rss --kill-mode --pid-file
		--signals --kill-wait"
	case $1 in
	start | ensure | restart) echo "$spawn" ;;
	stop) echo "--signals --kill-wait --keep-metadata --lock-timeout
		--all --kill-mode" ;;
	await) echo "--timeout" ;;
	purge) echo "-f --force --lock-timeout" ;;
	lock) echo "--lock-timeout" ;;
	logs) echo "-n --lines -f --follow" ;;
	killall) echo "--signals --kill-wait --kill-mode" ;;
	esac
}

# 0 when OPTION (global or of any command) takes a value.
_procmgr_takes_value()
{
	case $1 in
	--dir | --fingerprint | --fingerprint-env | --fingerprint-file | \
	--cwd | --log | --log-max | --env | --process-name | --ready | \
	--ready-timeout | --lock-timeout | --restart | --restart-limit | \
	--idle-timeout | --watchdog | --max-rss | --kill-mode | --pid-file | \
	--signals | --kill-wait | --timeout | -n | --lines)
		return 0 ;;
	esac
	return 1
}

# How many NAME-like operands COMMAND takes before its options end:
# NAME for most, NAME KEY for get and await, NAME KEY VALUE for set.
_procmgr_operands()
{
	case $1 in
	start | ensure | restart | stop | status | purge | lock | logs | touch)
		echo 1 ;;
	get | await) echo 2 ;;
	set) echo 3 ;;
	help) echo 1 ;;
	*) echo 0 ;;
	esac
}

# The base directory procmgr would use for this command line.
_procmgr_dir()
{
	local i dir=
	for ((i = 1; i < cword; i++)); do
		[[ ${words[i]} == -- ]] && break
		case ${words[i]} in
		--dir) dir=${words[i + 1]} ;;
		--dir=*) dir=${words[i]#--dir=} ;;
		esac
	done
	if [[ -n $dir ]]; then
		dir=${dir/#\~/$HOME}
	elif [[ -n ${PROCMGR_DIR-} ]]; then
		dir=$PROCMGR_DIR
	elif [[ -n ${XDG_RUNTIME_DIR-} ]]; then
		dir=$XDG_RUNTIME_DIR/procmgr
	else
		dir=/tmp/procmgr-$UID
	fi
	printf '%s\n' "$dir"
}

# The NAMEs with metadata: the directories under DIR/HOSTFP.
_procmgr_names()
{
	local dir fp prog=${words[0]/#\~/$HOME} d
	dir=$(_procmgr_dir)
	[[ -d $dir ]] || return
	[[ $prog == */* && -x $prog ]] || prog=procmgr
	fp=$("$prog" host-fingerprint 2>/dev/null) || return
	[[ -n $fp ]] || return
	for d in "$dir/$fp"/*/; do
		[[ -d $d ]] || continue
		d=${d%/}
		printf '%s\n' "${d##*/}"
	done
}

# The keys of NAME: the files in DIR/HOSTFP/NAME.
_procmgr_keys()
{
	local dir fp prog=${words[0]/#\~/$HOME} f
	dir=$(_procmgr_dir)
	[[ $prog == */* && -x $prog ]] || prog=procmgr
	fp=$("$prog" host-fingerprint 2>/dev/null) || return
	for f in "$dir/$fp/$1"/*; do
		[[ -f $f ]] && printf '%s\n' "${f##*/}"
	done
}

# compopt, quietly: it fails outside a completion (as when tested).
_procmgr_compopt()
{
	compopt "$@" 2>/dev/null
	return 0
}

# COMPREPLY from the words of $1 that start with $cur.
_procmgr_reply()
{
	mapfile -t COMPREPLY < <(compgen -W "$1" -- "$cur")
}

_procmgr_files()
{
	if declare -F _filedir >/dev/null; then
		_filedir ${1:+-d}
		return
	fi
	_procmgr_compopt -o filenames
	mapfile -t COMPREPLY < <(compgen -"${1:-f}" -- "$cur")
}

# The value of option $1 being completed in $cur.
_procmgr_value()
{
	case $1 in
	--dir | --cwd) _procmgr_files d ;;
	--log | --fingerprint-file | --pid-file) _procmgr_files ;;
	--fingerprint-env) _procmgr_reply "$(compgen -e)" ;;
	--env)
		_procmgr_reply "$(compgen -e -S =)"
		_procmgr_compopt -o nospace ;;
	--ready)
		_procmgr_reply "exec socket notify fd: tcp: unix:"
		# "tcp:" wants its port right after the colon
		if [[ ${#COMPREPLY[@]} == 1 && ${COMPREPLY[0]} == *: ]]; then
			_procmgr_compopt -o nospace
		fi ;;
	--restart) _procmgr_reply "no on-failure always" ;;
	--kill-mode) _procmgr_reply "tree process" ;;
	--signals)
		# a comma-separated chain: complete its last signal
		local head=
		[[ $cur == *,* ]] && head=${cur%,*},
		cur=${cur##*,}
		_procmgr_reply "TERM KILL INT HUP QUIT USR1 USR2"
		COMPREPLY=("${COMPREPLY[@]/#/$head}") ;;
	esac
}

# words/cword without bash-completion: COMP_WORDS splits "--dir=x" into
# "--dir" "=" "x"; join them back so that an option and its value are one
# word, as procmgr sees them.
_procmgr_words()
{
	local i w glue=0
	words=() cword=0
	for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do
		w=${COMP_WORDS[i]}
		if ((glue)) || [[ $w == = && ${words[-1]-} == --* &&
			${words[-1]} != *=* ]]; then
			words[-1]+=$w
			[[ $w == = ]] && glue=1 || glue=0
		else
			words+=("$w")
		fi
		((i == COMP_CWORD)) && cword=$((${#words[@]} - 1))
	done
	cur=${words[cword]-}
}

_procmgr()
{
	local cur words cword i w cmd= cmdi=0 nops=0 dashdash=0 opt
	COMPREPLY=()
	# "--dir=x" is one word to us; ':' (in "--ready tcp:") stays a word
	# break, as readline sees it.
	if declare -F _get_comp_words_by_ref >/dev/null; then
		_get_comp_words_by_ref -n = cur words cword
	else
		_procmgr_words
	fi

	# Walk the words before the cursor: the command, the operands it has,
	# and whether "--" ended procmgr's own arguments.
	for ((i = 1; i < cword; i++)); do
		w=${words[i]}
		if [[ $w == -- ]]; then
			dashdash=$i
			break
		elif [[ $w == -* ]]; then
			[[ $w != *=* ]] && _procmgr_takes_value "$w" && ((i++))
		elif [[ -z $cmd ]]; then
			cmd=$w cmdi=$i
		else
			nops=$((nops + 1))
		fi
	done

	# The daemon's command line: complete it as a command of its own.
	if ((dashdash)); then
		if declare -F _command_offset >/dev/null; then
			_command_offset $((dashdash + 1))
		elif ((cword == dashdash + 1)); then
			mapfile -t COMPREPLY < <(compgen -c -- "$cur")
		else
			_procmgr_files
		fi
		return
	fi

	# An option's value, as the next word or after "=". Where '=' breaks
	# words (the default), readline replaces the value alone.
	if [[ $cur == --*=* ]]; then
		opt=${cur%%=*}
		cur=${cur#*=}
		_procmgr_value "$opt"
		[[ $COMP_WORDBREAKS == *=* ]] ||
			COMPREPLY=("${COMPREPLY[@]/#/$opt=}")
		return
	fi
	if ((cword > 1)) && _procmgr_takes_value "${words[cword - 1]}"; then
		_procmgr_value "${words[cword - 1]}"
		return
	fi

	if [[ $cur == -* ]]; then
		opt=$(_procmgr_options "$cmd")
		[[ -n $cmd ]] || opt=--version
		_procmgr_reply "$_procmgr_global_options $opt"
		return
	fi
	if [[ -z $cmd ]]; then
		_procmgr_reply "$_procmgr_commands"
		return
	fi
	((nops < $(_procmgr_operands "$cmd"))) || return
	case $cmd:$nops in
	help:0) _procmgr_reply "$_procmgr_commands" ;;
	get:1 | set:1 | await:1)
		# the NAME is the first operand after the command
		for ((i = cmdi + 1; i < cword; i++)); do
			w=${words[i]}
			if [[ $w == -* ]]; then
				[[ $w != *=* ]] && _procmgr_takes_value "$w" && ((i++))
				continue
			fi
			_procmgr_reply "$(_procmgr_keys "$w")"
			break
		done ;;
	set:2) ;;
	*:0) _procmgr_reply "$(_procmgr_names)" ;;
	esac
}

complete -F _procmgr procmgr
