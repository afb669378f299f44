# bash completion for lambdeck                                  -*- shell-script -*-
# Installed to share/bash-completion/completions/lambdeck by `cmake --install`.

_lambdeck_project()
{
	local project=. i
	for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
		[[ ${COMP_WORDS[i]} == --project ]] && project=${COMP_WORDS[i + 1]}
	done
	printf '%s' "$project"
}

# The project's function names: --json is one line; a function object starts with
# {"name":...,"runtime":...
_lambdeck_functions()
{
	lambdeck --project "$(_lambdeck_project)" functions --json 2>/dev/null |
		grep -o '{"name":"[^"]*","runtime"' | sed 's/^{"name":"\([^"]*\)".*/\1/'
}

# The project's declared services (lambdeck.json "services").
_lambdeck_services()
{
	lambdeck --project "$(_lambdeck_project)" services list --json 2>/dev/null |
		grep -o '{"name":"[^"]*","kind"' | sed 's/^{"name":"\([^"]*\)".*/\1/'
}

# The built-in event templates' names.
_lambdeck_templates()
{
	lambdeck events templates --json 2>/dev/null |
		grep -o '{"name":"[^"]*","summary"' | sed 's/^{"name":"\([^"]*\)".*/\1/'
}

# After --event: the saved events of the function being invoked, template:NAME, files.
_lambdeck_events()
{
	local fn="" i project
	project=$(_lambdeck_project)
	for ((i = 1; i < cword; i++)); do
		if [[ ${words[i]} == invoke ]]; then
			fn=${words[i + 1]}
			break
		fi
	done
	local saved="" t f
	if [[ -n $fn && -d $project/events/$fn ]]; then
		for f in "$project/events/$fn"/*.json; do
			[[ $f == *.snapshot.json || ! -f $f ]] && continue
			f=${f##*/}
			saved+=" ${f%.json}"
		done
	fi
	for t in $(_lambdeck_templates); do
		saved+=" template:$t"
	done
	COMPREPLY=($(compgen -W "$saved -" -- "$cur"))
	_filedir json
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
	local commands="functions build deploy invoke events replay logs test emulate services doctor"

	case $prev in
	--project | --state-dir)
		_filedir -d
		return
		;;
	--keymap)
		_filedir
		COMPREPLY+=($(compgen -W "vim" -- "$cur")) # built-in maps
		return
		;;
	--junit)
		_filedir
		return
		;;
	--event)
		_lambdeck_events
		return
		;;
	--template)
		COMPREPLY=($(compgen -W "$(_lambdeck_templates)" -- "$cur"))
		return
		;;
	--function)
		COMPREPLY=($(compgen -W "$(_lambdeck_functions)" -- "$cur"))
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
		--host | --debounce | --param | --max-concurrency | --idle-timeout | --limit | \
		--parallel | --snapshot | --from)
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
	functions) opts="--json --status" ;;
	build) opts="--json --full $(_lambdeck_functions)" ;;
	deploy) opts="--force --watch --full --parallel --rebuild --json $(_lambdeck_functions)" ;;
	invoke) opts="--event --type --qualifier --json --no-update --snapshot $(_lambdeck_functions)" ;;
	events) opts="list show new edit rename cp rm templates --json --template --param --from -y --yes
		$(_lambdeck_functions)" ;;
	replay) opts="--list --function --json --no-update --limit --diff" ;;
	logs) opts="-f --follow --since --filter --json --poll $(_lambdeck_functions)" ;;
	test) opts="--watch --json --explain --snapshots --timeout --junit --debounce --quiet" ;;
	emulate) opts="--host --port --state-dir --region --any-credentials --allow-remote --share-with-group
		--max-concurrency --idle-timeout --quiet --exit-when-unused --exit-with-parent --env" ;;
	services) opts="list env logs start stop restart reset --json -n --wait $(_lambdeck_services)" ;;
	doctor) opts="--json --no-call" ;;
	esac
	[[ -n $cmd ]] && opts="$opts $globals"
	COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
complete -F _lambdeck lambdeck
