// Roles in the web console: User Role Management (update 5 or more user
// roles at once) and the Roles page (the role × permission tables, and a
// custom role made by copying one).

import assert from 'node:assert/strict';

import { consoleTest } from './console-test.mjs';
import { signInAsAlice } from './people.mjs';
import { checkPage } from './page-checks.mjs';

/**
 * Calls the JSON API from the page, with the session cookie and the CSRF
 * token of the page's forms; returns the parsed answer or throws naming it.
 */
async function api(page, method, path, body, extraHeaders = {}) {
  const csrf = await page.locator('input[name="csrf"]').first().getAttribute('value');
  const answer = await page.evaluate(
    async ({ method, path, body, csrf, extraHeaders }) => {
      const response = await fetch(path, {
        method,
        headers: { 'content-type': 'application/json', 'x-csrf-token': csrf, ...extraHeaders },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, text: await response.text() };
    },
    { method, path, body, csrf, extraHeaders },
  );
  if (answer.status >= 400) throw new Error(`${method} ${path} answered ${answer.status}: ${answer.text}`);
  return JSON.parse(answer.text);
}

/** Adds an employee and their user (Office Staff) to `org` through the API. */
async function addOfficeStaff(page, org, id, firstName, lastName) {
  const employee = await api(page, 'POST', `/v1/orgs/${org}/employees`, {
    id: `emp-${id}`,
    first_name: firstName,
    last_name: lastName,
    email: `${id}@${org}.example`,
  });
  await api(page, 'POST', `/v1/orgs/${org}/users`, {
    id,
    employee_id: employee.id,
    roles: ['web.office_staff'],
  });
}

consoleTest('update five users roles at once in User Role Management', async (ctx) => {
  const { page, visit, submit } = ctx;
  await signInAsAlice(ctx);
  // Arrange: North has carol, dave and heidi; three more make six users.
  await addOfficeStaff(page, 'acme-north', 'nina', 'Nina', 'Novak');
  await addOfficeStaff(page, 'acme-north', 'omar', 'Omar', 'Ortiz');
  await addOfficeStaff(page, 'acme-north', 'paula', 'Paula', 'Perez');
  const boxes = [
    'Carol Chen: Biller',
    'David Diaz: Business Manager',
    'Heidi Hill: Reporting User',
    'Nina Novak: Biller',
    'Omar Ortiz: Clinical Assistant',
  ];

  // Act: open the grid of North through the organization picker, check a
  // box in five rows, and save them all with one button.
  await visit('/role-management');
  await page.getByLabel('Organization').selectOption('acme-north');
  await submit(page.getByRole('button', { name: 'Show' }), '/role-management');
  await page.getByRole('columnheader', { name: 'Biller' }).waitFor();
  for (const box of boxes) {
    const checkbox = page.getByRole('checkbox', { name: box, exact: true });
    assert.equal(await checkbox.isChecked(), false, `${box} is checked before the update`);
    await checkbox.check();
  }
  await submit(page.getByRole('button', { name: 'Update Roles' }), '/role-management');

  // Assert: the page says so, the reloaded grid shows every change, and
  // the audit log holds one access update per user.
  await page.getByRole('status').filter({ hasText: 'Roles updated for 5 users.' }).waitFor();
  await visit('/role-management?org=acme-north');
  for (const box of boxes) {
    assert.equal(
      await page.getByRole('checkbox', { name: box, exact: true }).isChecked(),
      true,
      `${box} is not checked after reloading the grid`,
    );
  }
  // What was not touched stayed as it was.
  assert.equal(await page.getByRole('checkbox', { name: 'Paula Perez: Office Staff', exact: true }).isChecked(), true);
  assert.equal(await page.getByRole('checkbox', { name: 'Paula Perez: Biller', exact: true }).isChecked(), false);
  await visit('/audit');
  await page.getByLabel('Organization').selectOption('acme-north');
  await page.getByLabel('Actor').fill('user:alice');
  await page.getByLabel('Action').fill('user.access.update');
  await submit(page.getByRole('button', { name: 'Filter' }), '/audit');
  await submit(page.getByRole('link', { name: /^Target/ }), '/audit');
  const targets = await page
    .getByRole('region', { name: 'Audit records' })
    .locator('tbody tr td:nth-child(5)')
    .allInnerTexts();
  assert.deepEqual(targets, ['user:carol', 'user:dave', 'user:heidi', 'user:nina', 'user:omar']);

  // End on the saved grid, for the screenshot.
  await visit('/role-management?org=acme-north');
});

consoleTest('create a custom role by copying one and see it in the matrix', async (ctx) => {
  const { page, visit, submit } = ctx;
  await signInAsAlice(ctx);

  // The seed's table: permissions grouped by module, a column per role.
  await visit('/roles?org=acme-south');
  const web = page.getByRole('region', { name: 'Web platform user roles and permissions' });
  await web.getByRole('columnheader', { name: 'System Admin' }).waitFor();
  await web.getByRole('rowheader', { name: 'Manage Patient Demographics' }).waitFor();
  // South subscribes to Clinical only: Billing is marked.
  await web.getByRole('rowheader', { name: /Billing Permissions — not subscribed/ }).waitFor();
  assert.equal(await web.getByRole('rowheader', { name: /Clinical Permissions — not subscribed/ }).count(), 0);

  // Act: copy Office Staff as "Front Desk".
  await page.getByLabel('Role to copy').selectOption({ label: 'Office Staff' });
  await page.getByLabel('Name of the new role').fill('Front Desk');
  await page.getByLabel('Id of the new role').fill('front_desk');
  await submit(page.getByRole('button', { name: 'Create role' }), '/roles');

  // Assert: the notice, and a new column granting what Office Staff grants.
  await page.getByRole('status').filter({ hasText: 'web.front_desk' }).waitFor();
  const table = page.getByRole('region', { name: 'Web platform user roles and permissions' });
  const headers = await table.getByRole('columnheader').allTextContents();
  const officeStaff = headers.findIndex((h) => h.trim() === 'Office Staff');
  const frontDesk = headers.findIndex((h) => h.includes('Front Desk'));
  assert.ok(officeStaff > 0, `no Office Staff column in ${headers.join(' | ')}`);
  assert.ok(frontDesk > 0, `no Front Desk column in ${headers.join(' | ')}`);
  const rows = table.getByRole('row');
  let compared = 0;
  for (let i = 0; i < (await rows.count()); i++) {
    const cells = await rows.nth(i).getByRole('cell').allTextContents();
    if (cells.length === 0) continue;
    // Cells follow the row header: column n is cell n - 1.
    assert.equal(cells[frontDesk - 1], cells[officeStaff - 1], `row ${i} differs between the copy and Office Staff`);
    compared++;
  }
  assert.ok(compared > 10, `only ${compared} permission rows compared`);

  // Its grants can be changed: Front Desk does without Messages.
  const messagesCell = async () => {
    const row = page
      .getByRole('region', { name: 'Web platform user roles and permissions' })
      .getByRole('row')
      .filter({ has: page.getByRole('rowheader', { name: 'Messages', exact: true }) });
    return (await row.getByRole('cell').allTextContents())[frontDesk - 1].trim();
  };
  assert.equal(await messagesCell(), 'Y');
  await submit(page.getByRole('link', { name: 'Edit Front Desk' }), '/roles/edit');
  await page.getByLabel('Messages', { exact: true }).uncheck();
  await submit(page.getByRole('button', { name: 'Save role' }), '/roles');
  await page.getByRole('status').filter({ hasText: 'saved' }).waitFor();
  assert.equal(await messagesCell(), '-');
});

consoleTest('a grid read before someone else changed a user saves nothing', async (ctx) => {
  const { page, visit } = ctx;
  await signInAsAlice(ctx);
  await visit('/role-management?org=acme-north');
  await page.getByRole('checkbox', { name: 'Carol Chen: Biller', exact: true }).check();
  await page.getByRole('checkbox', { name: 'David Diaz: Biller', exact: true }).check();

  // Meanwhile someone else changes David's access.
  await api(
    page,
    'PUT',
    '/v1/orgs/acme-north/users/dave/access',
    { roles: ['web.provider', 'web.office_staff'] },
    { 'if-match': '*' },
  );

  // Act: the update is refused as a whole.
  const [response] = await Promise.all([
    page.waitForNavigation(),
    page.getByRole('button', { name: 'Update Roles' }).click(),
  ]);
  assert.equal(response.status(), 409);
  await checkPage(page, null, () => {});
  const alert = await page.getByRole('alert').textContent();
  assert.match(alert, /changed by someone else since you opened the page\. Reload to see the changes\./);
  assert.match(alert, /David Diaz/);

  // Assert: Carol was not changed either; David keeps the other change.
  // (Read through the API, so the screenshot shows the message.)
  const carol = await api(page, 'GET', '/v1/orgs/acme-north/users/carol');
  const dave = await api(page, 'GET', '/v1/orgs/acme-north/users/dave');
  assert.ok(!carol.access.roles.includes('web.biller'), `Carol holds ${carol.access.roles.join(', ')}`);
  assert.deepEqual(dave.access.roles.sort(), ['web.office_staff', 'web.provider']);
  assert.equal(await page.getByRole('link', { name: 'Reload User Role Management' }).count(), 1);
});
