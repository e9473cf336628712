// A forgotten password, as a person recovers it: the link arrives by email
// (here, the server's mail folder) and works once.

import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { consoleTest } from './console-test.mjs';

// The reset link in the one message to `to` about a reset, decoded from
// quoted-printable; waits for the server's mail sender to write it.
async function resetLink(dir, to) {
  const folder = join(dir, 'rolecall-mail');
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const names = await readdir(folder).catch(() => []);
    for (const name of names) {
      const text = await readFile(join(folder, name), 'utf8');
      if (!text.includes(`To: ${to}`) || !text.includes('Reset your rolecall password')) continue;
      const body = text.split(/\r?\n\r?\n/).slice(1).join('\n').replace(/=\r?\n/g, '');
      const decoded = body.replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
      const match = /(http:\/\/\S+\/reset-password\?token=[0-9a-f]{64})/.exec(decoded);
      if (match) return match[1];
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no reset email to ${to} in ${folder}`);
}

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
