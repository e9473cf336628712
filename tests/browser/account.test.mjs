// A forgotten password, as a person recovers it: the link arrives by email
// (here, the server's mail folder) and works once.

import { randomBytes } from 'node:crypto';

import { consoleTest } from './console-test.mjs';
import { resetLink } from './mail.mjs';

consoleTest('a forgotten password is reset by the emailed link, once', async ({
  page,
  server,
  visit,
  submit,
  fillSecret,
}) => {
  const newPassword = `Reset-${randomBytes(18).toString('base64url')}`;

  await visit('/sign-in');
  await submit(page.getByRole('link', { name: 'Forgot your password?' }), '/forgot-password');
  await page.getByLabel('Email').fill(server.email);
  await submit(page.getByRole('button', { name: 'Send reset link' }), '/forgot-password');
  await page.getByText('a link to choose a new password is on its way').waitFor();

  const link = await resetLink(server.dir, server.email);
  const path = link.slice(link.indexOf('/reset-password'));
  await visit(path);
  await fillSecret(page.getByLabel('New password'), newPassword, 'New password');
  await submit(page.getByRole('button', { name: 'Set password' }), '/sign-in');
  await page.getByText('Your password is set').waitFor();

  // The link works once.
  await visit(path);
  await fillSecret(page.getByLabel('New password'), `${newPassword}-again`, 'New password');
  // (Refused with 422: the page's own checks ran on the same form above.)
  await page.getByRole('button', { name: 'Set password' }).click();
  await page.getByText('the reset link is not valid').waitFor();

  // The new password signs in.
  await visit('/sign-in');
  await page.getByLabel('Email').fill(server.email);
  await fillSecret(page.getByLabel('Password', { exact: true }), newPassword, 'Password');
  await submit(page.getByRole('button', { name: 'Sign in' }), '/users');
  await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
});
