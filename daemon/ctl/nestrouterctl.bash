# bash completion for nestrouterctl (installed by the Debian package as
# /usr/share/bash-completion/completions/nestrouterctl). The commands and options are those of
# `nestrouterctl --help`; tests/deb/test-man.sh checks that each one is here.
_nestrouterctl_vms()
{
        # the guests the running daemon knows (root only, like the control socket)
        nestrouterctl ${run_dir:+--run-dir "$run_dir"} vm list 2>/dev/null | awk 'NR > 1 { print $1 }'
}

# _nestrouterctl_offer WORDS: those of WORDS that start with the word being completed
_nestrouterctl_offer()
{
        local IFS=$'\n'
        # compgen splits the word list on blanks and newlines (lists span lines here) and prints
        # one word a line; the assignment splits only there
        # shellcheck disable=SC2207
        COMPREPLY=($(IFS=$' \t\n' compgen -W "$1" -- "$cur"))
}

_nestrouterctl()
{
        local cur prev words cword
        _init_completion || return

        # the command and its position, after the global options
        local i cmd='' sub='' run_dir=''
        for ((i = 1; i < cword; i++)); do
                case ${words[i]} in
                --run-dir) run_dir=${words[i + 1]}; ((i++)) ;;
                --config) ((i++)) ;;
                -*) ;;
                *)
                        if [[ -z $cmd ]]; then cmd=${words[i]}
                        elif [[ -z $sub ]]; then sub=${words[i]}; fi ;;
                esac
        done

        case $prev in
        --run-dir) _filedir -d; return ;;
        --config) _filedir '@(yaml|yml)'; return ;;
        --format) _nestrouterctl_offer 'az arm bicep'; return ;;
        --timeout | --probe) return ;;
        esac

        case $cmd in
        '')
                _nestrouterctl_offer '--run-dir --config --help status leases reload confirm
                        plan metrics drain undrain vm guests doctor azure' ;;
        status | leases) _nestrouterctl_offer '--json' ;;
        reload) [[ $prev == --confirm ]] || _nestrouterctl_offer '--confirm' ;;
        confirm | plan | metrics | drain | undrain) ;;
        vm)
                case $sub in
                '') _nestrouterctl_offer 'list start stop reset console checkpoint checkpoints
                        revert checkpoint-delete' ;;
                list) _nestrouterctl_offer '--json' ;;
                start | reset | checkpoint | checkpoints | revert | checkpoint-delete)
                        [[ $prev == "$sub" ]] && _nestrouterctl_offer "$(_nestrouterctl_vms)" ;;
                stop)
                        if [[ $prev == stop ]]; then _nestrouterctl_offer "$(_nestrouterctl_vms)"
                        else _nestrouterctl_offer '--force'; fi ;;
                console)
                        if [[ $prev == console ]]; then _nestrouterctl_offer "$(_nestrouterctl_vms)"
                        else _nestrouterctl_offer '--follow'; fi ;;
                esac ;;
        guests)
                if [[ -z $sub ]]; then _nestrouterctl_offer 'shutdown'
                else _nestrouterctl_offer '--timeout'; fi ;;
        doctor) _nestrouterctl_offer '--probe --timeout' ;;
        azure)
                if [[ -z $sub ]]; then _nestrouterctl_offer 'routes routeserver'
                elif [[ $cur == -* ]]; then _nestrouterctl_offer '--format --remove'
                else _filedir '@(yaml|yml)'; fi ;;
        esac
} &&
        complete -F _nestrouterctl nestrouterctl

# ex: filetype=sh
