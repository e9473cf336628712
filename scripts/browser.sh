#!/usr/bin/env bash
# Runs the browser tests of the web console (tests/browser): each test starts
# its own `rolecall serve --demo` and drives it with Debian's headless
# Chromium through playwright-core, checking every page with axe-core.
#
#   scripts/browser.sh [ROLECALL_BIN]
#
# ROLECALL_BIN is the rolecall binary to test (the argument, else the
# variable, else target/debug/rolecall); the caller builds it. Screenshots of
# the last page of each test, and each test's server log, go to
# target/browser/.
#
# Installs what is missing first: Debian's chromium and a font, Node.js and
# npm (Debian's nodejs and npm, if there is no node at all), then the npm
# packages pinned in tests/browser/package-lock.json (npm ci). No browser is
# downloaded: playwright-core drives /usr/bin/chromium (or $ROLECALL_CHROMIUM).
#
# When a prerequisite cannot be installed (no root and no sudo, say), the
# tests are skipped with a warning; with CI=true that is a failure instead.
set -euo pipefail

SCRIPT=browser.sh
# Only its messages (log, die) are used here.
# shellcheck source=scripts/server-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/server-lib.sh"

if [[ $# -gt 1 || "${1:-}" == -* ]]; then
  printf 'usage: %s [path/to/rolecall]\n' "$0" >&2
  exit 2
fi

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# An argument or variable is relative to the caller's directory, the default
# to the repository.
if [[ -n "${1:-${ROLECALL_BIN:-}}" ]]; then
  BIN="$(realpath -m -- "${1:-$ROLECALL_BIN}")"
else
  BIN="$REPO_ROOT/target/debug/rolecall"
fi
CHROMIUM="${ROLECALL_CHROMIUM:-/usr/bin/chromium}"
TESTS="$REPO_ROOT/tests/browser"
# Node.js major version that playwright-core needs (its engines field).
readonly NODE_MAJOR_MIN=20

[[ -x "$BIN" ]] || die "no rolecall binary at $BIN; build it first (cargo build -p rolecall) or pass its path"

# A prerequisite is missing and could not be installed: CI fails, a
# developer's run goes on without the browser tests.
missing() {
  if [[ "${CI:-}" == true ]]; then
    die "$*"
  fi
  log "warning: skipping the browser tests: $*"
  exit 0
}

# True if the Debian package $1 is installed.
deb_installed() {
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]
}

# Installs Debian packages with apt-get, as root or through sudo. The package
# lists of a fresh machine may be missing or stale; they are refreshed only
# when the plain install fails, which saves time when they are fine.
apt_install() {
  local sudo=()
  if [[ $EUID -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || {
      log "cannot install $* without root: run 'sudo apt-get install $*' or run this script as root"
      return 1
    }
    # Without a terminal nobody can type a password: fail instead of waiting.
    if [[ -t 0 ]]; then sudo=(sudo); else sudo=(sudo -n); fi
  fi
  command -v apt-get >/dev/null 2>&1 || {
    log "cannot install $*: apt-get is not available"
    return 1
  }
  local apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@")
  log "installing $*: ${apt[*]}"
  if ! "${apt[@]}" >&2; then
    log "install failed, running apt-get update and retrying"
    "${sudo[@]}" apt-get update >&2 || {
      log "apt-get update failed"
      return 1
    }
    "${apt[@]}" >&2 || {
      log "could not install $*"
      return 1
    }
  fi
}

# --- Debian packages: the browser, a font for its text, Node.js -------------

packages=()
if [[ ! -x "$CHROMIUM" ]]; then
  [[ -z "${ROLECALL_CHROMIUM:-}" ]] ||
    missing "ROLECALL_CHROMIUM=$CHROMIUM is not an executable file"
  packages+=(chromium)
fi
# An existing Node.js (say from NodeSource, with its own npm) is kept:
# Debian's npm would conflict with it.
if ! command -v node >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi
# Without any font, text renders as empty boxes in the screenshots; the
# tests themselves still work, so a font that cannot be installed is only
# a warning.
font=()
if command -v dpkg-query >/dev/null 2>&1 && ! deb_installed fonts-dejavu-core; then
  font=(fonts-dejavu-core)
fi
if ((${#packages[@]} > 0)); then
  apt_install "${packages[@]}" "${font[@]}" || missing "could not install ${packages[*]} (see above)"
elif ((${#font[@]} > 0)); then
  apt_install "${font[@]}" || log "warning: no font installed; text may not show in the screenshots"
fi
[[ -x "$CHROMIUM" ]] || missing "no Chromium at $CHROMIUM after installing the chromium package"
command -v node >/dev/null 2>&1 || missing "no node command after installing Debian's nodejs"
command -v npm >/dev/null 2>&1 || missing "node is installed but npm is not; install the npm that goes with $(command -v node)"

node_version="$(node --version)"
node_major="${node_version#v}"
node_major="${node_major%%.*}"
if ! [[ "$node_major" =~ ^[0-9]+$ ]] || ((node_major < NODE_MAJOR_MIN)); then
  missing "Node.js $node_version is too old: playwright-core needs $NODE_MAJOR_MIN or newer"
fi

# --- npm packages, exactly as locked -----------------------------------------

# playwright-core downloads nothing when installed, but a browser download
# must never be attempted here.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
# npm ci empties node_modules first; skip it when node_modules already holds
# what this lock file describes.
stamp="$TESTS/node_modules/.installed-package-lock.json"
if ! cmp -s "$TESTS/package-lock.json" "$stamp"; then
  log "installing the npm packages of tests/browser (npm ci)"
  (cd "$TESTS" && npm ci --no-audit --no-fund --loglevel=error >&2) ||
    die "npm ci failed in $TESTS"
  cp "$TESTS/package-lock.json" "$stamp"
fi

# --- the tests ----------------------------------------------------------------

log "Chromium: $("$CHROMIUM" --version 2>/dev/null || echo "version unknown"); Node.js $node_version"
ROLECALL_CHROMIUM="$CHROMIUM" exec node "$TESTS/run.mjs" "$BIN"
