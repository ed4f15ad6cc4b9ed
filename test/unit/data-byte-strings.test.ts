/**
 * ByteStrings skips its hash table while values arrive in ascending byte order and builds it at the first
 * value out of order or the first lookup. Whatever the order, ids, repeats and lookups must be those of a
 * plain Map from string to first-seen index.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ByteStrings } from '../../src/data/byte-strings';

const value = fc.string({ unit: fc.constantFrom('a', 'b', 'z', '0', '9', 'é', '-'), maxLength: 5 });
/** Mostly sorted runs (the fast path), then anything: repeats, out-of-order values, empty strings. */
const values = fc
  .tuple(fc.uniqueArray(value, { maxLength: 30 }), fc.array(value, { maxLength: 30 }))
  .map(([head, tail]) => [...[...head].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))), ...tail]);

describe('ByteStrings', () => {
  it('interns like a Map, sorted or not, and finds, joins and compares by bytes', () => {
    fc.assert(
      fc.property(values, values, fc.nat(60), (xs, probes, dropAt) => {
        const set = new ByteStrings(4);
        const ref = new Map<string, number>();
        for (const [i, x] of xs.entries()) {
          if (i === dropAt) set.dropIndex(); // later values must still be checked against every earlier one
          const b = Buffer.from(x);
          const id = set.intern(b, 0, b.length);
          assert.equal(set.lastWasNew, !ref.has(x), x);
          if (!ref.has(x)) ref.set(x, ref.size);
          assert.equal(id, ref.get(x));
        }
        assert.equal(set.size, ref.size);
        assert.deepEqual(set.texts(), [...ref.keys()]);
        const other = new ByteStrings();
        for (const p of probes) other.internText(p);
        for (let id = 0; id < other.size; id++) {
          const text = other.text(id);
          assert.equal(set.findText(text), ref.get(text) ?? -1);
          assert.equal(other.findIn(set, id), ref.get(text) ?? -1);
          if (id < set.size) assert.equal(other.sameAs(id, set, id), set.text(id) === text);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('keeps working after its index is dropped, also when values are added after', () => {
    for (const later of [['d'], ['0'], ['d', 'e', 'a']]) {
      const set = new ByteStrings();
      for (const t of ['b', 'a', 'c']) set.internText(t);
      set.dropIndex();
      set.compact();
      assert.equal(set.findText('c'), 2);
      for (const t of later) set.internText(t);
      set.dropIndex();
      const other = new ByteStrings();
      for (const t of ['a', 'b', 'c', ...later]) other.internText(t);
      for (let id = 0; id < set.size; id++) assert.equal(set.findIn(other, id), other.findText(set.text(id)));
      assert.equal(set.internText('a'), 1);
      assert.equal(set.lastWasNew, false);
    }
  });
});
