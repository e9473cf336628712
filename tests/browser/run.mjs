// Runs the browser tests: `node tests/browser/run.mjs [ROLECALL_BIN]`.
//
// Checks first that the rolecall binary and Chromium are there (one clear
// message instead of a failure per test), then runs every *.test.mjs in
// this folder with node's test runner, one file at a time. The binary is
// the argument, else $ROLECALL_BIN, else target/debug/rolecall; the caller
// builds it.

import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { settings } from './settings.mjs';

const here = dirname(fileURLToPath(import.meta.url));

function fail(message) {
  process.stderr.write(`browser tests: error: ${message}\n`);
  process.exit(1);
}

const args = process.argv.slice(2);
if (args.length > 1 || args[0]?.startsWith('-')) {
  process.stderr.write('usage: node tests/browser/run.mjs [path/to/rolecall]\n');
  process.exit(2);
}
if (args[0]) process.env.ROLECALL_BIN = resolve(args[0]);

const { binary, chromiumPath, outDir } = settings();
const executable = (path) => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};
if (!executable(binary)) {
  fail(`no rolecall binary at ${binary}; build it first (cargo build -p rolecall) or pass its path`);
}
if (!executable(chromiumPath)) {
  fail(
    `no Chromium at ${chromiumPath}; install Debian's (scripts/browser.sh does, or ` +
      `apt-get install chromium) or point ROLECALL_CHROMIUM at one`,
  );
}
try {
  mkdirSync(outDir, { recursive: true });
  accessSync(outDir, constants.W_OK);
} catch (error) {
  fail(`cannot write screenshots to ${outDir} (${error.message}); set ROLECALL_BROWSER_OUT to another folder`);
}
try {
  accessSync(join(here, 'node_modules', 'playwright-core'));
  accessSync(join(here, 'node_modules', 'axe-core'));
} catch {
  fail(`playwright-core or axe-core missing; run npm ci in ${here}`);
}

const files = readdirSync(here)
  .filter((name) => name.endsWith('.test.mjs'))
  .sort()
  .map((name) => join(here, name));
if (files.length === 0) fail(`no *.test.mjs files in ${here}`);

process.stderr.write(`browser tests: ${binary} in ${chromiumPath}; screenshots in ${outDir}\n`);
const run = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], {
  stdio: 'inherit',
  env: { ...process.env, ROLECALL_BIN: binary, ROLECALL_CHROMIUM: chromiumPath, ROLECALL_BROWSER_OUT: outDir },
});
if (run.error) fail(`cannot run node --test: ${run.error.message}`);
process.exit(run.status ?? 1);
