// Where the browser tests find the rolecall binary and Chromium, and where
// they put screenshots: environment variables (relative to the working
// directory), with defaults relative to the repository's root.
//
//   ROLECALL_BIN          the rolecall binary (default target/debug/rolecall)
//   ROLECALL_CHROMIUM     the browser (default /usr/bin/chromium, Debian's)
//   ROLECALL_BROWSER_OUT  screenshots and server logs (default target/browser)

import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';

/** The repository's root directory. */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The settings of this run, as absolute paths.
 *
 * @returns {{binary: string, chromiumPath: string, outDir: string}}
 */
export function settings() {
  const path = (name, fallback) =>
    process.env[name] ? resolve(process.env[name]) : resolve(REPO_ROOT, fallback);
  return {
    binary: path('ROLECALL_BIN', 'target/debug/rolecall'),
    chromiumPath: path('ROLECALL_CHROMIUM', '/usr/bin/chromium'),
    outDir: path('ROLECALL_BROWSER_OUT', 'target/browser'),
  };
}
