#!/usr/bin/env bash
# Gives the test suite a real, throwaway PostgreSQL server on loopback.
#
#   scripts/postgres.sh         start (or reuse) the server, print its URL
#   scripts/postgres.sh stop    stop it again
#
# Typical use:
#   export ROLECALL_TEST_POSTGRES_URL=$(scripts/postgres.sh)
#
# Only the URL goes to stdout, everything else goes to stderr, so the command
# substitution above captures exactly the URL.
#
# The cluster is private to this project: it lives in $ROLECALL_PG_DIR
# (default: target/postgres in the repository, so `cargo clean` removes it),
# listens only on 127.0.0.1:$ROLECALL_PG_PORT (default 55432), trusts every
# local connection and has a superuser called `rolecall`. The Debian system
# cluster, systemd and pg_ctlcluster are never used, so this works the same in
# a container without an init system and never clashes with a real server on
# port 5432.
#
# Layout of the directory:
#   data/          the data directory (also holds the unix socket)
#   postgres.log   the server log
#   initdb.log     output of the initdb that created data/
#   lock           serialises concurrent runs of this script
set -euo pipefail

readonly DB_USER=rolecall
readonly DB_NAME=rolecall_test
PORT="${ROLECALL_PG_PORT:-55432}"

SCRIPT=postgres.sh
PORT_VAR=ROLECALL_PG_PORT
# shellcheck source=scripts/server-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/server-lib.sh"
parse_action "$@"
check_port

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The directory under /tmp used when the postgres OS user cannot reach the
# default directory (e.g. the checkout lives below a 0700 /root).
FALLBACK_DIR="/tmp/rolecall-postgres-$UID"

# initdb and postgres refuse to run as root, so as root the cluster belongs to
# the `postgres` OS user that Debian's packages create; otherwise it belongs
# to whoever runs this script.
if [[ $EUID -eq 0 ]]; then
  RUN_AS_ROOT=1
else
  RUN_AS_ROOT=0
fi

# Runs a command as the cluster owner. `cd /` first because the caller's
# working directory (say /root) may be unreadable for the postgres user, which
# makes initdb and postgres complain.
as_owner() {
  if ((RUN_AS_ROOT)); then
    if command -v runuser >/dev/null 2>&1; then
      (cd / && runuser -u postgres -- "$@")
    else
      (cd / && su postgres -s /bin/bash -c "$(printf '%q ' "$@")")
    fi
  else
    (cd / && "$@")
  fi
}

# ---------------------------------------------------------------------------
# Server binaries
# ---------------------------------------------------------------------------

# Lists the bin directories of the installed server versions, oldest first.
server_bin_dirs() {
  # A version may have only its client installed (bin/ without postgres),
  # hence the checks; `if` keeps such a last entry from failing the function.
  local d
  for d in /usr/lib/postgresql/*/bin; do
    if [[ -x "$d/postgres" && -x "$d/initdb" && -x "$d/pg_ctl" ]]; then
      printf '%s\n' "$d"
    fi
  done | sort -V
}

# Installs Debian's server package. The package's maintainer scripts would
# start the default cluster on port 5432; a temporary policy-rc.d that denies
# every service start (the standard Debian mechanism, honoured by both
# invoke-rc.d and deb-systemd-invoke) prevents that. An existing policy-rc.d
# (as in Docker images) is left alone.
install_server() {
  ((RUN_AS_ROOT)) ||
    die "PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin; install them with 'sudo apt-get install postgresql' or run this script as root"
  command -v apt-get >/dev/null 2>&1 ||
    die "PostgreSQL server binaries not found and apt-get is not available to install them"

  local policy=/usr/sbin/policy-rc.d created_policy=0
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\n# temporary, from rolecall scripts/postgres.sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    created_policy=1
    # Remove it again however the install ends.
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi

  local apt=(apt-get install -y --no-install-recommends postgresql)
  log "installing PostgreSQL: ${apt[*]}"
  # The package lists of a fresh machine may be missing or stale; only refresh
  # them when the plain install fails, which saves time when they are fine.
  if ! DEBIAN_FRONTEND=noninteractive "${apt[@]}" >&2; then
    log "install failed, running apt-get update and retrying"
    apt-get update >&2 || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" >&2 || die "could not install the postgresql package"
  fi

  if ((created_policy)); then
    rm -f "$policy"
    trap - EXIT
  fi
}

# Picks the bin directory. An existing cluster must keep running on the major
# version that created it; a new one uses the newest installed version.
pick_bin_dir() {
  local data="$1" want="" d
  [[ -f "$data/PG_VERSION" ]] && want="$(<"$data/PG_VERSION")"
  if [[ -n "$want" ]]; then
    d="/usr/lib/postgresql/$want/bin"
    [[ -x "$d/postgres" && -x "$d/pg_ctl" ]] ||
      die "the cluster in $data was created by PostgreSQL $want, whose binaries ($d) are not installed; remove $data to start over"
    printf '%s\n' "$d"
  else
    server_bin_dirs | tail -n 1
  fi
}

# ---------------------------------------------------------------------------
# Cluster directory
# ---------------------------------------------------------------------------

# True when the cluster owner can create files in $1, which also proves it can
# traverse every parent directory.
owner_can_use_dir() {
  as_owner test -d "$1" && as_owner test -w "$1" && as_owner test -x "$1"
}

# Creates $1 (if needed) for the cluster owner and checks the owner can use it.
# Fails without side effects beyond an empty directory it removes again.
prepare_dir() {
  local dir="$1" created=0
  if [[ -L "$dir" ]]; then
    log "$dir is a symbolic link, not using it"
    return 1
  fi
  if [[ ! -d "$dir" ]]; then
    # umask 022 so that parent directories we create (target/) stay
    # traversable for the postgres user even under a strict umask.
    (umask 022 && mkdir -p "$dir") 2>/dev/null || return 1
    created=1
  fi
  # Under /tmp in particular, refuse a directory somebody else made.
  local owner
  owner="$(stat -c %U "$dir")"
  if ((RUN_AS_ROOT)); then
    case "$owner" in
      postgres) ;;
      root) chown postgres:postgres "$dir" || return 1 ;;
      *)
        log "$dir belongs to user $owner, not to postgres or root"
        return 1
        ;;
    esac
  elif [[ "$owner" != "$(id -un)" ]]; then
    log "$dir belongs to user $owner, not to $(id -un)"
    return 1
  fi
  if ! owner_can_use_dir "$dir"; then
    ((created)) && rmdir "$dir" 2>/dev/null
    return 1
  fi
  return 0
}

# Chooses the directory to use for starting. A directory picked explicitly
# through ROLECALL_PG_DIR is used as is or not at all; the default one falls
# back to /tmp when the postgres user cannot reach it.
choose_dir_for_start() {
  if [[ -n "${ROLECALL_PG_DIR:-}" ]]; then
    local dir
    dir="$(realpath -m -- "$ROLECALL_PG_DIR")"
    prepare_dir "$dir" ||
      die "cannot use ROLECALL_PG_DIR=$dir: the cluster owner ($(owner_name)) cannot create it or cannot traverse its parent directories"
    printf '%s\n' "$dir"
    return
  fi
  local default="$REPO_ROOT/target/postgres"
  if prepare_dir "$default"; then
    printf '%s\n' "$default"
    return
  fi
  log "the $(owner_name) user cannot create or write $default (or cannot traverse a parent directory); using $FALLBACK_DIR instead"
  prepare_dir "$FALLBACK_DIR" || die "cannot use $FALLBACK_DIR either"
  printf '%s\n' "$FALLBACK_DIR"
}

owner_name() {
  if ((RUN_AS_ROOT)); then echo postgres; else id -un; fi
}

# ---------------------------------------------------------------------------
# Server state
# ---------------------------------------------------------------------------

# Prints the postmaster PID recorded in $1/postmaster.pid if that process is
# still a postmaster for this data directory. pg_ctl's own check (kill -0)
# cannot tell a recycled PID from the real server, so compare the process's
# working directory, which the postmaster sets to its data directory.
live_postmaster_pid() {
  local data="$1" pid cwd
  [[ -f "$data/postmaster.pid" ]] || return 1
  pid="$(head -n 1 "$data/postmaster.pid" 2>/dev/null)" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -d "/proc/$pid" ]] || return 1
  if cwd="$(readlink "/proc/$pid/cwd" 2>/dev/null)"; then
    [[ "$cwd" == "$(realpath -- "$data")" ]] || return 1
  else
    # /proc/PID/cwd hidden from us: settle for the process name.
    [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == postgres* ]] || return 1
  fi
  printf '%s\n' "$pid"
}

# Removes what a killed server leaves behind, which would otherwise make the
# next start refuse or wait on a server that is gone.
clean_stale_files() {
  local data="$1"
  if [[ -e "$data/postmaster.pid" ]]; then
    log "removing stale postmaster.pid of a server that is no longer running"
    rm -f "$data/postmaster.pid"
  fi
  rm -f "$data"/.s.PGSQL.*
}

# True if something already accepts TCP connections on 127.0.0.1:$PORT.
port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null
}

# Waits until the server on $PORT accepts connections (it may still be
# starting up if another run of this script has just started it).
wait_ready() {
  local bin="$1" i
  for ((i = 0; i < 60; i++)); do
    # -U/-d: the default role (the OS user) does not exist in this cluster,
    # and probing as it would log a FATAL line on every run.
    "$bin/pg_isready" -q -h 127.0.0.1 -p "$PORT" -U "$DB_USER" -d postgres && return 0
    sleep 0.5
  done
  return 1
}

# ---------------------------------------------------------------------------
# Actions
# ---------------------------------------------------------------------------

do_stop() {
  # Starting may have fallen back to /tmp, so look in both places unless a
  # directory was chosen explicitly.
  local dirs=() dir data bin pid stopped=0
  if [[ -n "${ROLECALL_PG_DIR:-}" ]]; then
    dirs=("$(realpath -m -- "$ROLECALL_PG_DIR")")
  else
    dirs=("$REPO_ROOT/target/postgres" "$FALLBACK_DIR")
  fi
  for dir in "${dirs[@]}"; do
    data="$dir/data"
    [[ -f "$data/PG_VERSION" ]] || continue
    if pid="$(live_postmaster_pid "$data")"; then
      bin="$(pick_bin_dir "$data")"
      log "stopping the server in $data (pid $pid)"
      as_owner "$bin/pg_ctl" -D "$data" -m fast -w stop >&2 ||
        die "pg_ctl stop failed for $data; see $dir/postgres.log"
      stopped=1
    else
      [[ -e "$data/postmaster.pid" ]] && clean_stale_files "$data"
    fi
  done
  ((stopped)) || log "no server running (looked in ${dirs[*]})"
}

do_start() {
  if [[ -z "$(server_bin_dirs)" ]]; then
    install_server
    [[ -n "$(server_bin_dirs)" ]] ||
      die "installed the postgresql package but found no server binaries in /usr/lib/postgresql/*/bin"
  fi
  if ((RUN_AS_ROOT)) && ! getent passwd postgres >/dev/null; then
    die "running as root but there is no 'postgres' OS user to own the cluster (Debian's postgresql package creates it)"
  fi

  local dir data logfile bin pid
  dir="$(choose_dir_for_start)"
  data="$dir/data"
  logfile="$dir/postgres.log"

  # Two test runs started at once must not both initdb or start the cluster.
  # The server must not inherit fd 9 (see the start below), else it would
  # hold the lock for its whole life; the timeout guards against a server
  # that got it anyway.
  if command -v flock >/dev/null 2>&1; then
    exec 9>>"$dir/lock"
    flock -w 120 9 || die "timed out waiting for $dir/lock (another run of this script?)"
  fi

  if [[ -e "$data" && ! -f "$data/PG_VERSION" ]]; then
    die "$data exists but is not a PostgreSQL data directory; remove it and run again"
  fi
  if ((RUN_AS_ROOT)) && [[ -d "$data" ]] && [[ "$(stat -c %U "$data")" != postgres ]]; then
    die "$data belongs to $(stat -c %U "$data"), not to postgres; stop that server and remove $data (it is a throwaway cluster)"
  fi

  bin="$(pick_bin_dir "$data")"

  if [[ ! -d "$data" ]]; then
    # initdb into a scratch directory and rename it at the end, so an
    # interrupted initdb never leaves a half-made cluster behind as "data".
    local scratch="$dir/data.initdb"
    rm -rf "$scratch"
    log "creating a cluster in $data with $bin/initdb"
    # Its chatter (including advice naming the scratch directory) goes to a
    # file and is shown only when it fails.
    if ! as_owner "$bin/initdb" -D "$scratch" --auth=trust --username="$DB_USER" \
      -E UTF8 --locale=C >"$dir/initdb.log" 2>&1; then
      cat "$dir/initdb.log" >&2
      die "initdb failed (output above, also in $dir/initdb.log)"
    fi
    # Settings that depend on the port or path are written to rolecall.conf
    # at every start (see below); postgresql.conf only includes it.
    printf '\n# Written by rolecall scripts/postgres.sh.\ninclude_if_exists = %s\n' "'rolecall.conf'" |
      as_owner tee -a "$scratch/postgresql.conf" >/dev/null
    as_owner mv "$scratch" "$data"
  fi

  if pid="$(live_postmaster_pid "$data")"; then
    local running_port
    running_port="$(sed -n 4p "$data/postmaster.pid")"
    [[ "$running_port" == "$PORT" ]] ||
      die "the server in $data already runs on port $running_port, not $PORT; set ROLECALL_PG_PORT=$running_port or run '$0 stop' first"
    log "reusing the server already running in $data (pid $pid, port $PORT)"
    wait_ready "$bin" || die "the server in $data (pid $pid) does not accept connections on 127.0.0.1:$PORT; see $logfile"
  else
    clean_stale_files "$data"
    if port_in_use; then
      die "port $PORT on 127.0.0.1 is already used by another program; pick a free one with ROLECALL_PG_PORT"
    fi

    # The unix socket lives in the data directory so nothing is shared with a
    # system server in /var/run/postgresql. A socket path is limited to 107
    # bytes; with a very deep directory, go TCP only instead of failing.
    local sockdir="$data" socket_path="$data/.s.PGSQL.$PORT"
    if ((${#socket_path} > 107)); then
      log "socket path $socket_path is too long for a unix socket; the server will listen on TCP only"
      sockdir=""
    fi
    # Single quotes inside a postgresql.conf string are doubled.
    printf "# Written by rolecall scripts/postgres.sh at every start.\nlisten_addresses = '127.0.0.1'\nport = %s\nunix_socket_directories = '%s'\n" \
      "$PORT" "${sockdir//\'/\'\'}" | as_owner tee "$data/rolecall.conf" >/dev/null

    log "starting the server in $data on 127.0.0.1:$PORT (log: $logfile)"
    if ! as_owner "$bin/pg_ctl" -D "$data" -l "$logfile" -w -t 60 start >&2 9>&-; then
      log "pg_ctl start failed; last lines of $logfile:"
      tail -n 20 "$logfile" >&2 2>/dev/null || true
      exit 1
    fi
  fi

  # Clients connect over TCP exactly like the tests will. -X skips any
  # ~/.psqlrc that could change the output.
  local exists
  exists="$("$bin/psql" -X -q -t -A -h 127.0.0.1 -p "$PORT" -U "$DB_USER" -d postgres \
    -c "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" ||
    die "cannot connect to the server on 127.0.0.1:$PORT as $DB_USER; see $logfile"
  if [[ "$exists" != 1 ]]; then
    log "creating database $DB_NAME"
    "$bin/createdb" -h 127.0.0.1 -p "$PORT" -U "$DB_USER" "$DB_NAME" >&2 ||
      die "createdb $DB_NAME failed"
  fi

  printf 'postgres://%s@127.0.0.1:%s/%s\n' "$DB_USER" "$PORT" "$DB_NAME"
}

case "$ACTION" in
  start) do_start ;;
  stop) do_stop ;;
esac
