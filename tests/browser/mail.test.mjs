// mail.mjs on messages written the way the server's mail folder holds them
// (quoted-printable, CRLF line ends). No browser, no server.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { resetLink, temporaryPassword, waitForMail } from './mail.mjs';

// Made up for this check; never a real password.
const PASSWORD = 'ab=Cd3#fG%hJ+kM?';
const TOKEN = 'e'.repeat(64);

let dir;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rolecall-mail-check-'));
  const folder = join(dir, 'rolecall-mail');
  await mkdir(folder);
  const message = (to, subject, lines) =>
    [
      'From: rolecall <no-reply@rolecall.invalid>',
      `To: ${to}`,
      `Subject: ${subject}`,
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      ...lines,
    ].join('\r\n');
  await writeFile(
    join(folder, 'mail_a.eml'),
    message('heidi@acme-north.example', 'Your rolecall account: temporary password', [
      'Hello H=C3=A9di Hill,',
      '',
      'with this email address and this temporary password:',
      '',
      `    ${PASSWORD.replace('=', '=3D')}`,
      '',
      'It works once, and only to choose your own password. It expires at 2026-12-=',
      '01T00:34:11.644Z.',
    ]),
  );
  await writeFile(
    join(folder, 'mail_b.eml'),
    message('Alice Adams <alice@acme.example>', 'Reset your rolecall password', [
      'Hello Alice,',
      '',
      `    http://127.0.0.1:1234/reset-password?token=3D${TOKEN.slice(0, 40)}=`,
      `${TOKEN.slice(40)}`,
      '',
    ]),
  );
  // An invitation without the password where it belongs.
  await writeFile(
    join(folder, 'mail_f.eml'),
    message('dave@acme-north.example', 'Your rolecall account: temporary password', [
      `Hello Dave, your password is ${PASSWORD.replace('=', '=3D')}`,
    ]),
  );
  // Two messages alike: which one is meant cannot be told.
  for (const name of ['mail_c.eml', 'mail_d.eml']) {
    await writeFile(join(folder, name), message('bob@acme.example', 'Twice', ['Body']));
  }
  // Still being written: never read.
  await writeFile(join(folder, '.mail_e.eml.partial'), message('bob@acme.example', 'Half', ['Bo']));
});
after(() => rm(dir, { recursive: true, force: true }));

test('a message is found by recipient and subject and decoded', async () => {
  const body = await waitForMail(dir, { to: 'heidi@acme-north.example', subject: 'temporary password' });
  assert.ok(body.startsWith('Hello Hédi Hill,\n\n'), 'UTF-8 and line ends decoded');
  assert.ok(body.endsWith('It expires at 2026-12-01T00:34:11.644Z.'), 'soft line breaks joined');
});

test('the temporary password and the reset link are read', async () => {
  assert.ok((await temporaryPassword(dir, 'heidi@acme-north.example')) === PASSWORD, 'the password');
  const link = await resetLink(dir, 'ALICE@acme.example');
  assert.ok(link === `http://127.0.0.1:1234/reset-password?token=${TOKEN}`, 'the link');
});

test('no message, or two, is an error naming the search but no body', async () => {
  await assert.rejects(waitForMail(dir, { to: 'carol@acme.example', subject: 'Reset', timeoutMs: 300 }), (error) => {
    assert.match(error.message, /no message to carol@acme\.example with a subject containing "Reset" arrived in .*rolecall-mail within 300 ms/);
    return true;
  });
  await assert.rejects(waitForMail(dir, { to: 'bob@acme.example', subject: 'Twice' }), /2 messages to bob@acme\.example/);
  await assert.rejects(waitForMail(dir, { to: 'bob@acme.example', subject: 'Half', timeoutMs: 0 }), /no message/);
  await assert.rejects(temporaryPassword(dir, 'dave@acme-north.example'), (error) => {
    assert.match(error.message, /the invitation to dave@acme-north\.example holds no 16-character temporary password/);
    assert.ok(!error.message.includes(PASSWORD) && !error.message.includes('Hello'), 'no body in the error');
    return true;
  });
});
