import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { HmacSha256 } from '../../src/telemetry/hmac-sha256';
import { HmacSha256x4 } from '../../src/telemetry/hmac-sha256-x4';
import { CaseIdHasher, hashCaseId } from '../../src/telemetry/events';

const reference = (key: string | Buffer, m: string) => createHmac('sha256', key).update(m, 'utf8').digest('hex');

describe('HmacSha256 (precomputed pad blocks, plain JavaScript)', () => {
  it('equals node:crypto on RFC 4231 test case 2', () => {
    // RFC 4231 §4.3: key "Jefe", data "what do ya want for nothing?".
    assert.equal(
      new HmacSha256('Jefe').hex('what do ya want for nothing?'),
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });

  it('equals node:crypto for every message length 0–200, ASCII and not, and keys shorter and longer than a block', () => {
    for (const key of ['k', 'case-id-key-0123456789', 'x'.repeat(64), 'long-'.repeat(30), 'clé-ünïcode']) {
      const h = new HmacSha256(key);
      for (let len = 0; len <= 200; len++) {
        const ascii = randomBytes(len).toString('base64').slice(0, len);
        assert.equal(h.hex(ascii), reference(key, ascii), `key ${key.length}, ascii length ${len}`);
        const wide = `é${ascii}✓😀`.slice(0, len + 1);
        assert.equal(h.hex(wide), reference(key, wide), `key ${key.length}, non-ASCII length ${len}`);
      }
    }
  });

  it('is what the gateway writes for a case id (CaseIdHasher = hashCaseId)', () => {
    const hasher = new CaseIdHasher('gateway-key-0123456789');
    for (let i = 0; i < 2000; i++) {
      const id = `patient-${i}-${randomBytes(i % 40).toString('hex')}`;
      assert.equal(hasher.hash(id), hashCaseId(id, 'gateway-key-0123456789'));
    }
  });

  it('four at a time (WebAssembly SIMD) equals node:crypto: ASCII up to 55 bytes, longer and non-ASCII ids, any count', () => {
    for (const key of ['case-id-key-0123456789', 'long-'.repeat(30)]) {
      const x4 = new HmacSha256x4(key);
      const ids = Array.from({ length: 403 }, (_, i) =>
        i % 13 === 0
          ? `ü-${i}`
          : i % 11 === 0
            ? 'x'.repeat(50 + (i % 12))
            : randomBytes(i % 40)
                .toString('base64')
                .slice(0, i % 56),
      );
      const joined = ids.join('');
      const ends = new Uint32Array(ids.length);
      ids.reduce((end, id, i) => (ends[i] = end + id.length), 0);
      const out = new Uint8Array(ids.length * 64);
      const at = Uint32Array.from(ids, (_, i) => i * 64);
      // From the middle, an odd count: lanes left empty at the end are not written.
      x4.writeHexRange(joined, ends, 3, ids.length - 3, out, at);
      ids.forEach((id, i) =>
        assert.equal(
          Buffer.from(out.subarray(i * 64, i * 64 + 64)).toString('latin1'),
          i < 3 ? '\0'.repeat(64) : reference(key, id),
          `id ${i} (${id.length} characters)`,
        ),
      );
    }
  });

  it('writes a whole JSON list of quoted hex digests (the batch line), growing its memory, then a smaller batch', () => {
    const key = 'case-id-key-0123456789';
    const x4 = new HmacSha256x4(key);
    const mixed = (n: number, seed: number) =>
      Array.from({ length: n }, (_, i) =>
        (i + seed) % 97 === 0
          ? `é✓-${i}`
          : (i + seed) % 89 === 0
            ? `long-${'y'.repeat(60)}-${i}`
            : `${randomBytes(8).toString('hex')}-${i}`.slice(0, (i + seed) % 56),
      );
    // 5,003 ids need several memory pages; the second, smaller batch must not see the first one's bytes.
    for (const ids of [mixed(5003, 0), mixed(37, 5)]) {
      const joined = ids.join('');
      const ends = new Uint32Array(ids.length);
      ids.reduce((end, id, i) => (ends[i] = end + id.length), 0);
      const out = new Uint8Array(7 + 67 * ids.length - 1 + 5).fill(0xee);
      x4.writeQuotedHexList(joined, ends, ids.length, out, 7);
      const list = Buffer.from(out.subarray(7, 7 + 67 * ids.length - 1)).toString('latin1');
      assert.deepEqual(
        JSON.parse(`[${list}]`),
        ids.map((id) => reference(key, id)),
      );
      assert.ok(out.subarray(0, 7).every((b) => b === 0xee) && out.subarray(out.length - 5).every((b) => b === 0xee));
    }
  });
});
