# shellcheck shell=bash
# What scripts/postgres.sh and scripts/smtp.sh share: messages, the
# `[start|stop]` argument and the port check. Sourced, after the caller has
# set SCRIPT (its name for messages), PORT and PORT_VAR (the variable that
# chose the port).

log() { printf '%s: %s\n' "$SCRIPT" "$*" >&2; }
die() {
  printf '%s: error: %s\n' "$SCRIPT" "$*" >&2
  exit 1
}

usage() {
  printf 'usage: %s [start|stop]\n' "$0" >&2
  exit 2
}

# Sets ACTION from the arguments: start (the default) or stop.
parse_action() {
  ACTION="${1:-start}"
  case "$ACTION" in
    start | stop) ;;
    *) usage ;;
  esac
  [[ $# -le 1 ]] || usage
}

# Checks PORT and normalises it: no leading zeros, which some servers'
# configuration files would read as octal.
check_port() {
  # 10# keeps a leading zero from being read as octal.
  if ! [[ "$PORT" =~ ^[0-9]{1,5}$ ]] || ((10#$PORT < 1 || 10#$PORT > 65535)); then
    die "$PORT_VAR must be a TCP port number (1-65535), got '$PORT'"
  fi
  PORT=$((10#$PORT))
  readonly PORT
}
