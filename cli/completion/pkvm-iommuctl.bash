# bash completion for pkvm-iommuctl(1): commands, options, and the SMMU
# indexes, stream ids and owners pkvm-iommud knows, read from
# `pkvm-iommuctl --no-legend smmus|streams|donations` (the tables' first
# columns; tests/package/completion-test.sh holds them to the daemon's
# answers). Self-contained: it does not need the bash-completion package's
# helpers, so it also works when sourced on its own.

# The daemon's rows, on the bus the command line names. Bounded: a hung
# daemon must not hang the shell. Never starts a stopped daemon through
# D-Bus activation: completing a word is not asking for the service.
_pkvm_iommuctl_rows() {	# _pkvm_iommuctl_rows BUS-OPTION VERB
	local -a cmd=(pkvm-iommuctl)
	[[ -n $1 ]] && cmd+=("$1")
	command -v timeout >/dev/null && cmd=(timeout 2 "${cmd[@]}")
	"${cmd[@]}" --no-auto-start --no-legend "$2" 2>/dev/null
}

_pkvm_iommuctl() {
	local line=${COMP_LINE:0:COMP_POINT} cur='' bus='' w i
	local -a words=() args=()
	# Split what is typed so far on blanks only (bash splits "--owner=3" at
	# the '='), so an option and its value stay one word.
	read -ra words <<<"$line"
	[[ $line == *[[:blank:]] ]] || { cur=${words[-1]-}; unset 'words[-1]'; }
	COMPREPLY=()

	# The words before the cursor: options apart, the rest the command.
	for ((i = 1; i < ${#words[@]}; i++)); do
		w=${words[i]}
		case $w in
		--bus=*) bus=$w ;;
		--bus) ((i + 1 < ${#words[@]})) && bus="--bus=${words[++i]}" ;;
		-*) ;;
		*) args+=("$w") ;;
		esac
	done
	# "--bus VALUE" with VALUE being typed.
	if [[ ${words[-1]-} == --bus && ${#words[@]} -gt 1 ]]; then
		mapfile -t COMPREPLY < <(compgen -W 'system session' -- "$cur")
		return
	fi

	local value opt
	case $cur in
	--*=*)
		opt=${cur%%=*} value=${cur#*=}
		local -a vals=()
		case $opt in
		--bus) vals=(system session) ;;
		--json) vals=(short pretty) ;;
		--owner)
			# 0 host and 1 hypervisor always; guests from the ledger.
			mapfile -t vals < <({ printf '0\n1\n'
				_pkvm_iommuctl_rows "$bus" donations | awk '{ print $4 }'; } | sort -un)
			;;
		*) return ;;
		esac
		mapfile -t COMPREPLY < <(compgen -W "${vals[*]}" -- "$value")
		# bash replaces only the part after '=' when '=' breaks words.
		[[ $COMP_WORDBREAKS == *=* ]] ||
			COMPREPLY=("${COMPREPLY[@]/#/$opt=}")
		return
		;;
	-*)
		local opts='--help --version --bus= --json --json= --no-legend --no-auto-start'
		[[ ${args[0]-} == donations ]] && opts+=' --owner= --history'
		[[ ${args[0]-} == map ]] && opts+=' --width='
		mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
		# An option that takes a value gets no space after its '='.
		[[ ${#COMPREPLY[@]} == 1 && ${COMPREPLY[0]} == *= ]] && compopt -o nospace 2>/dev/null
		return
		;;
	esac

	local -a verbs=(status smmus streams policy donations map stats monitor metrics help) cand=()
	case ${#args[@]}:${args[0]-} in
	0:) cand=("${verbs[@]}") ;;
	1:help) cand=("${verbs[@]}") ;;
	2:help) [[ ${args[1]} == policy ]] && cand=(show check reload set) ;;
	1:policy) cand=(show check reload set) ;;
	*:policy)
		case ${args[1]}:${#args[@]} in
		check:2)
			compopt -o filenames 2>/dev/null
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
			return
			;;
		set:2) cand=(split stream fold) ;;
		set:3)
			if [[ ${args[2]} == split ]]; then
				cand=(auto hitless bbm presplit)
			elif [[ ${args[2]} == fold ]]; then
				cand=(eager lazy)
			elif [[ ${args[2]} == stream ]]; then
				mapfile -t cand < <(_pkvm_iommuctl_rows "$bus" smmus | awk '{ print $1 }')
			fi
			;;
		set:4)
			if [[ ${args[2]} == split ]]; then
				[[ ${args[3]} == presplit ]] && cand=(1 2 3)
			else
				mapfile -t cand < <(_pkvm_iommuctl_rows "$bus" streams |
					awk -v s="${args[3]}" '$1 == s { print $2 }')
			fi
			;;
		set:5) [[ ${args[2]} == stream ]] && cand=(isolate block) ;;
		esac
		;;
	esac
	mapfile -t COMPREPLY < <(compgen -W "${cand[*]}" -- "$cur")
}

complete -F _pkvm_iommuctl pkvm-iommuctl
