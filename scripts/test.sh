#!/usr/bin/env bash
# Runs every test of rolecall on a fresh machine: formatting, lints, the
# unit, property and integration tests of every crate, and the shipped
# policy test files. Installs what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "toolchain components"
if command -v rustup >/dev/null 2>&1; then
  rustup component add rustfmt clippy >/dev/null 2>&1 || true
fi

step "formatting (cargo fmt --check)"
cargo fmt --all -- --check

step "lints (cargo clippy --all-targets -D warnings)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "PostgreSQL for the store tests (scripts/postgres.sh)"
# A caller may point the tests at a server of its own; otherwise start (or
# reuse) the throwaway cluster in target/. It is left running for the next run.
if [[ -z "${ROLECALL_TEST_POSTGRES_URL:-}" ]]; then
  # Assigned before the export so that a failure stops the script.
  ROLECALL_TEST_POSTGRES_URL="$(bash scripts/postgres.sh)"
  export ROLECALL_TEST_POSTGRES_URL
  echo "ROLECALL_TEST_POSTGRES_URL=$ROLECALL_TEST_POSTGRES_URL"
else
  # Not echoed: a caller's URL may carry a password.
  echo "using ROLECALL_TEST_POSTGRES_URL from the environment"
fi

step "SMTP server for the mail tests (scripts/smtp.sh)"
# Same pattern: a caller may name its own server (and the maildir where it
# stores what it receives); otherwise start (or reuse) aiosmtpd in target/.
if [[ -z "${ROLECALL_TEST_SMTP_URL:-}" ]]; then
  ROLECALL_TEST_SMTP_URL="$(bash scripts/smtp.sh)"
  export ROLECALL_TEST_SMTP_URL
  echo "ROLECALL_TEST_SMTP_URL=$ROLECALL_TEST_SMTP_URL"
  export ROLECALL_TEST_SMTP_MAILDIR="${ROLECALL_TEST_SMTP_MAILDIR:-$PWD/target/smtp/maildir}"
else
  echo "using ROLECALL_TEST_SMTP_URL from the environment"
fi

step "tools for the storage fault tests (mkfs.ext4, chattr, a loop device)"
# The fault tests put a database on a small ext4 image of their own,
# loop-mounted, and fill it or make its files immutable. They need root;
# elsewhere they say they were skipped, and under CI they fail.
if ! command -v mkfs.ext4 >/dev/null 2>&1 || ! command -v chattr >/dev/null 2>&1; then
  if [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends e2fsprogs >/dev/null ||
      { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends e2fsprogs >/dev/null; }
  fi
fi
if [[ $EUID -eq 0 ]]; then
  modprobe loop 2>/dev/null || true
fi

step "tests (cargo test)"
cargo test --workspace --locked

step "policy test files (rolecall test examples/*.toml)"
cargo run --quiet --locked -p rolecall -- test examples/*.toml

step "the API against its OpenAPI document (scripts/schemathesis.sh)"
# schemathesis, pinned in scripts/schemathesis-requirements.txt, against a
# `rolecall serve` of its own on a fresh database: no 5xx, and every answer
# as the document describes it. With CI=true a prerequisite that cannot be
# installed fails the run instead of skipping (docs/api-testing.md).
cargo build --quiet --locked -p rolecall
bash scripts/schemathesis.sh target/debug/rolecall

step "browser tests of the web console (scripts/browser.sh)"
# Headless Chromium against a `rolecall serve --demo` of each test's own;
# installs Chromium, Node.js and the npm packages first. With CI=true a
# prerequisite that cannot be installed fails the run instead of skipping.
bash scripts/browser.sh target/debug/rolecall
