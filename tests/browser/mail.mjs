// The server's outgoing mail, as the person it is sent to reads it. Without
// an SMTP server, `rolecall serve` writes each message as `<id>.eml` into the
// folder `rolecall-mail` beside its database (`server.dir`): headers, a blank
// line and a text body, usually quoted-printable, with CRLF line ends.
//
// Bodies hold temporary passwords and reset links: no error here ever
// quotes a body, a password or a link.

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

// The mail sender writes asynchronously, after the change that queued the
// message has committed: look again every POLL_MS, for up to WAIT_MS.
const POLL_MS = 100;
const WAIT_MS = 10_000;
// The subject of an invitation (a new user's temporary password).
const INVITATION = 'Your rolecall account: temporary password';

/**
 * The decoded text body (line ends `\n`) of the one message to `to` whose
 * Subject contains `subject`, waiting for the server to write it.
 *
 * @param {string} dir the server's directory (`server.dir`)
 * @param {{to: string, subject: string, timeoutMs?: number}} which the recipient's address,
 *   part of the subject, and how long to wait (10 s unless given)
 * @returns {Promise<string>}
 */
export async function waitForMail(dir, which) {
  const [body] = await waitForMails(dir, { ...which, count: 1 });
  return body;
}

/**
 * The decoded text bodies of the `count` messages to `to` whose Subject
 * contains `subject`, in no particular order, waiting for the server to
 * write them all; more than `count` is an error.
 *
 * @param {string} dir the server's directory (`server.dir`)
 * @param {{to: string, subject: string, count: number, timeoutMs?: number}} which
 * @returns {Promise<string[]>}
 */
export async function waitForMails(dir, { to, subject, count, timeoutMs = WAIT_MS }) {
  const folder = join(dir, 'rolecall-mail');
  const deadline = Date.now() + timeoutMs;
  const expected = count === 1 ? 'one' : String(count);
  for (;;) {
    const found = await matchingMessages(folder, to, subject);
    if (found.length > count) {
      throw new Error(
        `${found.length} messages to ${to} with a subject containing "${subject}" in ${folder}, expected ${expected}`,
      );
    }
    if (found.length === count) return found.map((message) => message.body);
    if (Date.now() >= deadline) {
      throw new Error(
        found.length === 0
          ? `no message to ${to} with a subject containing "${subject}" arrived in ${folder} within ${timeoutMs} ms`
          : `${found.length} messages to ${to} with a subject containing "${subject}" arrived in ${folder} ` +
              `within ${timeoutMs} ms, expected ${expected}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/**
 * The temporary password in the invitation sent to `email` (the demo
 * invites every user it creates).
 *
 * @param {string} dir the server's directory (`server.dir`)
 * @param {string} email the invited user's address
 * @returns {Promise<string>}
 */
export async function temporaryPassword(dir, email) {
  const [password] = await temporaryPasswords(dir, email, 1);
  return password;
}

/**
 * The temporary passwords of the `count` invitations sent to `email` (the
 * first, and each sent again), in no particular order.
 *
 * @param {string} dir the server's directory (`server.dir`)
 * @param {string} email the invited user's address
 * @param {number} count how many invitations to wait for
 * @returns {Promise<string[]>}
 */
export async function temporaryPasswords(dir, email, count) {
  const bodies = await waitForMails(dir, { to: email, subject: INVITATION, count });
  return bodies.map((body) => {
    const match = /with this email address and this temporary password:\n\n {4}(\S{16})\n/.exec(body);
    if (!match) {
      throw new Error(`the invitation to ${email} holds no 16-character temporary password where expected`);
    }
    return match[1];
  });
}

/**
 * The link in the password-reset email sent to `email`.
 *
 * @param {string} dir the server's directory (`server.dir`)
 * @param {string} email the address the reset was asked for
 * @returns {Promise<string>}
 */
export async function resetLink(dir, email) {
  const body = await waitForMail(dir, { to: email, subject: 'Reset your rolecall password' });
  const match = /^ {4}(https?:\/\/\S+\/reset-password\?token=[0-9a-f]{64})$/m.exec(body);
  if (!match) throw new Error(`the reset email to ${email} holds no reset link where expected`);
  return match[1];
}

// Every whole message in `folder` to `to` whose subject contains `subject`.
// Messages being written are dot-files until renamed, so never read half.
async function matchingMessages(folder, to, subject) {
  let names;
  try {
    names = await readdir(folder);
  } catch (error) {
    if (error.code === 'ENOENT') return []; // No mail sent yet.
    throw new Error(`cannot read the mail folder ${folder}: ${error.message}`);
  }
  const found = [];
  for (const name of names.filter((n) => n.endsWith('.eml') && !n.startsWith('.')).sort()) {
    const path = join(folder, name);
    const message = parseMessage(await readFile(path), path);
    const recipients = addresses(message.headers.get('to') ?? '');
    if (!recipients.includes(to.toLowerCase())) continue;
    if (!(message.headers.get('subject') ?? '').includes(subject)) continue;
    found.push(message);
  }
  return found;
}

// Headers (lowercase names, unfolded, encoded words decoded) and the
// decoded body of one single-part text message.
function parseMessage(bytes, path) {
  const raw = bytes.toString('latin1');
  const split = /\r?\n\r?\n/.exec(raw);
  if (!split) throw new Error(`${path} is not a mail message: no blank line after the headers`);
  const headers = new Map();
  const unfolded = raw.slice(0, split.index).replace(/\r?\n[ \t]+/g, ' ');
  for (const line of unfolded.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), decodeWords(line.slice(colon + 1).trim()));
  }
  const type = headers.get('content-type') ?? 'text/plain';
  if (!/^text\/plain\b/i.test(type)) throw new Error(`${path} is not a single text/plain message (${type})`);
  const encoding = (headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  const content = raw.slice(split.index + split[0].length);
  let body;
  if (encoding === 'quoted-printable') body = quotedPrintable(content);
  else if (encoding === 'base64') body = Buffer.from(content.replace(/\s+/g, ''), 'base64');
  else if (encoding === '7bit' || encoding === '8bit') body = Buffer.from(content, 'latin1');
  else throw new Error(`${path} has a body in an unknown transfer encoding (${encoding})`);
  return { headers, body: body.toString('utf8').replace(/\r\n/g, '\n') };
}

// Quoted-printable (RFC 2045 section 6.7) to bytes: soft line breaks
// (`=` at a line's end) joined, `=XX` turned into the byte XX.
function quotedPrintable(text) {
  const joined = text.replace(/=\r?\n/g, '');
  const bytes = [];
  for (let i = 0; i < joined.length; i += 1) {
    const hex = joined.slice(i + 1, i + 3);
    if (joined[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(joined.charCodeAt(i) & 0xff);
    }
  }
  return Buffer.from(bytes);
}

// Encoded words in a header (RFC 2047: `=?utf-8?B?...?=` or `?Q?`) decoded.
function decodeWords(value) {
  return value
    .replace(/\?=\s+=\?/g, '?==?') // Whitespace between encoded words is dropped.
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_, charset, kind, text) => {
      const bytes =
        kind.toUpperCase() === 'B'
          ? Buffer.from(text, 'base64')
          : quotedPrintable(text.replace(/_/g, ' '));
      return new TextDecoder(charset.toLowerCase()).decode(bytes);
    });
}

// The lowercase addresses in a To header: `a@x, Name <b@y>`.
function addresses(header) {
  return (header.match(/[^\s<>,;"]+@[^\s<>,;"]+/g) ?? []).map((address) => address.toLowerCase());
}
