# bash completion for lambdeck                                  -*- shell-script -*-
# Installed to share/bash-completion/completions/lambdeck by `cmake --install`.

_lambdeck_functions()
{
	local project=. i
	for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
		[[ ${COMP_WORDS[i]} == --project ]] && project=${COMP_WORDS[i + 1]}
	done
	lambdeck --project "$project" functions --json 2>/dev/null |
		sed -n 's/^\t\t\t"name":[[:space:]]*"\([^"]*\)".*/\1/p' # functions[].name
}

_lambdeck()
{
	local cur prev words cword split
	_init_completion -s || return

	local globals="--project --local --aws --profile --region --endpoint-url --keep-emulator
		--keymap --ascii --read-only --low-bandwidth --mouse --no-mouse --help --version
		--stage --env-vars --parameter-overrides --skip-deps"

	# --low-bandwidth and --mouse take an optional value, only after '='.
	if [[ $split == true && ($prev == --low-bandwidth || $prev == --mouse) ]]; then
		COMPREPLY=($(compgen -W "on off auto" -- "$cur"))
		return
	fi
	local commands="functions build deploy invoke events replay logs test emulate doctor"

	case $prev in
	--project | --state-dir)
		_filedir -d
		return
		;;
	--keymap | --junit)
		_filedir
		return
		;;
	--env-vars)
		_filedir json
		return
		;;
	--profile)
		COMPREPLY=($(compgen -W "$(sed -n 's/^\[\(profile \)\{0,1\}\([^]]*\)\]/\2/p' \
			~/.aws/credentials ~/.aws/config 2>/dev/null)" -- "$cur"))
		return
		;;
	--type)
		COMPREPLY=($(compgen -W "RequestResponse Event DryRun" -- "$cur"))
		return
		;;
	--region | --endpoint-url | --qualifier | --since | --filter | --timeout | --port | \
		--host | --debounce | --param | --template | --max-concurrency | --idle-timeout)
		return
		;;
	esac

	local cmd="" i
	for ((i = 1; i < cword; i++)); do
		if [[ " $commands " == *" ${words[i]} "* ]]; then
			cmd=${words[i]}
			break
		fi
	done

	local opts=""
	case $cmd in
	"") opts="$globals $commands" ;;
	functions) opts="--json" ;;
	build) opts="--json --full $(_lambdeck_functions)" ;;
	deploy) opts="--force --watch --full --parallel --rebuild $(_lambdeck_functions)" ;;
	invoke) opts="--event --type --qualifier --json --no-update --snapshot $(_lambdeck_functions)" ;;
	events) opts="list show new edit rename cp rm templates --json --template --param --from -y" ;;
	replay) opts="--list --function --json --no-update --limit" ;;
	logs) opts="-f --follow --since --filter --json --poll $(_lambdeck_functions)" ;;
	test) opts="--watch --json --explain --snapshots --timeout --junit --debounce --quiet" ;;
	emulate) opts="--host --port --state-dir --region --any-credentials --allow-remote --share-with-group
		--max-concurrency --idle-timeout --quiet" ;;
	doctor) opts="--json --no-call" ;;
	esac
	[[ -n $cmd ]] && opts="$opts $globals"
	COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
complete -F _lambdeck lambdeck
