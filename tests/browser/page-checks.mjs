// What every page of the console must pass, checked after each navigation:
// it answered without an error status, it is `<html lang="en">` with one
// `<main>` and one `<h1>`, and axe-core finds no serious or critical
// accessibility violation.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

// Violations of these impacts fail the test; the others are reported only.
const FAILING_IMPACTS = new Set(['serious', 'critical']);

/**
 * Checks the page the browser shows now. Throws one error naming every
 * problem found; reports minor and moderate axe findings as diagnostics.
 *
 * @param {import('playwright-core').Page} page
 * @param {import('playwright-core').Response | null} response the navigation's response
 * @param {(message: string) => void} report where diagnostics go
 */
export async function checkPage(page, response, report) {
  const path = new URL(page.url()).pathname;
  const problems = [];

  // axe runs first, on error pages too, so that its findings are never
  // hidden behind another problem.
  const violations = await runAxe(page);
  for (const v of violations) {
    const line = describeViolation(v);
    if (FAILING_IMPACTS.has(v.impact)) problems.push(line);
    else report(`${path}: axe (${v.impact}, not failing): ${line}`);
  }

  if (response && response.status() >= 400) {
    problems.unshift(`the server answered ${response.status()} ${response.statusText()}`);
  }
  const lang = await page.locator('html').getAttribute('lang');
  if (lang !== 'en') problems.push(`<html lang> is ${lang === null ? 'missing' : `"${lang}"`}, expected "en"`);
  const mains = await page.locator('main').count();
  if (mains !== 1) problems.push(`the page has ${mains} <main> elements, expected 1`);
  const headings = await page.locator('h1').count();
  if (headings !== 1) problems.push(`the page has ${headings} <h1> elements, expected 1`);

  if (problems.length > 0) {
    throw new Error(`${path} fails the checks every page must pass:\n  - ${problems.join('\n  - ')}`);
  }
}

/**
 * Injects axe-core into the page and returns its violations.
 *
 * Evaluated through the DevTools protocol rather than added as a <script>
 * (page.addScriptTag): a strict Content-Security-Policy, right for a console
 * that needs no script, blocks such a script, and turning the policy off
 * for the test (bypassCSP) would also hide what the policy blocks.
 */
async function runAxe(page) {
  await page.evaluate(AXE_SOURCE);
  const results = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, { resultTypes: ['violations'] }),
  );
  return results.violations;
}

function describeViolation(v) {
  const targets = v.nodes.map((node) => node.target.join(' ')).join(', ');
  return `[${v.impact}] ${v.id}: ${v.help} (${v.helpUrl}) at ${targets}`;
}
