// The console on a tablet (768 × 1024, an iPad held upright) and from the
// keyboard alone: no page is wider than the screen (wide tables scroll
// inside their own region), the skip link comes first, the focused control
// is visibly outlined, and a user's roles can be changed without a mouse.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

import { consoleTest } from './console-test.mjs';
import { settings } from './settings.mjs';

const TABLET = { width: 768, height: 1024 };

// How many Tab presses may pass before the wanted control has the focus.
const MAX_TABS = 200;

/** Presses Tab until `matches(activeElement)` holds; fails after MAX_TABS. */
async function tabTo(page, what, matches) {
  for (let i = 0; i < MAX_TABS; i += 1) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(matches)) return;
  }
  throw new Error(`${MAX_TABS} presses of Tab never reached ${what}`);
}

/** Fails when the document is wider than the viewport. */
async function fitsTheScreen(page) {
  const { scroll, viewport } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    viewport: window.innerWidth,
  }));
  assert.ok(
    scroll <= viewport,
    `${new URL(page.url()).pathname} is ${scroll} px wide on a ${viewport} px screen`,
  );
}

/** Fails unless the focused element draws an outline. */
async function focusIsVisible(page) {
  const outline = await page.evaluate(() => {
    const style = getComputedStyle(document.activeElement);
    return { style: style.outlineStyle, width: parseFloat(style.outlineWidth) };
  });
  assert.ok(outline.style !== 'none' && outline.width >= 2, `focus outline: ${JSON.stringify(outline)}`);
}

consoleTest('on a tablet, from the keyboard: sign in and update a user’s roles', async (ui) => {
  const { page, server, visit } = ui;
  await page.setViewportSize(TABLET);
  const password = `Tablet-${randomBytes(18).toString('base64url')}`;

  // Sign in with the keyboard only. The first Tab reaches the skip link.
  await visit('/sign-in');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent.trim()), 'Skip to the content');
  await focusIsVisible(page);
  await tabTo(page, 'the Email field', () => document.activeElement.id === 'email');
  await page.keyboard.type(server.email);
  await page.keyboard.press('Tab');
  // The temporary password is typed into the focused field; it never
  // reaches a message.
  assert.equal(await page.evaluate(() => document.activeElement.id), 'password');
  await page.keyboard.type(server.temporaryPassword);
  await Promise.all([page.waitForURL('**/account/password'), page.keyboard.press('Enter')]);
  await tabTo(page, 'the New password field', () => document.activeElement.id === 'new_password');
  await page.keyboard.type(password);
  await Promise.all([page.waitForURL('**/users'), page.keyboard.press('Enter')]);
  await visit('/users');

  // Every area fits the screen; a screenshot of each at tablet width is
  // saved beside the tests' others.
  const { outDir } = settings();
  for (const path of [
    '/users',
    '/users/bob?org=acme',
    '/role-management',
    '/roles',
    '/organization',
    '/access-checker',
    '/audit',
    '/access-review',
  ]) {
    await visit(path);
    await fitsTheScreen(page);
    const name = new URL(path, server.baseUrl).pathname.replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
    await page.screenshot({ path: join(outDir, `tablet-${name}.png`), fullPage: true });
  }

  // Bob's page: Tab to the Business Manager box, Space checks it, Tab on
  // to Update Roles, Enter saves.
  await visit('/users/bob?org=acme');
  const box = page.getByRole('checkbox', { name: 'Business Manager', exact: true });
  assert.equal(await box.isChecked(), false);
  await tabTo(page, 'the Business Manager box', () => document.activeElement.id === 'role-web.business_manager');
  await focusIsVisible(page);
  await page.keyboard.press('Space');
  assert.equal(await box.isChecked(), true, 'Space checks the focused box');
  await tabTo(page, 'Update Roles', () => document.activeElement.textContent.trim() === 'Update Roles');
  await focusIsVisible(page);
  await Promise.all([page.waitForURL(/done=roles_updated/), page.keyboard.press('Enter')]);
  await visit(new URL(page.url()).pathname + new URL(page.url()).search);
  await page.getByText('Roles updated.').waitFor();
  assert.equal(await page.getByRole('checkbox', { name: 'Business Manager', exact: true }).isChecked(), true);
  await fitsTheScreen(page);
});
