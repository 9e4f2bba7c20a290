# bash completion for taskqueue, taskqueue-dispatcher and taskqueue-workerpool
# Installed as /usr/share/bash-completion/completions/taskqueue (and linked under the daemons'
# names). Keep the commands and options in step with src/cli/main.ts and src/common/daemon.ts.

# The worker types a config file names: its sections, less the fixed and logging ones and the
# instance sections (<type>_<instance>) of a type that has a section of its own.
_taskqueue_types() {
  local file=$1
  [[ -r $file ]] || return 0
  local -a sections
  mapfile -t sections < <(sed -n 's/^[[:space:]]*\[\([^]]*\)\][[:space:]]*$/\1/p' "$file")
  local s t keep
  for s in "${sections[@]}"; do
    case $s in
      DEFAULT | amqp | dispatcher | workerpool | formatters | handlers | loggers) continue ;;
      formatter_* | handler_* | logger_*) continue ;;
    esac
    keep=1
    for t in "${sections[@]}"; do
      [[ $t != "$s" && $s == "${t}_"* ]] && keep=0
    done
    ((keep)) && printf '%s\n' "$s"
  done
}

_taskqueue() {
  local cur prev
  cur=${COMP_WORDS[COMP_CWORD]}
  prev=${COMP_WORDS[COMP_CWORD - 1]}
  case $prev in
    -c | --config)
      compopt -o filenames 2>/dev/null
      mapfile -t COMPREPLY < <(compgen -f -- "$cur")
      return 0
      ;;
    --timeout | --queue | --load-timeout | --group | --management | --id | --limit | --api | --token | --since | --until | --field | --cursor) return 0 ;;
    --token-file)
      compopt -o filenames 2>/dev/null
      mapfile -t COMPREPLY < <(compgen -f -- "$cur")
      return 0
      ;;
    --socket)
      compopt -o filenames 2>/dev/null
      mapfile -t COMPREPLY < <(compgen -f -- "$cur")
      return 0
      ;;
  esac

  # The command, the config file and the positional arguments given so far.
  local command='' config=/etc/taskqueue/config.ini positionals=0 i word
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=${COMP_WORDS[i]}
    case $word in
      -c | --config) config=${COMP_WORDS[i + 1]}; ((i++)) ;;
      --config=*) config=${word#--config=} ;;
      -*) ;;
      *) if [[ -z $command ]]; then command=$word; else ((positionals++)); fi ;;
    esac
  done

  local options
  case $command in
    '')
      if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W '-c --config --help --version' -- "$cur")
      else
        mapfile -t COMPREPLY < <(compgen -W 'submit results check-config plugins run-task queues dead purge status task tasks retry cancel' -- "$cur")
      fi
      return 0
      ;;
    submit)
      options='--wait --timeout --priority --delay --at --ttl -c --config --help'
      if [[ $cur != -* && $positionals -eq 0 ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(_taskqueue_types "$config")" -- "$cur")
        return 0
      fi
      ;;
    results) options='--follow -f --peek --queue --properties -c --config --help' ;;
    check-config) options='--for-other-host -c --config --help' ;;
    plugins) options='--load --no-load --load-timeout -c --config --help' ;;
    status) options='--json --socket -c --config --help' ;;
    run-task)
      options='--group --pretty -c --config --help'
      if [[ $cur != -* && $positionals -eq 0 ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(_taskqueue_types "$config")" -- "$cur")
        return 0
      fi
      ;;
    queues)
      options='--json --management --passive --type --api --token --token-file -c --config --help'
      if [[ $prev == --type ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(_taskqueue_types "$config")" -- "$cur")
        return 0
      fi
      ;;
    dead)
      options='--invalid --id --all --limit --dry-run --yes --json -c --config --help'
      if [[ $cur != -* && $positionals -eq 0 ]]; then
        mapfile -t COMPREPLY < <(compgen -W 'list requeue drop' -- "$cur")
        return 0
      fi
      if [[ $cur != -* && $positionals -eq 1 ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(_taskqueue_types "$config")" -- "$cur")
        return 0
      fi
      ;;
    purge) options='--yes -c --config --help' ;;
    task | retry | cancel) options='--json --api --token --token-file -c --config --help' ;;
    tasks)
      options='--state --type --since --until --field --limit --cursor --json --api --token --token-file -c --config --help'
      if [[ $prev == --type ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(_taskqueue_types "$config")" -- "$cur")
        return 0
      fi
      if [[ $prev == --state ]]; then
        mapfile -t COMPREPLY < <(compgen -W 'submitted queued delayed dispatched running retrying succeeded failed poisoned invalid expired cancelled incomplete' -- "$cur")
        return 0
      fi
      ;;
    *) return 0 ;;
  esac
  [[ $cur == -* ]] && mapfile -t COMPREPLY < <(compgen -W "$options" -- "$cur")
  return 0
}

_taskqueue_daemon() {
  local cur prev
  cur=${COMP_WORDS[COMP_CWORD]}
  prev=${COMP_WORDS[COMP_CWORD - 1]}
  if [[ $prev == -c || $prev == --config ]]; then
    compopt -o filenames 2>/dev/null
    mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    return 0
  fi
  mapfile -t COMPREPLY < <(compgen -W '-c --config -f --foreground --help --version' -- "$cur")
}

complete -F _taskqueue taskqueue
complete -F _taskqueue_daemon taskqueue-dispatcher taskqueue-workerpool
