#!/usr/bin/env bash
# The long form of the crash loop (crates/rolecall/tests/crash_loop): the
# real `rolecall serve` killed with SIGKILL amid concurrent writes, round
# after round, on SQLite and on PostgreSQL; after each restart nothing
# acknowledged may be missing and no revision may have been acknowledged
# twice. scripts/test.sh runs the short form (20 rounds per backend).
#
#   scripts/crash-loop.sh [--rounds N] [--seed S]   (default: 500 rounds)
#
# PostgreSQL is the server ROLECALL_TEST_POSTGRES_URL names, or the
# throwaway cluster of scripts/postgres.sh, started (or reused) here. Ends
# with one summary line; exits non-zero when anything was lost or reissued.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  printf 'usage: %s [--rounds N] [--seed S]\n' "$0" >&2
  exit 2
}

rounds=500
seed=""
while (($#)); do
  case "$1" in
    --rounds) (($# >= 2)) || usage; rounds="$2"; shift 2 ;;
    --rounds=*) rounds="${1#*=}"; shift ;;
    --seed) (($# >= 2)) || usage; seed="$2"; shift 2 ;;
    --seed=*) seed="${1#*=}"; shift ;;
    *) usage ;;
  esac
done
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "crash-loop.sh: --rounds takes a positive number" >&2; exit 2; }

if [[ -z "${ROLECALL_TEST_POSTGRES_URL:-}" ]]; then
  ROLECALL_TEST_POSTGRES_URL="$(bash scripts/postgres.sh)"
  export ROLECALL_TEST_POSTGRES_URL
fi
export ROLECALL_CRASH_ROUNDS="$rounds"
[[ -z "$seed" ]] || export ROLECALL_CRASH_SEED="$seed"

output="$(mktemp)"
trap 'rm -f "$output"' EXIT
status=0
started=$SECONDS
cargo test --locked -p rolecall --test crash_loop -- --nocapture 2>&1 | tee "$output" || status=$?

# Each backend's run prints one line, passed or failed:
#   crash loop on sqlite: rounds=500 acknowledged=... lost=0 reissued=0 ...
awk -v status="$status" -v seconds="$((SECONDS - started))" '
  /^crash loop on [a-z]+: rounds=/ {
    backends = backends (backends ? ", " : "") substr($4, 1, length($4) - 1)
    for (i = 5; i <= NF; i++) { split($i, kv, "="); sum[kv[1]] += kv[2] }
    runs++
  }
  END {
    printf "crash loop summary: %d rounds, %d acknowledged writes, %d lost, %d reissued, %d refused (%s; %d s)\n",
      sum["rounds"], sum["acknowledged"], sum["lost"], sum["reissued"], sum["refused"], backends, seconds
    if (runs < 2) print "crash-loop.sh: a backend did not finish; see the output above" > "/dev/stderr"
    if (runs < 2 || status != 0 || sum["lost"] || sum["reissued"]) exit 1
  }
' "$output"
