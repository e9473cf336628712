// The second factor, as a person sets it up and uses it: an authenticator
// app (here totp.mjs, computing what the app would show) added on the
// account's second-factor page, its code asked at every sign-in after, and
// the recovery codes shown at enrolment, each good for one sign-in.
//
// The secret and the recovery codes are secrets: they are typed with
// fillSecret, never put in an assertion's message, and no test ends on a
// page that shows them (the harness screenshots the last page).

import assert from 'node:assert/strict';

import { consoleTest } from './console-test.mjs';
import { signInAsAlice, signInFromInvitation } from './people.mjs';
import { totp } from './totp.mjs';

const CODE_LABEL = 'Code from your authenticator app';
const RECOVERY_LABEL = 'Or a recovery code';
// What the sign-in's second step says to a code it does not take, and to
// a right code whose step was used already.
const REFUSED = 'the code is not valid';
const REUSED = 'this code was already used; wait for the next one';
// Recovery codes: `xxxxx-xxxxx` of lowercase letters and digits without
// the easily misread 0, o, 1, l and i.
const RECOVERY_CODE = /^[a-hjkmnp-z2-9]{5}-[a-hjkmnp-z2-9]{5}$/;

// Signs in with `email` and `password`, expecting to land on `path`.
async function signIn({ page, visit, submit, fillSecret }, email, password, path) {
  await visit('/sign-in');
  await page.getByLabel('Email').fill(email);
  await fillSecret(page.getByLabel('Password', { exact: true }), password, 'Password');
  await submit(page.getByRole('button', { name: 'Sign in' }), path);
}

// Signs out with the header's button.
async function signOut({ page, submit }) {
  await submit(page.getByRole('banner').getByRole('button', { name: 'Sign out' }), '/sign-in');
  await page.getByText('You are signed out.').waitFor();
}

// Sets up the authenticator app on the second-factor page, from the key
// shown there; returns the key, the code that confirmed it and when, and
// the recovery codes shown after; leaves the browser on the Users page.
// `email` is the person's.
async function enrol(ui, email) {
  const { page, submit, fillSecret } = ui;
  // The header of every page links to it.
  await submit(page.getByRole('banner').getByRole('link', { name: 'Second factor' }), '/account/mfa');
  await page.getByRole('heading', { level: 1, name: 'Second factor' }).waitFor();
  await submit(page.getByRole('button', { name: 'Set up an authenticator app' }), '/account/mfa');
  await page.getByRole('heading', { level: 1, name: 'Set up your authenticator app' }).waitFor();

  // The key as text, and the same in the link an app opens.
  const key = (await page.getByRole('main').locator('p', { hasText: 'Key:' }).locator('code').innerText()).trim();
  assert.ok(/^[A-Z2-7]{32}$/.test(key), 'the key shown is not 32 characters of base32 (160 bits)');
  const href = await page.getByRole('link', { name: 'Open in an authenticator app' }).getAttribute('href');
  // (A URL that does not parse is not quoted: it holds the secret.)
  assert.ok(href && URL.canParse(href), 'the app link is not a URL');
  const link = new URL(href);
  assert.ok(link.protocol === 'otpauth:' && link.host === 'totp', 'the app link is not an otpauth://totp/ URI');
  assert.ok(link.searchParams.get('secret') === key, 'the app link holds another secret than the key shown');
  assert.equal(link.searchParams.get('issuer'), 'rolecall');
  const label = decodeURIComponent(link.pathname.slice(1));
  assert.equal(label, `rolecall:${email}`, 'the label the app shows');

  // The key is also drawn as a QR code, for the phone's camera.
  await page.getByRole('img', { name: 'QR code of the key, for your authenticator app' }).locator('svg').waitFor();

  // A mistyped code is refused, and the same key is shown again: nothing
  // to scan anew.
  const typo = String((Number(totp(key)) + 500_000) % 1_000_000).padStart(6, '0');
  await fillSecret(page.getByLabel(CODE_LABEL), typo, CODE_LABEL);
  const mistyped = await refused(ui, page.getByRole('button', { name: 'Confirm' }), '/account/mfa/confirm');
  assert.equal(mistyped, REFUSED, 'the answer to a mistyped code at set-up');
  const again = (await page.getByRole('main').locator('p', { hasText: 'Key:' }).locator('code').innerText()).trim();
  assert.ok(again === key, 'after a mistyped code, the page shows another key');

  // The code the app shows now confirms it.
  const confirmedAt = Date.now();
  const confirmCode = totp(key, confirmedAt);
  await fillSecret(page.getByLabel(CODE_LABEL), confirmCode, CODE_LABEL);
  await submit(page.getByRole('button', { name: 'Confirm' }), '/account/mfa/confirm');
  await page.getByRole('heading', { level: 1, name: 'Second factor is on' }).waitFor();
  await page.getByText('Keep these recovery codes somewhere safe').waitFor();
  const recoveryCodes = (await page.getByRole('main').getByRole('listitem').allInnerTexts()).map((c) => c.trim());
  assert.equal(recoveryCodes.length, 10, 'the number of recovery codes shown');
  assert.ok(recoveryCodes.every((c) => RECOVERY_CODE.test(c)), 'a recovery code is not like xxxxx-xxxxx');
  assert.equal(new Set(recoveryCodes).size, 10, 'the recovery codes are not all different');

  // Away from the page that shows them.
  await submit(page.getByRole('link', { name: 'Continue' }), '/users');
  await assertNotShown(page, key, recoveryCodes);
  return { key, confirmCode, confirmedAt, recoveryCodes };
}

// Presses `button` on a form the server refuses: the page at `path`,
// answered `status`, with an alert, whose text it returns (the page is
// checked as every page is).
async function refused({ page, submit }, button, path, status = 422) {
  await submit(button, path, { status });
  return (await page.getByRole('alert').innerText()).trim();
}

// Fails when the page shows the key or a recovery code (without saying
// which).
async function assertNotShown(page, key, recoveryCodes) {
  const text = await page.content();
  assert.ok(!text.includes(key), `${new URL(page.url()).pathname} shows the authenticator key`);
  assert.ok(
    !recoveryCodes.some((code) => text.includes(code)),
    `${new URL(page.url()).pathname} shows a recovery code`,
  );
}

consoleTest('set up an authenticator app; sign-in then asks for its code', async (ui) => {
  const { page, server, submit, fillSecret } = ui;
  const password = await signInAsAlice(ui);
  const { key, confirmCode, confirmedAt, recoveryCodes } = await enrol(ui, server.email);
  await signOut(ui);

  // The password alone no longer signs in: the second step asks for a code.
  await signIn(ui, server.email, password, '/sign-in/mfa');
  await page.getByRole('heading', { level: 1, name: 'Second factor' }).waitFor();

  // A wrong code (one that no step around now has) is refused.
  const around = [-30_000, 0, 30_000, 60_000].map((shift) => totp(key, Date.now() + shift));
  let wrong = around[1];
  while (around.includes(wrong)) {
    wrong = String((Number(wrong) + 1) % 1_000_000).padStart(6, '0');
  }
  await fillSecret(page.getByLabel(CODE_LABEL), wrong, CODE_LABEL);
  const verify = page.getByRole('button', { name: 'Verify' });
  assert.equal(await refused(ui, verify, '/sign-in/mfa'), REFUSED, 'the answer to a wrong code');

  // The code that confirmed enrolment is spent: refused as used while the
  // server still takes its step (now, or one step after), as wrong later.
  const step = (ms) => Math.floor(ms / 30_000);
  await fillSecret(page.getByLabel(CODE_LABEL), confirmCode, CODE_LABEL);
  const before = step(Date.now());
  const answer = await refused(ui, verify, '/sign-in/mfa');
  const after = step(Date.now());
  const expected = new Set([before, after].map((s) => (s <= step(confirmedAt) + 1 ? REUSED : REFUSED)));
  assert.ok(expected.has(answer), `the answer to a used code: "${answer}", expected ${[...expected].join(' or ')}`);

  // The app's next code signs in: the server takes one step either side of
  // now, and that step is after the spent one whenever this runs.
  await fillSecret(page.getByLabel(CODE_LABEL), totp(key, Date.now() + 30_000), CODE_LABEL);
  await submit(page.getByRole('button', { name: 'Verify' }), '/users');
  await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
  await assertNotShown(page, key, recoveryCodes);
});

consoleTest('a recovery code signs in instead of the app, once', async (ui) => {
  const { page, submit, fillSecret } = ui;
  // heidi, a user manager at North, invited by email like every demo user.
  const email = 'heidi@acme-north.example';
  const password = await signInFromInvitation(ui, email, '/users');
  const { key, recoveryCodes } = await enrol(ui, email);
  const [first, second] = recoveryCodes;
  await signOut(ui);

  await signIn(ui, email, password, '/sign-in/mfa');
  await fillSecret(page.getByLabel(RECOVERY_LABEL), first, RECOVERY_LABEL);
  await submit(page.getByRole('button', { name: 'Verify' }), '/users');
  await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
  await signOut(ui);

  // Spent: the same code is refused the second time.
  await signIn(ui, email, password, '/sign-in/mfa');
  await fillSecret(page.getByLabel(RECOVERY_LABEL), first, RECOVERY_LABEL);
  const verify = page.getByRole('button', { name: 'Verify' });
  assert.equal(await refused(ui, verify, '/sign-in/mfa'), REFUSED, 'the answer to a spent recovery code');

  // Another of the ten still works.
  await fillSecret(page.getByLabel(RECOVERY_LABEL), second, RECOVERY_LABEL);
  await submit(page.getByRole('button', { name: 'Verify' }), '/users');
  await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
  await assertNotShown(page, key, recoveryCodes);

  // The second-factor page counts what is left, and turns it off with the
  // password (a wrong one is refused).
  await submit(page.getByRole('banner').getByRole('link', { name: 'Second factor' }), '/account/mfa');
  await page.getByText('8 of your recovery codes are left unused.').waitFor();
  const off = page.getByRole('button', { name: 'Turn off the second factor' });
  await fillSecret(page.getByLabel('Your password, to turn it off'), `${password}-wrong`, 'password');
  assert.equal(await refused(ui, off, '/account/mfa/remove'), 'the password is wrong');
  await fillSecret(page.getByLabel('Your password, to turn it off'), password, 'password');
  await submit(off, '/account/mfa');
  await page.getByText('The second factor is off').waitFor();
  await signOut(ui);
  await signIn(ui, email, password, '/users');
});

consoleTest('a sign-in waiting for its second step can be given up', async (ui) => {
  const { page, server, submit } = ui;
  const password = await signInAsAlice(ui);
  await enrol(ui, server.email);
  await signOut(ui);
  await signIn(ui, server.email, password, '/sign-in/mfa');

  // Neither field filled: the page says what it wants.
  const verify = page.getByRole('button', { name: 'Verify' });
  assert.equal(
    await refused(ui, verify, '/sign-in/mfa'),
    'Type the code your authenticator app shows, or one of your recovery codes.',
  );

  // No app at hand: sign out from here.
  await submit(page.getByRole('button', { name: 'Cancel and sign out' }), '/sign-in');
  await page.getByText('You are signed out.').waitFor();
  await ui.visit('/users');
  assert.equal(new URL(page.url()).pathname, '/sign-in', 'after giving up, the console asks to sign in again');
});
