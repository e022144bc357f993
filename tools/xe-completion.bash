# bash completion for hvnet's xe: commands, parameter names and values (uuids of the right class,
# field names for param-name=, the choices of mode= and friends). Everything it offers comes from
# xe itself (`xe help --minimal`, `xe help <command>`, `xe <class>-list --minimal`), so it never
# lists a command or parameter xe does not have. Installed by tools/install-deps.sh.

_xe_params() {  # the parameter names of command $1, one per line
  xe help "$1" 2>/dev/null | sed -n 's/^ *\(reqd\|optional\) params *: *//p' | tr ',' '\n' |
    sed 's/^ *//; /^$/d'
}

_xe() {
  local line=${COMP_LINE:0:COMP_POINT}
  local -a words
  read -r -a words <<<"$line"
  local cur=""
  [[ $line == *" " ]] || { cur=${words[-1]}; unset 'words[-1]'; }
  COMPREPLY=()
  if ((${#words[@]} <= 1)); then
    local IFS=$' \t\n,'
    COMPREPLY=($(compgen -W "$(xe help --minimal 2>/dev/null)" -- "$cur"))
    return 0
  fi
  local cmd=${words[1]}
  if [[ $cur == *=* ]]; then
    local param=${cur%%=*} value=${cur#*=} class="" choices="" done_part=""
    case $param in
      uuid) class=${cmd%%-*} ;;
      pif-uuids)
        class=pif
        [[ $value == *,* ]] && done_part=${value%,*}, && value=${value##*,}
        ;;
      *-uuid) class=${param%-uuid} ;;
      param-name)
        choices=$(_xe_params "${cmd%%-*}-list" | grep -vx params)
        ;;
      mode)
        case $cmd in
          bond-*) choices="balance-slb active-backup lacp" ;;
          pif-reconfigure-ip) choices="none dhcp static" ;;
          pif-reconfigure-ipv6) choices="none dhcp static autoconf" ;;
        esac
        ;;
      locking-mode) choices="network_default locked unlocked disabled" ;;
      default-locking-mode) choices="locked unlocked disabled" ;;
      class) choices="pool host network pif vif vlan bond vm task" ;;
    esac
    [[ -n $class ]] && choices=$(xe "$class-list" --minimal 2>/dev/null | tr ',' ' ')
    local prefix="$param=$done_part"
    # With '=' a word break (bash's default) the word being completed starts after the '='.
    [[ $COMP_WORDBREAKS == *=* ]] && prefix=$done_part
    local IFS=$' \t\n'
    COMPREPLY=($(compgen -P "$prefix" -W "$choices" -- "$value"))
    return 0
  fi
  local given=" ${words[*]:2} " candidates=() p
  while read -r p; do
    [[ -z $p ]] && continue
    [[ $p == *: ]] && { candidates+=("$p"); continue; }  # map prefixes: properties:
    [[ $given == *" $p="* ]] || candidates+=("$p=")
  done < <(_xe_params "$cmd")
  local IFS=$'\n'
  COMPREPLY=($(compgen -W "${candidates[*]}" -- "$cur"))
  compopt -o nospace 2>/dev/null
  return 0
}

complete -F _xe xe
