#!/usr/bin/env bash
# The long form of the property tests that feed rolecall hostile input
# (docs/fuzzing.md): the same tests `cargo test` runs with 32 cases each,
# here with many more, and a fresh random seed each run.
#
#   scripts/fuzz.sh                 # 2000 cases per property (per API route)
#   FUZZ_CASES=20000 scripts/fuzz.sh
#   scripts/fuzz.sh catalog import  # only some targets: catalog, policy, import, api
#
# A failure is shrunk to a small input and its seed saved in the test's
# `.proptest-regressions` file, which later runs (and `cargo test`) replay
# first: commit it, add the input to the target's corpus, and fix the bug.
set -euo pipefail
cd "$(dirname "$0")/.."

cases="${FUZZ_CASES:-2000}"
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  targets=(catalog policy import api)
fi

run() {
  local name="$1"
  shift
  printf '\n==> %s (%s cases per property)\n' "$name" "$cases"
  local start=$SECONDS
  PROPTEST_CASES="$cases" cargo test --locked "$@" -- --test-threads=2
  printf '==> %s: %d s\n' "$name" $((SECONDS - start))
}

for target in "${targets[@]}"; do
  case "$target" in
    catalog) run catalog -p rolecall-model --test fuzz_catalog ;;
    policy) run "policy test files" -p rolecall-engine --test fuzz_policy_test ;;
    import) run "CSV import" -p rolecall --test fuzz_import ;;
    api) run "JSON bodies of the API" -p rolecall-server --test api fuzz_bodies ;;
    *)
      echo "unknown target \`$target\`: use catalog, policy, import or api" >&2
      exit 2
      ;;
  esac
done
