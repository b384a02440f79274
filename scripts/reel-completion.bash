# bash completion for reel: commands, each command's options and the model
# names, read from reel's own --help so they never go stale. Installed by
# `cmake --install` as share/bash-completion/completions/reel; or source it.
_reel_words() { # the first words of the lines after the heading $2 in `reel $1 --help`
    "$_reel_bin" $1 --help 2>/dev/null | awk -v h="$2" 'index($0, h) == 1 { f = 1; next } f && NF { print $1 }'
}

_reel() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    _reel_bin=${COMP_WORDS[0]}
    COMPREPLY=()
    if ((COMP_CWORD == 1)); then
        COMPREPLY=($(compgen -W "$(_reel_words "" commands:) --help --version" -- "$cur"))
        return
    fi
    local cmd=${COMP_WORDS[1]} values=
    case $prev in
    --model) values=$(_reel_words compare models) ;;
    --models) # a comma-separated list: complete its last name
        local head=
        [[ $cur == *,* ]] && head=${cur%,*},
        COMPREPLY=($(compgen -P "$head" -W "$(_reel_words compare models)" -- "${cur##*,}"))
        compopt -o nospace 2>/dev/null
        return ;;
    --device) values="auto cpu gpu cuda cuda:0 opencl opencl:0" ;;
    --format) values="table json csv onnx" ;;
    --method) values="single-pass backward permutation" ;;
    --strategy) values="one-at-a-time coordinate grid random" ;;
    --metric) values="samples-f1 micro-f1 macro-f1" ;;
    --missing-columns) values="error impute" ;;
    --decision) values="auto threshold tuned-global tuned-per-label expected-f1 expected-f1+calibrated" ;;
    --data | --params | --model-file | --save | --out | --features | --grid | --checkpoint | --valid | --test | \
        --models-dir)
        COMPREPLY=($(compgen -f -- "$cur"))
        compopt -o filenames 2>/dev/null
        return ;;
    esac
    if [[ -n $values ]]; then
        COMPREPLY=($(compgen -W "$values" -- "$cur"))
    elif [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$("$_reel_bin" "$cmd" --help 2>/dev/null | grep -o '^  --[a-z0-9-]*')" -- "$cur"))
    fi
}
complete -F _reel reel
