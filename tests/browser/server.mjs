// A `rolecall serve --demo` of its own for one test: a fresh SQLite
// database in a temporary directory, a free port on loopback, and the demo
// admin's email and temporary password read from what the server prints.
//
// The server's standard output holds secrets (the temporary password and an
// operator token): it is parsed, never printed or saved. Its standard error
// (the log) goes to a file beside the screenshots.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// How long the server may take to print its address and the demo's
// password (a debug build hashes passwords slowly).
const START_TIMEOUT_MS = 60_000;
// How long it may take to stop after SIGTERM before it is killed.
const STOP_TIMEOUT_MS = 10_000;
// Another program may take the free port between our check and the
// server's bind; then the server refuses and we try another port.
const PORT_ATTEMPTS = 3;

// Variables of the caller that would point the server elsewhere: another
// database or audit key, a real SMTP server, another public address.
const FOREIGN_VARIABLES = [
  'ROLECALL_DATABASE_URL',
  'ROLECALL_AUDIT_KEY',
  'ROLECALL_AUDIT_KEY_FILE',
  'ROLECALL_SMTP_URL',
  'ROLECALL_PUBLIC_URL',
];

// Servers still running (process group id to temporary directory), killed
// and removed if the runner ends without stopping them: an uncaught error,
// or Ctrl-C (the servers have process groups of their own, so the
// terminal's signal does not reach them).
const running = new Map();
function killRunning() {
  for (const [pid, dir] of running) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
process.on('exit', killRunning);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    killRunning();
    // The handler is gone now: end the way the signal would have.
    process.kill(process.pid, signal);
  });
}

/**
 * Starts `rolecall serve --demo` and waits until it has printed its address
 * and the demo admin's temporary password.
 *
 * @param {object} options
 * @param {string} options.binary path of the `rolecall` binary
 * @param {string} options.logPath where the server's log (stderr) goes
 * @returns {Promise<{baseUrl: string, email: string, temporaryPassword: string, stop: () => Promise<void>}>}
 */
export async function startServer({ binary, logPath }) {
  const log = createWriteStream(logPath);
  try {
    await once(log, 'open');
  } catch (error) {
    throw new Error(`cannot write the server log ${logPath}: ${error.message}`);
  }
  const closeLog = () => new Promise((resolve) => log.end(resolve));
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      const server = await spawnServer({ binary, port, log });
      return {
        ...server,
        stop: async () => {
          await server.stop();
          await closeLog();
        },
      };
    } catch (error) {
      if (!error.portTaken || attempt === PORT_ATTEMPTS) {
        await closeLog();
        throw error;
      }
    }
  }
}

// A port that nothing listens on right now. The server is given it
// explicitly (rather than port 0) so that its public address, which it
// derives from `--listen`, is the one the browser uses.
async function freePort() {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address();
  probe.close();
  await once(probe, 'close');
  return port;
}

async function spawnServer({ binary, port, log }) {
  const dir = await mkdtemp(join(tmpdir(), 'rolecall-browser-'));
  const env = { ...process.env };
  for (const name of FOREIGN_VARIABLES) delete env[name];
  const listen = `127.0.0.1:${port}`;
  const child = spawn(
    binary,
    ['serve', '--demo', '--database', join(dir, 'rolecall.db'), '--listen', listen],
    // Its own process group, so that stopping it reaches anything it starts.
    { cwd: dir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stderr.pipe(log, { end: false });
  const stderrTail = tail(child.stderr);
  // 'close' comes after the output streams are read to the end, so the
  // log tail in an error message is complete.
  const closed = new Promise((resolve) => child.once('close', resolve));
  if (child.pid !== undefined) running.set(child.pid, dir);

  const stop = async () => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      signalGroup(child.pid, 'SIGTERM');
      const timer = setTimeout(() => signalGroup(child.pid, 'SIGKILL'), STOP_TIMEOUT_MS);
      await closed;
      clearTimeout(timer);
    }
    if (child.pid !== undefined) {
      // The group may still hold children that outlived the server.
      signalGroup(child.pid, 'SIGKILL');
      running.delete(child.pid);
    }
    child.stderr.unpipe(log);
    await rm(dir, { recursive: true, force: true });
  };

  try {
    const printed = await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => finish(reject, new Error(`rolecall serve printed no demo sign-in within ${START_TIMEOUT_MS} ms`)),
        START_TIMEOUT_MS,
      );
      const onError = (error) => finish(reject, new Error(`cannot start ${binary}: ${error.message}`));
      const onClose = (code, signal) => {
        const error = new Error(
          `rolecall serve exited (${signal ?? `code ${code}`}) before printing the demo's ` +
            `sign-in; its last log lines:\n${stderrTail()}`,
        );
        error.portTaken = /cannot listen on/.test(stderrTail());
        finish(reject, error);
      };
      const finish = (settle, value) => {
        clearTimeout(timer);
        child.off('error', onError);
        child.off('close', onClose);
        settle(value);
      };
      child.once('error', onError);
      child.once('close', onClose);
      readDemo(child.stdout, (demo) => finish(resolve, demo));
    });
    const expected = `http://${listen}`;
    if (printed.baseUrl !== expected) {
      throw new Error(`rolecall serve says it serves ${printed.baseUrl}, expected ${expected}`);
    }
    // `dir` holds the database and the mail folder (`rolecall-mail/`).
    return { ...printed, dir, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Reads the server's standard output until it has printed its address and
 * the demo admin's sign-in, then calls `found` once:
 *
 *     rolecall is serving http://127.0.0.1:PORT (database ..., revision N)
 *     ...
 *     Sign in to the web console at http://127.0.0.1:PORT/sign-in as alice with the email
 *     `alice@acme.example` and this temporary password, ...:
 *
 *         PASSWORD
 *
 * The stream is read to its end (and the rest dropped): closing it early
 * would make the server's next write fail, and the server stop.
 */
function readDemo(stdout, found) {
  stdout.setEncoding('utf8');
  let text = '';
  const onData = (chunk) => {
    text += chunk;
    const parsed = parseDemo(text);
    if (parsed) {
      text = '';
      stdout.off('data', onData);
      stdout.resume();
      found(parsed);
    }
  };
  stdout.on('data', onData);
}

// The address, email and temporary password in `text`, or `undefined`
// while they are not all there yet. Exported for a unit check.
export function parseDemo(text) {
  const serving = /^rolecall is serving (http:\/\/\S+)/m.exec(text);
  const signIn =
    /^Sign in to the web console at \S+ as \S+ with the email `([^`]+)` and this\s+temporary password[^\n]*\n\n {4}(\S[^\n]*)\n/m.exec(
      text,
    );
  const operator = /^Operator token[^\n]*\n\n {4}(rc_\S+)/m.exec(text);
  if (!serving || !signIn) return undefined;
  return {
    baseUrl: serving[1],
    email: signIn[1],
    temporaryPassword: signIn[2].trimEnd(),
    operatorToken: operator ? operator[1] : undefined,
  };
}

function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if (error.code !== 'ESRCH') throw error;
  }
}

// Keeps the last lines of a stream for error messages.
function tail(stream, maxLines = 20) {
  const lines = [];
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop();
    lines.push(...parts);
    lines.splice(0, Math.max(0, lines.length - maxLines));
  });
  return () => [...lines, partial].filter(Boolean).join('\n');
}
