#!/usr/bin/env bash
# Gives the test suite a real SMTP server on loopback: Python's aiosmtpd,
# storing every message it receives in a maildir the tests read.
#
#   scripts/smtp.sh         start (or reuse) the server, print its URL
#   scripts/smtp.sh stop    stop it again
#
# Typical use:
#   export ROLECALL_TEST_SMTP_URL=$(scripts/smtp.sh)
#   export ROLECALL_TEST_SMTP_MAILDIR=target/smtp/maildir
#
# Only the URL goes to stdout; everything else (including the maildir's
# path) goes to stderr, so the command substitution above captures exactly
# the URL.
#
# The server listens only on 127.0.0.1:$ROLECALL_SMTP_PORT (default 52525),
# accepts every message without authentication or TLS, and lives in
# target/smtp in the repository (so `cargo clean` removes it):
#   maildir/     the messages received (new/ holds one file per message)
#   smtpd.pid    the server's process id
#   smtpd.log    its output
#   lock         serialises concurrent runs of this script
set -euo pipefail

PORT="${ROLECALL_SMTP_PORT:-52525}"

SCRIPT=smtp.sh
PORT_VAR=ROLECALL_SMTP_PORT
# shellcheck source=scripts/server-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/server-lib.sh"
parse_action "$@"
check_port

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="$REPO_ROOT/target/smtp"
MAILDIR="$DIR/maildir"
PIDFILE="$DIR/smtpd.pid"
LOGFILE="$DIR/smtpd.log"

# Prints the pid in the pid file if that process is still our aiosmtpd (not
# a recycled pid): its command line names aiosmtpd and our maildir.
live_pid() {
  local pid cmdline
  [[ -f "$PIDFILE" ]] || return 1
  pid="$(<"$PIDFILE")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline")"
  [[ "$cmdline" == *aiosmtpd* && "$cmdline" == *"$MAILDIR"* ]] || return 1
  printf '%s\n' "$pid"
}

# True if something accepts TCP connections on 127.0.0.1:$PORT.
port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null
}

# True if an SMTP server greets us on 127.0.0.1:$PORT. In a subshell with
# stderr silenced: bash reports a refused connection on stderr.
smtp_ready() {
  (
    exec 3<>"/dev/tcp/127.0.0.1/$PORT" || exit 1
    greeting=""
    read -r -t 2 greeting <&3 || true
    printf 'QUIT\r\n' >&3 || true
    [[ "$greeting" == 220* ]]
  ) 2>/dev/null
}

ensure_aiosmtpd() {
  command -v python3 >/dev/null 2>&1 || die "python3 is needed for the test SMTP server"
  if python3 -c 'import aiosmtpd' 2>/dev/null; then
    return
  fi
  log "installing aiosmtpd for $(command -v python3) (pip install --quiet aiosmtpd)"
  python3 -m pip install --quiet aiosmtpd >&2 || die "could not install aiosmtpd with pip"
  python3 -c 'import aiosmtpd' 2>/dev/null || die "aiosmtpd installed but cannot be imported"
}

do_stop() {
  local pid
  if pid="$(live_pid)"; then
    log "stopping the SMTP server (pid $pid)"
    kill "$pid"
    for _ in $(seq 1 50); do
      [[ -d "/proc/$pid" ]] || break
      sleep 0.1
    done
  else
    log "no SMTP server running (looked for $PIDFILE)"
  fi
  rm -f "$PIDFILE"
}

do_start() {
  mkdir -p "$DIR"
  # Two test runs started at once must not both start a server. The server
  # must not inherit fd 9, else it would hold the lock for its whole life.
  if command -v flock >/dev/null 2>&1; then
    exec 9>>"$DIR/lock"
    flock -w 60 9 || die "timed out waiting for $DIR/lock (another run of this script?)"
  fi

  local pid
  if pid="$(live_pid)"; then
    log "reusing the SMTP server already running (pid $pid)"
  else
    rm -f "$PIDFILE"
    if port_in_use; then
      die "port $PORT on 127.0.0.1 is already used by another program; pick a free one with ROLECALL_SMTP_PORT"
    fi
    ensure_aiosmtpd
    log "starting aiosmtpd on 127.0.0.1:$PORT (log: $LOGFILE)"
    # setsid: its own session, so it outlives this script and the terminal.
    # -n: stay as this user (aiosmtpd would switch to `nobody` as root).
    setsid python3 -m aiosmtpd -n -l "127.0.0.1:$PORT" \
      -c aiosmtpd.handlers.Mailbox "$MAILDIR" \
      </dev/null >"$LOGFILE" 2>&1 9>&- &
    pid=$!
    printf '%s\n' "$pid" >"$PIDFILE"
  fi

  local i
  for ((i = 0; i < 100; i++)); do
    smtp_ready && break
    [[ -d "/proc/$pid" ]] || {
      tail -n 20 "$LOGFILE" >&2 2>/dev/null || true
      die "aiosmtpd exited (output above, also in $LOGFILE)"
    }
    sleep 0.1
  done
  smtp_ready || die "aiosmtpd (pid $pid) does not answer on 127.0.0.1:$PORT; see $LOGFILE"

  log "maildir: $MAILDIR"
  printf 'smtp://127.0.0.1:%s\n' "$PORT"
}

case "$ACTION" in
  start) do_start ;;
  stop) do_stop ;;
esac
