// Signing in to the web console, as a person does it with a browser.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import { consoleTest } from './console-test.mjs';

consoleTest('sign in with a temporary password and change it', async ({
  page,
  context,
  server,
  visit,
  submit,
  fillSecret,
}) => {
  // Arrange: a password no list or rule will refuse, different every run.
  const newPassword = `Browser-${randomBytes(18).toString('base64url')}`;

  // Act: the temporary password opens only the page to choose a new one.
  await visit('/sign-in');
  await page.getByLabel('Email').fill(server.email);
  await fillSecret(page.getByLabel('Password', { exact: true }), server.temporaryPassword, 'Password');
  await submit(page.getByRole('button', { name: 'Sign in' }), '/account/password');

  await fillSecret(page.getByLabel('New password'), newPassword, 'New password');
  await submit(page.getByRole('button', { name: 'Change password' }), '/users');

  // Assert: the Users page, listing alice.
  await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
  const alice = page.getByRole('table').getByRole('row').filter({ hasText: 'alice' });
  assert.ok((await alice.count()) >= 1, 'the Users table has no row for alice');

  // The session cookie is out of reach of scripts and of other sites.
  const cookies = await context.cookies();
  const session = cookies.find((cookie) => cookie.name === 'rolecall_session');
  assert.ok(session, `no rolecall_session cookie (cookies: ${cookies.map((c) => c.name).join(', ') || 'none'})`);
  assert.equal(session.httpOnly, true, 'rolecall_session must be HttpOnly');
  assert.equal(session.sameSite, 'Strict', 'rolecall_session must be SameSite=Strict');
});
