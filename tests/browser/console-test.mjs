// `consoleTest(name, body)`: a node:test test with its own rolecall server
// and headless Chromium. The body drives the console through `visit` and
// `submit`, which check every page they land on (see page-checks.mjs).
// Afterwards, passed or failed, a full-page screenshot of the last page is
// saved to target/browser/<name>.png, then the browser and the server stop.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';

import { checkPage } from './page-checks.mjs';
import { startServer } from './server.mjs';
import { settings } from './settings.mjs';

// How long one action (a click, a fill, waiting for a page) may take.
const ACTION_TIMEOUT_MS = 15_000;

/**
 * @typedef {object} Console
 * @property {import('playwright-core').Page} page
 * @property {import('playwright-core').BrowserContext} context
 * @property {{baseUrl: string, email: string, temporaryPassword: string}} server
 * @property {(path: string, expected?: {status?: number}) => Promise<void>} visit goes to
 *   `path` and checks the page; a refusal is expected with `status`
 * @property {(button: import('playwright-core').Locator, expectedPath: string, expected?: {status?: number}) => Promise<void>} submit
 *   presses `button`, waits for the page it leads to, expects `expectedPath` (and a refusal
 *   with `status`, if given) and checks the page
 * @property {(field: import('playwright-core').Locator, secret: string, what: string) => Promise<void>} fillSecret
 *   fills a password field without letting the value reach an error message
 */

/**
 * Registers a test named `name` that runs `body` against a fresh console.
 *
 * @param {string} name
 * @param {(console: Console) => Promise<void>} body
 */
export function consoleTest(name, body) {
  test(name, async (t) => {
    const { binary, chromiumPath, outDir } = settings();
    mkdirSync(outDir, { recursive: true });
    const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
    const report = (message) => t.diagnostic(message);

    const server = await startServer({ binary, logPath: join(outDir, `${slug}.server.log`) });
    let browser;
    let page;
    try {
      browser = await launchChromium(chromiumPath);
      const context = await browser.newContext({ baseURL: server.baseUrl });
      context.setDefaultTimeout(ACTION_TIMEOUT_MS);
      page = await context.newPage();

      // The response of the document the main frame shows: after a
      // redirect (a form's 303), the response of the page it led to.
      let documentResponse = null;
      page.on('response', (response) => {
        const request = response.request();
        if (request.isNavigationRequest() && request.frame() === page.mainFrame()) {
          documentResponse = response;
        }
      });

      // Checks the page shown after `response`: an error status only when
      // `status` expects it.
      const landed = async (response, { status } = {}) => {
        if (status !== undefined) {
          const path = new URL(page.url()).pathname;
          if (response?.status() !== status) {
            throw new Error(`${path}: expected the server to answer ${status}, it answered ${response?.status()}`);
          }
          await checkPage(page, null, report);
        } else {
          await checkPage(page, response, report);
        }
      };
      const visit = async (path, expected) => {
        const response = await page.goto(path);
        await landed(response, expected);
      };
      const submit = async (button, expectedPath, expected) => {
        const navigated = page
          .waitForEvent('framenavigated', { predicate: (frame) => frame === page.mainFrame() })
          .then(
            () => null,
            (error) => error,
          );
        await button.click();
        const stuck = await navigated;
        if (stuck) throw new Error(`pressing ${button} led to no new page: ${stuck.message}`);
        await page.waitForLoadState('load');
        const path = new URL(page.url()).pathname;
        if (path !== expectedPath) {
          const heading = await page.locator('h1').first().textContent().catch(() => null);
          throw new Error(
            `expected to land on ${expectedPath}, but the browser shows ${path}` +
              (heading ? ` (its <h1>: "${heading.trim()}")` : ''),
          );
        }
        await landed(documentResponse, expected);
      };
      const fillSecret = async (field, secret, what) => {
        try {
          await field.fill(secret);
        } catch (error) {
          throw new Error(`cannot fill ${what}: ${error.message.replaceAll(secret, '[hidden]')}`);
        }
      };

      await body({ page, context, server, visit, submit, fillSecret });
    } finally {
      if (page) {
        const shot = join(outDir, `${slug}.png`);
        await page.screenshot({ path: shot, fullPage: true }).then(
          () => report(`screenshot: ${shot}`),
          (error) => report(`no screenshot: ${error.message}`),
        );
      }
      await browser?.close();
      await server.stop();
    }
  });
}

/** Launches headless Chromium, failing with a message that says what to do. */
async function launchChromium(executablePath) {
  // Chromium's sandbox cannot start as root (containers, CI).
  const args = process.getuid?.() === 0 ? ['--no-sandbox'] : [];
  try {
    return await chromium.launch({ executablePath, headless: true, args });
  } catch (error) {
    throw new Error(
      `cannot launch Chromium at ${executablePath} (install it with scripts/browser.sh, ` +
        `or set ROLECALL_CHROMIUM): ${error.message}`,
    );
  }
}
