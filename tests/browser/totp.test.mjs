// totp.mjs against the SHA-1 test vectors of RFC 6238, appendix B (their
// 8-digit codes cut to the last 6 digits, as rolecall's codes are). No
// browser, no server.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { totp } from './totp.mjs';

// The ASCII secret "12345678901234567890", in base32.
const SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

test('totp gives the RFC 6238 SHA-1 codes, 6 digits', () => {
  const vectors = [
    [59, '287082'], // 94287082
    [1111111109, '081804'], // 07081804
    [1111111111, '050471'], // 14050471
    [1234567890, '005924'], // 89005924
    [2000000000, '279037'], // 69279037
    [20000000000, '353130'], // 65353130
  ];
  for (const [seconds, code] of vectors) {
    assert.equal(totp(SECRET, seconds * 1000), code, `the code at ${seconds} s`);
  }
});

test('totp ignores case, spaces and padding, and the time within a step', () => {
  assert.equal(totp('gezd gnbv gy3t qojq gezd gnbv gy3t qojq', 59_000), '287082');
  assert.equal(totp(`${SECRET}====`, 30_000), '287082');
  assert.equal(totp(SECRET, 59_999), '287082');
  assert.notEqual(totp(SECRET, 60_000), '287082');
});

test('totp refuses a secret that is not base32', () => {
  assert.throws(() => totp('GEZDGNBV1', 0), /not base32/);
});
