// The console follows the same rules as the API: a person is offered only
// what they may do, and what they force anyway is refused and changes
// nothing. The demo's heidi is a user manager at Acme North ("Office Staff
// with Edit Users"); dave is a provider there with no administrative
// permission.

import assert from 'node:assert/strict';

import { consoleTest } from './console-test.mjs';
import { signInFromInvitation } from './people.mjs';

/** The names of the links in the header's main navigation. */
async function areas(page) {
  return page.getByRole('navigation', { name: 'Main' }).getByRole('link').allInnerTexts();
}

consoleTest('a user manager is offered only what they may grant, and refused the rest', async (ui) => {
  const { page, visit, submit } = ui;
  await signInFromInvitation(ui, 'heidi@acme-north.example', '/users');

  // Users and their roles, but not the audit log: heidi is no auditor.
  const nav = await areas(page);
  assert.ok(nav.includes('Users') && nav.includes('User Role Management'), `areas: ${nav.join(', ')}`);
  assert.ok(!nav.includes('Audit log'), `heidi is offered the audit log: ${nav.join(', ')}`);
  // The area shown is marked as the current one, for screen readers too.
  const main = page.getByRole('navigation', { name: 'Main' });
  assert.equal(await main.getByRole('link', { name: 'Users', exact: true }).getAttribute('aria-current'), 'page');
  assert.equal(await main.getByRole('link', { name: 'Roles', exact: true }).getAttribute('aria-current'), null);

  // On Carol's page, a role heidi holds can be given; one she lacks cannot
  // ("A role you do not hold yourself cannot be given").
  await visit('/users/carol?org=acme-north');
  const officeStaff = page.getByRole('checkbox', { name: 'Office Staff', exact: true });
  const systemAdmin = page.getByRole('checkbox', { name: 'System Admin', exact: true });
  assert.equal(await officeStaff.isEnabled(), true, 'heidi holds Office Staff: she may give it');
  assert.equal(await systemAdmin.isEnabled(), false, 'heidi lacks System Admin: its box must be greyed out');
  // Reports need Analytics Management, which heidi lacks: no Update Reports.
  assert.equal(await page.getByRole('button', { name: 'Update Reports' }).count(), 0);

  // Forced: the greyed-out box enabled in the page and sent anyway.
  await systemAdmin.evaluate((box) => {
    box.disabled = false;
  });
  await systemAdmin.check();
  await submit(page.getByRole('button', { name: 'Update Roles' }), '/users/carol/roles', { status: 403 });
  const alert = await page.getByRole('alert').innerText();
  assert.match(alert, /web\.system_admin/, `the refusal names the role: ${alert}`);

  // Nothing changed.
  await visit('/users/carol?org=acme-north');
  assert.equal(await page.getByRole('checkbox', { name: 'System Admin', exact: true }).isChecked(), false);

  // A page not offered is refused when typed in.
  await visit('/audit', { status: 403 });
  await page.getByRole('alert').waitFor();
});

consoleTest('a user without administrative permissions sees their own access, and nothing else', async (ui) => {
  const { page, context, visit } = ui;
  // After signing in, dave lands on his own access, not on a refusal.
  await signInFromInvitation(ui, 'dave@acme-north.example', '/users/dave');
  await page.getByRole('heading', { level: 1, name: 'David Diaz' }).waitFor();

  const nav = await areas(page);
  for (const area of ['Users', 'User Role Management', 'Audit log', 'Access review']) {
    assert.ok(!nav.includes(area), `dave is offered ${area}: ${nav.join(', ')}`);
  }
  assert.ok(nav.includes('My access'), `areas: ${nav.join(', ')}`);

  // His own access, read-only: every box greyed out, no button to save.
  const provider = page.getByRole('checkbox', { name: 'Provider', exact: true });
  assert.equal(await provider.isChecked(), true, 'dave is a provider');
  assert.equal(await provider.isEnabled(), false, 'nobody changes their own access');
  assert.equal(await page.getByRole('button', { name: 'Update Roles' }).count(), 0);
  assert.equal(await page.getByRole('link', { name: 'Back to the users of acme-north' }).count(), 0);

  // The users list and another user's page are refused when typed in.
  await visit('/users', { status: 403 });
  await visit('/users/carol?org=acme-north', { status: 403 });

  // A forged form, with his own valid CSRF token, for Carol's roles: the
  // server refuses it and Carol keeps her roles.
  await visit('/users/dave?org=acme-north');
  const csrf = await page.locator('input[name="csrf"]').first().inputValue();
  const forged = await context.request.post('/users/carol/roles', {
    form: { csrf, org: 'acme-north', etag: '', roles: 'web.system_admin' },
    maxRedirects: 0,
  });
  assert.equal(forged.status(), 403, 'a forged role change must be refused');
  const check = await context.request.get('/v1/orgs/acme-north/users/carol');
  assert.equal(check.status(), 403, 'dave may not read carol through the API either');
});
