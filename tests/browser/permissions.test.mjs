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
  const { page, context, visit } = ui;
  await signInFromInvitation(ui, 'heidi@acme-north.example', '/users');

  // Users and their roles, but not the audit log: heidi is no auditor.
  const nav = await areas(page);
  assert.ok(nav.includes('Users') && nav.includes('User Role Management'), `areas: ${nav.join(', ')}`);
  assert.ok(!nav.includes('Audit log'), `heidi is offered the audit log: ${nav.join(', ')}`);
  // The area shown is marked as the current one, for screen readers too.
  const main = page.getByRole('navigation', { name: 'Main' });
  assert.equal(await main.getByRole('link', { name: 'Users', exact: true }).getAttribute('aria-current'), 'page');
  assert.equal(await main.getByRole('link', { name: 'Roles', exact: true }).getAttribute('aria-current'), null);

  // On Carol's page: Carol, a Provider, holds permissions heidi lacks, so
  // heidi may not change her access at all, not even the roles heidi holds
  // herself ("only someone who holds every permission that user holds"):
  // every box greyed out, no button, and the page says why.
  await visit('/users/carol?org=acme-north');
  const officeStaff = page.getByRole('checkbox', { name: 'Office Staff', exact: true });
  const systemAdmin = page.getByRole('checkbox', { name: 'System Admin', exact: true });
  assert.equal(await officeStaff.isEnabled(), false, 'carol holds more than heidi: no box may change');
  assert.equal(await systemAdmin.isEnabled(), false, 'heidi lacks System Admin: its box must be greyed out');
  assert.equal(await page.getByRole('button', { name: 'Update Roles' }).count(), 0);
  assert.equal(await page.getByRole('button', { name: 'Update Reports' }).count(), 0);
  const why = await page.locator('main').innerText();
  assert.match(why, /only someone who holds everything they hold may do this/, why);

  // Forced: a role form sent anyway, with heidi's valid CSRF token, is
  // refused and changes nothing.
  const csrf = await page.locator('input[name="csrf"]').first().inputValue();
  const forged = await context.request.post('/users/carol/roles', {
    form: { csrf, org: 'acme-north', etag: '', roles: 'web.office_staff' },
    maxRedirects: 0,
  });
  assert.equal(forged.status(), 403, 'the forced role change must be refused');
  await visit('/users/carol?org=acme-north');
  assert.equal(await page.getByRole('checkbox', { name: 'Office Staff', exact: true }).isChecked(), false);
  assert.equal(await page.getByRole('checkbox', { name: 'Provider', exact: true }).isChecked(), true);

  // A page not offered is refused when typed in.
  await visit('/audit', { status: 403 });
  await page.getByRole('alert').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Filter' }).count(), 0, 'no filters for a log refused');
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
