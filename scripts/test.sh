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

step "tests (cargo test)"
cargo test --workspace --locked

step "policy test files (rolecall test examples/*.toml)"
cargo run --quiet --locked -p rolecall -- test examples/*.toml
