import crypto from 'node:crypto';

/**
 * Password hashes: scrypt (RFC 7914) in a self-describing string `scrypt$N$r$p$<salt b64>$<hash b64>`, so the
 * cost can be raised later without invalidating stored hashes. N = 2^15, r = 8, p = 1 is OWASP's minimum
 * recommendation for scrypt (~32 MiB, tens of milliseconds per check).
 */
export const SCRYPT_DEFAULTS = { N: 2 ** 15, r: 8, p: 1 } as const;
const KEY_LEN = 32;
const SALT_LEN = 16;

export function hashPassword(
  password: string,
  params: { N: number; r: number; p: number } = SCRYPT_DEFAULTS,
): Promise<string> {
  const salt = crypto.randomBytes(SALT_LEN);
  return derive(password, salt, params).then(
    (hash) => `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64')}$${hash.toString('base64')}`,
  );
}

const HASH_RE = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/;

export function isPasswordHash(s: string): boolean {
  return HASH_RE.test(s);
}

/** Constant-time comparison of the derived key; a malformed hash never verifies. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const m = HASH_RE.exec(stored);
  if (!m) return false;
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const expected = Buffer.from(m[5]!, 'base64');
  if (expected.length < 16) return false;
  const actual = await derive(password, Buffer.from(m[4]!, 'base64'), { N, r, p }, expected.length);
  return crypto.timingSafeEqual(actual, expected);
}

/** Spent on unknown usernames so a login's timing does not tell which accounts exist. */
let dummy: Promise<string> | undefined;
export async function burnPasswordCheck(password: string): Promise<void> {
  dummy ??= hashPassword('vigil-dummy-password');
  await verifyPassword(password, await dummy);
}

function derive(
  password: string,
  salt: Buffer,
  params: { N: number; r: number; p: number },
  keyLen = KEY_LEN,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // maxmem must exceed 128·N·r bytes; give scrypt twice that.
    crypto.scrypt(
      password.normalize('NFC'),
      salt,
      keyLen,
      { ...params, maxmem: 256 * params.N * params.r },
      (err, key) => (err ? reject(err) : resolve(key)),
    );
  });
}
