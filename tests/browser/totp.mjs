// What an authenticator app shows: the RFC 6238 code (TOTP) for a base32
// secret, with the parameters rolecall uses (HMAC-SHA-1, 6 digits, a
// 30-second step).

import { createHmac } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/**
 * The 6-digit code of the 30-second step that holds `timeMs`.
 *
 * @param {string} base32Secret the secret (RFC 4648 base32; case, spaces and `=` padding ignored)
 * @param {number} timeMs the time, in ms since the epoch
 * @returns {string}
 */
export function totp(base32Secret, timeMs = Date.now()) {
  // Base32 to bytes: 5 bits a character, a byte for every 8 bits gathered.
  const bytes = [];
  let bits = 0;
  let value = 0;
  for (const char of base32Secret.toUpperCase().replace(/[\s=]/g, '')) {
    const index = BASE32.indexOf(char);
    if (index < 0) throw new Error('the secret is not base32');
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((value >>> bits) & 0xff);
    }
  }
  // HMAC-SHA-1 of the step number (8 bytes, big-endian), then RFC 4226's
  // dynamic truncation to 31 bits and the last 6 decimal digits.
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(timeMs / 30_000)));
  const mac = createHmac('sha1', Buffer.from(bytes)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const number = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(number % 1_000_000).padStart(6, '0');
}
