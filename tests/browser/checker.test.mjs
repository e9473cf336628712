// The access checker, the organization's subscriptions, the audit log and
// the access review, as the demo's company admin (alice) uses them.
//
// Demo facts used: bob is a Biller of Acme Health, so in both clinics;
// Acme South subscribes to Clinical only, so Billing permissions are off
// there until it subscribes to Billing.

import assert from 'node:assert/strict';

import { consoleTest } from './console-test.mjs';
import { signInAsAlice } from './people.mjs';

const CHECK_BOB_CHARGES_SOUTH =
  '/access-checker?org=acme-south&user=bob&permission=web.manage_charge_entries&owner=';

/** Asks the access checker whether bob may manage charge entries in Acme South, as a person fills the form. */
async function checkBobInSouth({ page, visit, submit }) {
  await visit('/access-checker?org=acme-south');
  await page.getByLabel('Organization').selectOption('acme-south');
  await page.getByLabel('User', { exact: true }).selectOption('bob');
  await page.getByLabel('Permission', { exact: true }).fill('web.manage_charge_entries');
  await submit(page.getByRole('button', { name: 'Check' }), '/access-checker');
  return page.getByRole('heading', { level: 2, name: /^(Allowed|Denied)$/ });
}

/** Switches on Acme South's Billing subscription on the Organization page. */
async function subscribeSouthToBilling({ page, visit, submit }) {
  await visit('/organization?org=acme-south');
  const billing = page.getByRole('checkbox', { name: /^Billing/ });
  assert.equal(await billing.isChecked(), false, 'Acme South should start without Billing');
  await billing.check();
  await submit(page.getByRole('button', { name: 'Save subscriptions' }), '/organization');
  await page.getByRole('status').filter({ hasText: 'Subscriptions saved.' }).waitFor();
  assert.equal(
    await page.getByRole('checkbox', { name: /^Billing/ }).isChecked(),
    true,
    'Billing should be checked after saving',
  );
}

consoleTest('a denied check becomes allowed once the clinic subscribes to Billing', async (t) => {
  const { page } = t;
  await signInAsAlice(t);

  // Arrange: denied, because Acme South does not subscribe to Billing.
  const before = await checkBobInSouth(t);
  assert.equal((await before.textContent()).trim(), 'Denied');
  const deniedSentence = await page.locator('section p').last().textContent();
  assert.match(deniedSentence, /^Denied: /);
  assert.match(deniedSentence, /Billing/, `the sentence should name the missing module: ${deniedSentence}`);

  // Act
  await subscribeSouthToBilling(t);

  // Assert: the same question, through its shareable address, is allowed.
  await t.visit(CHECK_BOB_CHARGES_SOUTH);
  const after = page.getByRole('heading', { level: 2, name: /^(Allowed|Denied)$/ });
  assert.equal((await after.textContent()).trim(), 'Allowed');
  const allowedSentence = await page.locator('section p').last().textContent();
  assert.match(allowedSentence, /Biller/, `the sentence should name the role: ${allowedSentence}`);
});

consoleTest('the subscription change is in the audit log and its CSV export', async (t) => {
  const { page, context } = t;
  await signInAsAlice(t);
  await subscribeSouthToBilling(t);

  // Act: filter Acme South's log by the action, as a person does.
  await t.visit('/audit');
  await page.getByLabel('Organization').selectOption('acme-south');
  await page.getByLabel('Action').fill('org.subscriptions');
  await t.submit(page.getByRole('button', { name: 'Filter' }), '/audit');

  // Assert: one record, by alice, showing Billing added.
  const rows = page.getByRole('region', { name: 'Audit records' }).locator('tbody tr');
  assert.equal(await rows.count(), 1, 'exactly one subscription change expected');
  const row = rows.first();
  assert.match(await row.textContent(), /org\.subscriptions\.update/);
  assert.match(await row.textContent(), /user:alice/);
  assert.match(await row.textContent(), /subscriptions: \["web\.clinical"\] → \["web\.clinical","web\.billing"\]/);

  // Sorting by a header keeps the filters.
  await t.submit(page.getByRole('link', { name: /^Action/ }), '/audit');
  assert.equal(await rows.count(), 1, 'sorting should keep the filter');
  assert.match(page.url(), /action=org\.subscriptions/);
  assert.match(page.url(), /sort=action/);

  // The export holds the same record under a header row.
  const href = await page.getByRole('link', { name: 'Export CSV' }).getAttribute('href');
  const response = await context.request.get(href);
  assert.equal(response.status(), 200);
  assert.match(response.headers()['content-type'], /^text\/csv/);
  const lines = (await response.text()).trim().split('\r\n');
  assert.equal(lines[0], 'seq,at,actor,action,org,target,source,outcome,before,after,hash');
  assert.equal(lines.length, 2, `one record expected in the export:\n${lines.join('\n')}`);
  assert.match(lines[1], /,user:alice,org\.subscriptions\.update,acme-south,org:acme-south,/);

  // End on the filtered log, for the screenshot.
  await t.visit(new URL(page.url()).pathname + new URL(page.url()).search);
});

consoleTest('the access review shows who holds what and how', async (t) => {
  const { page, context } = t;
  await signInAsAlice(t);

  // Act
  await t.visit('/access-review?org=acme-north');

  // Assert: bob's charge entries come from his role (R), alice's token
  // management from a direct grant (D).
  const grid = page.getByRole('region', { name: 'Permissions by user' });
  const columns = await grid.locator('thead th').allTextContents();
  const column = (id) => columns.findIndex((text) => text.includes(id));
  const cell = async (permissionId, userId) => {
    const row = grid.locator('tbody tr').filter({ hasText: permissionId });
    return (await row.locator('th, td').nth(column(userId)).textContent()).trim();
  };
  assert.equal(await cell('web.manage_charge_entries', 'bob'), 'R');
  assert.equal(await cell('rolecall.manage_api_tokens', 'alice'), 'D');
  assert.equal(await cell('rolecall.manage_api_tokens', 'bob'), '');

  const href = await page.getByRole('link', { name: 'Export CSV' }).getAttribute('href');
  const response = await context.request.get(href);
  assert.equal(response.status(), 200);
  assert.match(response.headers()['content-type'], /^text\/csv/);
  const csv = await response.text();
  assert.ok(csv.startsWith('org,user,name,status,permission,permission name,module,scope,marks,granted by,explanation\r\n'));
  assert.match(csv, /acme-north,bob,Bob Baker,active,web\.manage_charge_entries,[^\r\n]*,R,role Biller \(web\.biller\) in acme,/);
});

consoleTest('the organization page lists partners and creates a member group', async (t) => {
  const { page } = t;
  await signInAsAlice(t);

  // Arrange: Acme North, managed by RCM Partners.
  await t.visit('/organization?org=acme-north');
  const partners = page.getByRole('region', { name: 'Partner links' });
  assert.match(await partners.textContent(), /RCM Partners \(rcm-partners\)/);
  assert.equal(await partners.getByRole('button').count(), 0, 'partner links are read-only in the console');

  // Act
  await page.getByLabel('Group name').fill('Front desk');
  await page.getByRole('checkbox', { name: 'Heidi Hill' }).check();
  await page.getByRole('checkbox', { name: 'Carol Chen' }).check();
  await t.submit(page.getByRole('button', { name: 'Create group' }), '/organization');

  // Assert
  await page.getByRole('status').filter({ hasText: 'Group created.' }).waitFor();
  const row = page.getByRole('region', { name: 'Table of member groups' }).getByRole('row', { name: /Front desk/ });
  assert.match(await row.textContent(), /Carol Chen, Heidi Hill|Heidi Hill, Carol Chen/);
});
