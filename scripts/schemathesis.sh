#!/usr/bin/env bash
# Fuzzes the HTTP API against its own OpenAPI document with schemathesis:
# a real `rolecall serve` on a fresh SQLite database, on loopback, and two
# runs over every operation of /v1/openapi.json, one with the operator's
# token and one with a clinic admin's console session. Fails on any 5xx and
# on any answer the document does not describe (a status code it does not
# list, another content type, a body or a header not matching its schema).
#
#   scripts/schemathesis.sh [ROLECALL_BIN]
#
# ROLECALL_BIN is the rolecall binary to test (the argument, else the
# variable, else target/debug/rolecall); the caller builds it. Settings:
#   ROLECALL_SCHEMATHESIS_EXAMPLES  test cases per operation and phase (default 10)
#   ROLECALL_SCHEMATHESIS_SEED      the seed (default fixed, so a failure replays;
#                                   `random` for a new one each run)
#   ROLECALL_SCHEMATHESIS_TIMEOUT   seconds each run may take at most (default 150)
#   ROLECALL_SCHEMATHESIS_PORT      the loopback port of the server (default 58180)
# The long form: ROLECALL_SCHEMATHESIS_EXAMPLES=200 ROLECALL_SCHEMATHESIS_SEED=random
# ROLECALL_SCHEMATHESIS_TIMEOUT=1800 scripts/schemathesis.sh (docs/api-testing.md).
#
# Installs schemathesis first, exactly as pinned in
# scripts/schemathesis-requirements.txt, into a virtual environment in
# target/schemathesis/venv. Everything else goes to target/schemathesis too:
#   run/       the database, its audit key, the mail folder, the server's log
#   report/    a JUnit report of each run
# When python3 or the packages cannot be had, the run is skipped with a
# warning; with CI=true that is a failure instead.
set -euo pipefail

PORT="${ROLECALL_SCHEMATHESIS_PORT:-58180}"
EXAMPLES="${ROLECALL_SCHEMATHESIS_EXAMPLES:-10}"
SEED="${ROLECALL_SCHEMATHESIS_SEED:-20261207}"
RUN_TIMEOUT="${ROLECALL_SCHEMATHESIS_TIMEOUT:-150}"

SCRIPT=schemathesis.sh
PORT_VAR=ROLECALL_SCHEMATHESIS_PORT
# shellcheck source=scripts/server-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/server-lib.sh"
check_port

if [[ $# -gt 1 || "${1:-}" == -* ]]; then
  printf 'usage: %s [path/to/rolecall]\n' "$0" >&2
  exit 2
fi
[[ "$EXAMPLES" =~ ^[1-9][0-9]*$ ]] || die "ROLECALL_SCHEMATHESIS_EXAMPLES must be a positive number, got '$EXAMPLES'"
[[ "$SEED" =~ ^([0-9]+|random)$ ]] || die "ROLECALL_SCHEMATHESIS_SEED must be a number or 'random', got '$SEED'"
[[ "$RUN_TIMEOUT" =~ ^[1-9][0-9]*$ ]] || die "ROLECALL_SCHEMATHESIS_TIMEOUT must be a number of seconds, got '$RUN_TIMEOUT'"

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ -n "${1:-${ROLECALL_BIN:-}}" ]]; then
  BIN="$(realpath -m -- "${1:-$ROLECALL_BIN}")"
else
  BIN="$REPO_ROOT/target/debug/rolecall"
fi
[[ -x "$BIN" ]] || die "no rolecall binary at $BIN; build it first (cargo build -p rolecall) or pass its path"

DIR="$REPO_ROOT/target/schemathesis"
VENV="$DIR/venv"
REQUIREMENTS="$REPO_ROOT/scripts/schemathesis-requirements.txt"
RUN="$DIR/run"
REPORT="$DIR/report"

# A prerequisite is missing and could not be installed: CI fails, a
# developer's run goes on without this step.
missing() {
  if [[ "${CI:-}" == true ]]; then
    die "$*"
  fi
  log "warning: skipping the schemathesis run: $*"
  exit 0
}

# --- schemathesis, exactly as pinned ------------------------------------------

command -v python3 >/dev/null 2>&1 || missing "python3 is needed for schemathesis"
stamp="$VENV/.installed-requirements.txt"
if ! cmp -s "$REQUIREMENTS" "$stamp"; then
  log "installing schemathesis into $VENV (pip install -r scripts/schemathesis-requirements.txt)"
  rm -rf "$VENV"
  mkdir -p "$DIR"
  python3 -m venv "$VENV" >&2 || missing "python3 -m venv failed (Debian: apt-get install python3-venv)"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    -r "$REQUIREMENTS" >&2 || missing "pip could not install the packages of $REQUIREMENTS"
  cp "$REQUIREMENTS" "$stamp"
fi
"$VENV/bin/schemathesis" --version >&2 || missing "schemathesis is installed but does not run"

# --- a server of its own, on a fresh database --------------------------------

if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  die "port $PORT on 127.0.0.1 is already used by another program; pick a free one with $PORT_VAR"
fi
rm -rf "$RUN" "$REPORT"
mkdir -p "$RUN" "$REPORT"
DATABASE="sqlite://$RUN/rolecall.db"
BASE="http://127.0.0.1:$PORT"

# The caller's audit key settings must not reach this server.
unset ROLECALL_AUDIT_KEY ROLECALL_AUDIT_KEY_FILE ROLECALL_DATABASE_URL ROLECALL_PUBLIC_URL \
  ROLECALL_SMTP_URL
operator="$("$BIN" init --database "$DATABASE" --json 2>"$RUN/init.log" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["operator_token"])')" ||
  die "rolecall init failed; see $RUN/init.log"

"$BIN" serve --database "$DATABASE" --listen "127.0.0.1:$PORT" \
  </dev/null >"$RUN/serve.log" 2>&1 &
server=$!
stop_server() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
}
trap stop_server EXIT

healthy() {
  (
    exec 3<>"/dev/tcp/127.0.0.1/$PORT" || exit 1
    printf 'GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
    read -r -t 2 status <&3 || exit 1
    [[ "$status" == *" 200 "* ]]
  ) 2>/dev/null
}
for ((i = 0; i < 300; i++)); do
  healthy && break
  [[ -d "/proc/$server" ]] || {
    tail -n 20 "$RUN/serve.log" >&2 || true
    die "rolecall serve exited (output above, also in $RUN/serve.log)"
  }
  sleep 0.1
done
healthy || die "rolecall serve does not answer on $BASE; see $RUN/serve.log"

# The clinic admin's session: two lines, the cookie and the CSRF token.
session="$(ROLECALL_OPERATOR="$operator" python3 "$REPO_ROOT/scripts/schemathesis-world.py" \
  "$BASE" "$RUN/rolecall-mail")" || die "could not set up the clinic and its admin (above)"
cookie="$(sed -n 1p <<<"$session")"
csrf="$(sed -n 2p <<<"$session")"

# --- the runs -----------------------------------------------------------------

checks=not_a_server_error,status_code_conformance,content_type_conformance
checks+=,response_schema_conformance,response_headers_conformance
seed=()
[[ "$SEED" == random ]] || seed=(--seed "$SEED")

# One run: its name, then the headers it sends and any other options.
# One worker: Python 3.11's parser is not safe to use from several threads,
# which hypothesis does to describe its strategies.
fuzz() {
  local name="$1"
  shift
  log "run '$name': $EXAMPLES examples per operation and phase, seed $SEED, at most $RUN_TIMEOUT s"
  local started=$SECONDS status=0
  # From target/schemathesis: schemathesis keeps a cache in the current
  # directory.
  (cd "$DIR" && timeout --kill-after=10 "$RUN_TIMEOUT" "$VENV/bin/schemathesis" \
    --config-file "$REPO_ROOT/scripts/schemathesis.toml" run "$BASE/v1/openapi.json" \
    --checks "$checks" --max-examples "$EXAMPLES" "${seed[@]}" --workers 1 \
    --request-timeout 10 --output-sanitize true --no-color --generation-database none \
    --generation-with-security-parameters false \
    --report junit --report-junit-path "$REPORT/$name.xml" "$@") || status=$?
  log "run '$name' took $((SECONDS - started)) s"
  if ((status == 124 || status == 137)); then
    die "run '$name' did not finish within $RUN_TIMEOUT s"
  fi
  return "$status"
}

failed=0
# The session first: the operator may disable its user. Signing out would
# end the session the rest of the run uses.
fuzz session -H "Cookie: $cookie" -H "X-CSRF-Token: $csrf" --exclude-path /v1/sign-out || failed=1
fuzz operator -H "Authorization: Bearer $operator" || failed=1
((failed == 0)) || die "schemathesis found answers the OpenAPI document does not describe (above; JUnit reports in $REPORT)"
log "every answer matched the OpenAPI document"
