// Member groups (Tasking) in the console: creating one on the Organization
// page, then renaming it, changing its members and giving it a role on its
// own page, as a clinic administrator does it.

import assert from 'node:assert/strict';

import { consoleTest } from './console-test.mjs';
import { signInAsAlice } from './people.mjs';

/** The row of the Member groups table whose group is `name`. */
function groupRow(page, name) {
  return page
    .getByRole('region', { name: 'Table of member groups' })
    .getByRole('row')
    .filter({ has: page.getByRole('rowheader', { name, exact: true }) });
}

consoleTest('edit a member group', async (console) => {
  const { page, server, visit, submit } = console;
  await signInAsAlice(console);

  // Arrange: a member group of North with Carol and David.
  await visit('/organization?org=acme-north');
  await page.getByLabel('Group name').fill('Front desk');
  await page.getByRole('checkbox', { name: 'Carol Chen', exact: true }).check();
  await page.getByRole('checkbox', { name: 'David Diaz', exact: true }).check();
  await submit(page.getByRole('button', { name: 'Create group' }), '/organization');
  assert.match(await page.getByRole('status').textContent(), /Group created\./);

  // Act: open it from the table.
  const link = groupRow(page, 'Front desk').getByRole('link', { name: 'Front desk', exact: true });
  const groupPath = new URL(await link.getAttribute('href'), server.baseUrl).pathname;
  assert.match(groupPath, /^\/organization\/groups\/[^/]+$/);
  await submit(link, groupPath);
  await page.getByRole('heading', { level: 1, name: 'Front desk' }).waitFor();
  // "if you are a standard user, any Member Groups you create will be
  // assigned the standard access setting"
  await page.getByText('Standard Access', { exact: true }).waitFor();
  assert.ok(await page.getByRole('checkbox', { name: 'Carol Chen', exact: true }).isChecked());
  assert.ok(await page.getByRole('checkbox', { name: 'David Diaz', exact: true }).isChecked());

  // Rename it, add Heidi, take David out, give it Biller; save.
  await page.getByLabel('Group name').fill('Front desk team');
  await page.getByRole('checkbox', { name: 'Heidi Hill', exact: true }).check();
  await page.getByRole('checkbox', { name: 'David Diaz', exact: true }).uncheck();
  await page.getByRole('checkbox', { name: 'Biller', exact: true }).check();
  await submit(page.getByRole('button', { name: 'Save group' }), groupPath);

  // Assert: saved, and shown as saved.
  assert.match(await page.getByRole('status').textContent(), /Group saved\./);
  await page.getByRole('heading', { level: 1, name: 'Front desk team' }).waitFor();
  assert.equal(await page.getByLabel('Group name').inputValue(), 'Front desk team');
  assert.ok(await page.getByRole('checkbox', { name: 'Heidi Hill', exact: true }).isChecked(), 'Heidi is not a member');
  assert.ok(await page.getByRole('checkbox', { name: 'Carol Chen', exact: true }).isChecked(), 'Carol was dropped');
  assert.equal(await page.getByRole('checkbox', { name: 'David Diaz', exact: true }).isChecked(), false, 'David is still a member');
  assert.ok(await page.getByRole('checkbox', { name: 'Biller', exact: true }).isChecked(), 'the role is not shown');

  // The Organization page's table shows the group as saved.
  await submit(page.getByRole('link', { name: 'Back to Acme North Clinic' }), '/organization');
  assert.equal(await groupRow(page, 'Front desk').count(), 0, 'the old name is still listed');
  const row = groupRow(page, 'Front desk team');
  assert.equal(await row.count(), 1, 'the new name is not listed');
  const cells = await row.getByRole('cell').allTextContents();
  const [, members, roles] = cells;
  assert.match(members, /Carol Chen/);
  assert.match(members, /Heidi Hill/);
  assert.doesNotMatch(members, /David Diaz/);
  assert.match(roles, /biller/i);

  // A form from another site (no CSRF token) changes nothing.
  const forged = await page.request.post(groupPath, {
    form: { org: 'acme-north', name: 'Forged', role: 'web.system_admin' },
  });
  assert.equal(forged.status(), 403);
  // A form the operation refuses (Ivan, of RCM Partners, is no member of
  // North) shows the page again with why, and changes nothing.
  const csrf = await page.locator('input[name="csrf"]').first().inputValue();
  const refused = await page.request.post(groupPath, {
    form: { csrf, org: 'acme-north', name: 'Refused', member: 'ivan' },
  });
  assert.equal(refused.status(), 422);
  assert.match(await refused.text(), /is not a member of `acme-north`/);
  const stored = await page.request.get(`/v1/orgs/acme-north/groups/${groupPath.split('/').pop()}`);
  assert.equal((await stored.json()).name, 'Front desk team', 'the refused form changed the group');
  // A group out of reach is not found.
  const missing = await page.request.get('/organization/groups/no-such-group?org=acme-north');
  assert.equal(missing.status(), 404);

  // The change is in the audit log of North.
  await visit('/audit');
  await page.getByLabel('Organization').selectOption('acme-north');
  await page.getByLabel('Action').fill('group.update');
  await submit(page.getByRole('button', { name: 'Filter' }), '/audit');
  const records = page.getByRole('region', { name: 'Audit records' }).getByRole('row');
  const updates = records.filter({ has: page.getByRole('cell', { name: 'group.update', exact: true }) });
  assert.ok((await updates.count()) >= 1, 'no group.update record in the audit log');
  assert.match(await updates.first().textContent(), /user:alice/);
  assert.match(await updates.first().textContent(), /Front desk team/);
});
