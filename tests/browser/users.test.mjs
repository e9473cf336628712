// The Users area of the console: adding a user for an employee, and
// changing a user's roles and Analytics reports, as a user manager does it.

import assert from 'node:assert/strict';

import { consoleTest } from './console-test.mjs';
import { temporaryPasswords, waitForMail } from './mail.mjs';
import { signInAsAlice } from './people.mjs';

/**
 * Adds an employee through the API, with the browser's session: the
 * console has no employee form, and the demo's employees all have users.
 */
async function addEmployee(page, org, employee) {
  const csrf = await page.locator('input[name="csrf"]').first().inputValue();
  const response = await page.request.post(`/v1/orgs/${org}/employees`, {
    headers: { 'X-CSRF-Token': csrf },
    data: employee,
  });
  assert.equal(response.status(), 201, `adding employee ${employee.id}: ${await response.text()}`);
}

consoleTest('add a user for an employee', async (console) => {
  const { page, visit, submit } = console;
  await signInAsAlice(console);
  await addEmployee(page, 'acme', {
    id: 'emp-kim',
    first_name: 'Kim',
    last_name: 'Kowalski',
    email: 'kim@acme.example',
  });

  // Act: "Click Add User. Then select the employee you would like to give
  // user access to."
  await visit('/users');
  await submit(page.getByRole('link', { name: 'Add user' }), '/users/new');
  await page.getByLabel('Employee').selectOption({ label: 'Kim Kowalski' });
  await submit(page.getByRole('button', { name: 'Choose employee' }), '/users/new');

  // "Confirm that the email is correct within the email field": it is the
  // employee's, and cannot be edited here.
  const email = page.getByLabel('Email', { exact: true });
  assert.equal(await email.inputValue(), 'kim@acme.example');
  assert.equal(await email.getAttribute('readonly'), '', 'the email field must be read-only');

  await page.getByRole('radio', { name: 'Office Staff' }).check();
  await page.getByRole('checkbox', { name: 'Billing tab' }).check();
  await page.getByRole('checkbox', { name: 'Biller' }).check();
  await page.getByRole('button', { name: 'Create / Edit User Permissions' }).click();
  await page.waitForURL(/\/users\/usr-[a-z0-9]+\?/);
  // The same page again, through `visit`, so that it is checked too.
  await visit(page.url());

  // Assert: the new user's page, with the notice and the access chosen.
  await page.getByRole('heading', { level: 1, name: 'Kim Kowalski' }).waitFor();
  const notice = await page.getByRole('status').textContent();
  assert.match(notice, /Created; an email with a temporary password was sent to kim@acme\.example/);
  assert.ok(await page.getByRole('checkbox', { name: 'Biller' }).isChecked(), 'Biller is not checked');
  assert.ok(await page.getByRole('checkbox', { name: 'Billing tab' }).isChecked(), 'the Billing tab is not checked');
  // "By default, the Office Staff user type will have access to the
  // Dashboard and Reports section": checked beforehand, and kept.
  assert.ok(await page.getByRole('checkbox', { name: 'Dashboard tab' }).isChecked(), 'the default Dashboard tab is missing');
  assert.equal(await page.getByRole('checkbox', { name: 'Manager tab' }).isChecked(), false, 'a tab nobody checked was given');
  await page.getByText('Invited', { exact: true }).waitFor();
});

consoleTest('update a user\'s roles and reports', async (console) => {
  const { page, visit, submit } = console;
  await signInAsAlice(console);

  // Find Bob with the search form.
  await visit('/users');
  await page.getByLabel('Name or email').fill('bob');
  await submit(page.getByRole('button', { name: 'Search' }), '/users');
  await submit(page.getByRole('link', { name: 'Bob Baker' }), '/users/bob');

  // Act: "check or uncheck a box and use the Update Roles button to save".
  const businessManager = page.getByRole('checkbox', { name: 'Business Manager' });
  assert.equal(await businessManager.isChecked(), false);
  await businessManager.check();
  await submit(page.getByRole('button', { name: 'Update Roles' }), '/users/bob');

  // Assert: saved.
  assert.match(await page.getByRole('status').textContent(), /Roles updated/);
  assert.ok(await page.getByRole('checkbox', { name: 'Business Manager' }).isChecked(), 'the new role is not shown');
  assert.ok(await page.getByRole('checkbox', { name: 'Biller' }).isChecked(), 'the role Bob had is gone');

  // Act: "Use the checkboxes to select or unselect specific reports. Click
  // Update Reports to save." Bob, a Billing User, sees financial reports.
  const visits = page.getByRole('checkbox', { name: 'Visits by provider' });
  const denials = page.getByRole('checkbox', { name: 'Denial trends' });
  assert.equal(await visits.isChecked(), false);
  assert.equal(await denials.isChecked(), true);
  await visits.check();
  await denials.uncheck();
  await submit(page.getByRole('button', { name: 'Update Reports' }), '/users/bob');

  // Assert: saved, and the other reports of his role kept.
  assert.match(await page.getByRole('status').textContent(), /Reports updated/);
  assert.ok(await page.getByRole('checkbox', { name: 'Visits by provider' }).isChecked(), 'the report granted is not shown');
  assert.equal(await page.getByRole('checkbox', { name: 'Denial trends' }).isChecked(), false, 'the report removed is still shown');
  assert.ok(await page.getByRole('checkbox', { name: 'Payer mix' }).isChecked(), 'a report of his role was lost');

  // Both changes are in the audit log, found with its filters: one record
  // for Update Roles, one for Update Reports, each by alice, with what
  // changed.
  await visit('/audit');
  await page.getByLabel('Target').fill('user:bob');
  await page.getByLabel('Actor').fill('user:alice');
  await page.getByLabel('Action').fill('user.access');
  await submit(page.getByRole('button', { name: 'Filter' }), '/audit');
  const rows = page.getByRole('region', { name: 'Audit records' }).locator('tbody tr');
  assert.equal(await rows.count(), 2, 'one record for the roles and one for the reports');
  const text = (await rows.allTextContents()).join('\n');
  assert.match(text, /web\.business_manager/, `the roles change is not shown:\n${text}`);
  assert.match(text, /analytics\.report\.visits_by_provider/, `the reports change is not shown:\n${text}`);
});

consoleTest('a change made by someone else in between is not overwritten', async (console) => {
  const { page, context, visit, submit } = console;
  await signInAsAlice(console);
  await visit('/users/carol?org=acme-north');

  // Arrange: another tab changes Carol's roles after this page was read.
  const other = await context.newPage();
  await other.goto('/users/carol?org=acme-north');
  await other.getByRole('checkbox', { name: 'Biller' }).check();
  await other.getByRole('button', { name: 'Update Roles' }).click();
  await other.getByRole('status').waitFor();
  await other.close();

  // Act: this page, now stale, saves its own change.
  await page.getByRole('checkbox', { name: 'Business Manager' }).check();
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/users/carol/roles')),
    page.getByRole('button', { name: 'Update Roles' }).click(),
  ]);
  await page.waitForLoadState('load');

  // Assert: refused, nothing of this page's change saved.
  assert.equal(response.status(), 409);
  assert.match(
    await page.getByRole('alert').textContent(),
    /This user was changed by someone else since you opened the page\. Reload to see the changes\./,
  );
  const saved = await page.request.get('/v1/orgs/acme-north/users/carol');
  const { access } = await saved.json();
  assert.ok(access.roles.includes('web.biller'), 'the other tab\'s change is lost');
  assert.ok(!access.roles.includes('web.business_manager'), 'the stale change was saved');
});

consoleTest('correct a user\'s email on the employee profile', async (console) => {
  const { page, visit, submit } = console;
  await signInAsAlice(console);
  await visit('/users/grace?org=acme');

  // Act: "DO NOT correct in this section, Go to the Employee's Profile".
  assert.equal(await page.getByLabel('Email', { exact: true }).getAttribute('readonly'), '');
  await submit(page.getByRole('link', { name: 'The employee\'s profile' }), '/employees/emp-grace');
  await page.getByLabel('Email', { exact: true }).fill('grace.green@acme.example');
  await submit(page.getByRole('button', { name: 'Save employee' }), '/employees/emp-grace');
  assert.match(await page.getByRole('status').textContent(), /Saved/);
  await submit(page.getByRole('link', { name: 'The user of Grace Green' }), '/users/grace');

  // Assert: "this will instantly update the email field".
  assert.equal(await page.getByLabel('Email', { exact: true }).inputValue(), 'grace.green@acme.example');
});

consoleTest('a user\'s Scheduler access, status and password mail', async (console) => {
  const { page, server, visit, submit, fillSecret } = console;
  await signInAsAlice(console);

  // Scheduler: David, a provider at level A, gets level D ("My Schedule +
  // View/Edit all").
  await visit('/users/dave?org=acme-north');
  const level = page.getByLabel('Access level (Provider/Therapist)');
  assert.equal(await level.inputValue(), 'my_schedule');
  await level.selectOption({ label: 'D. My Schedule + View/Edit all' });
  await submit(page.getByRole('button', { name: 'Update Scheduler Access' }), '/users/dave');
  assert.match(await page.getByRole('status').textContent(), /Scheduler access updated/);
  assert.equal(await page.getByLabel('Access level (Provider/Therapist)').inputValue(), 'view_edit_all');
  // Tasking: every EMR user is set up with Standard Access.
  assert.equal(await page.getByLabel('Access type').inputValue(), 'standard');

  // Office staff get tabs instead of a level: Frank keeps his Dashboard tab
  // and gains Billing.
  await visit('/users/frank?org=acme-south');
  assert.equal(await page.getByLabel('User type').inputValue(), 'office_staff');
  await page.getByRole('checkbox', { name: 'Billing tab' }).check();
  await submit(page.getByRole('button', { name: 'Update Scheduler Access' }), '/users/frank');
  assert.ok(await page.getByRole('checkbox', { name: 'Billing tab' }).isChecked(), 'the tab checked is not saved');
  assert.ok(await page.getByRole('checkbox', { name: 'Dashboard tab' }).isChecked(), 'a tab he had is gone');

  // Status: disabling David ends his sessions; activating lets him back.
  await visit('/users/dave?org=acme-north');
  await submit(page.getByRole('button', { name: 'Disable user' }), '/users/dave');
  assert.match(await page.getByRole('status').textContent(), /disabled/);
  await page.getByText('Disabled', { exact: true }).waitFor();
  await submit(page.getByRole('button', { name: 'Activate user' }), '/users/dave');
  assert.match(await page.getByRole('status').textContent(), /The user is active/);

  // A reset link, by email.
  await submit(page.getByRole('button', { name: 'Send a password reset link' }), '/users/dave');
  assert.match(await page.getByRole('status').textContent(), /reset link was sent to dave@acme-north\.example/);
  await waitForMail(server.dir, { to: 'dave@acme-north.example', subject: 'Reset your rolecall password' });

  // Judy, invited and not signed in yet, is sent a new temporary password:
  // it works, and the first one no longer does.
  const judy = 'judy@acme-south.example';
  await visit('/users/judy?org=acme-south');
  await submit(page.getByRole('button', { name: 'Send the temporary password again' }), '/users/judy');
  assert.match(await page.getByRole('status').textContent(), /new temporary password was sent to judy@acme-south\.example/);
  const passwords = await temporaryPasswords(server.dir, judy, 2);
  await submit(page.getByRole('banner').getByRole('button', { name: 'Sign out' }), '/sign-in');
  const outcomes = [];
  for (const password of passwords) {
    await visit('/sign-in');
    await page.getByLabel('Email').fill(judy);
    await fillSecret(page.getByLabel('Password', { exact: true }), password, 'Password');
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/sign-in')),
      page.getByRole('button', { name: 'Sign in' }).click(),
    ]);
    await page.waitForLoadState('load');
    outcomes.push(response.status());
  }
  // One sign-in (the new password) goes on to choose a password (303), the
  // other is refused (401): in whichever order the mail folder listed them.
  assert.deepEqual([...outcomes].sort(), [303, 401], `sign-in answers: ${outcomes.join(', ')}`);
});
