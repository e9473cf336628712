// Signing in as the demo's people, the way each of them does it the first
// time: the temporary password (printed by `serve --demo` for alice, sent
// by email to everyone else), then a password of their own.

import { randomBytes } from 'node:crypto';

import { temporaryPassword } from './mail.mjs';

/**
 * Signs in with a temporary password and chooses a new one; returns the
 * new password. The console then shows `landing`.
 *
 * @param {import('./console-test.mjs').Console} ui
 * @param {{email: string, temporary: string, landing?: string}} who
 * @returns {Promise<string>}
 */
export async function signInFirstTime({ page, visit, submit, fillSecret }, { email, temporary, landing = '/users' }) {
  const password = `Browser-${randomBytes(18).toString('base64url')}`;
  await visit('/sign-in');
  await page.getByLabel('Email').fill(email);
  await fillSecret(page.getByLabel('Password', { exact: true }), temporary, 'Password');
  await submit(page.getByRole('button', { name: 'Sign in' }), '/account/password');
  await fillSecret(page.getByLabel('New password'), password, 'New password');
  await submit(page.getByRole('button', { name: 'Change password' }), landing);
  return password;
}

/**
 * Signs in as the demo admin (alice, System Admin of Acme Health) and
 * chooses a password of her own; she lands on the Users page.
 *
 * @param {import('./console-test.mjs').Console} ui
 * @returns {Promise<string>} her new password
 */
export function signInAsAlice(ui) {
  return signInFirstTime(ui, { email: ui.server.email, temporary: ui.server.temporaryPassword });
}

/**
 * Signs in as another person of the demo with the temporary password of
 * their invitation email, and chooses a password of their own.
 *
 * @param {import('./console-test.mjs').Console} ui
 * @param {string} email e.g. `heidi@acme-north.example`
 * @param {string} landing the page they land on
 * @returns {Promise<string>} their new password
 */
export async function signInFromInvitation(ui, email, landing) {
  const temporary = await temporaryPassword(ui.server.dir, email);
  return signInFirstTime(ui, { email, temporary, landing });
}
