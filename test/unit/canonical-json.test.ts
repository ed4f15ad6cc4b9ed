import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalBytes, sha256Hex } from '../../src/evidence/canonical-json';

const canon = (v: unknown): string => canonicalBytes(v).toString('utf8');

/** IEEE-754 bit patterns, exactly as RFC 8785 Appendix B lists them. */
const fromHex = (hex: string): number => Buffer.from(hex, 'hex').readDoubleBE(0);

describe('canonicalBytes (RFC 8785)', () => {
  it('canonicalises the RFC 8785 §3.2.2 sample input to the §3.2.3 output', () => {
    const input = String.raw`{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }`;
    const expected = String.raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`;
    assert.equal(canon(JSON.parse(input)), expected);
  });

  it('encodes as UTF-8 (RFC 8785 §3.2.4: € is e2 82 ac)', () => {
    assert.deepEqual([...canonicalBytes('€')], [0x22, 0xe2, 0x82, 0xac, 0x22]);
  });

  it('sorts properties by UTF-16 code units (RFC 8785 §3.2.3 sorting example)', () => {
    const input = String.raw`{
      "\u20ac": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face",
      "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis"
    }`;
    // Checked on the text: parsing it back would reorder "1" first (JS integer-key order).
    const expected =
      String.raw`{"\r":"Carriage Return","1":"One",` +
      '"\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",' +
      '"\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}';
    assert.equal(canon(JSON.parse(input)), expected);
  });

  it('serialises numbers as in RFC 8785 Appendix B', () => {
    const table: Array<[string, string]> = [
      ['0000000000000000', '0'],
      ['8000000000000000', '0'], // -0
      ['0000000000000001', '5e-324'],
      ['8000000000000001', '-5e-324'],
      ['7fefffffffffffff', '1.7976931348623157e+308'],
      ['ffefffffffffffff', '-1.7976931348623157e+308'],
      ['4340000000000000', '9007199254740992'],
      ['c340000000000000', '-9007199254740992'],
      ['4430000000000000', '295147905179352830000'],
      ['44b52d02c7e14af5', '9.999999999999997e+22'],
      ['44b52d02c7e14af6', '1e+23'],
      ['44b52d02c7e14af7', '1.0000000000000001e+23'],
      ['444b1ae4d6e2ef4e', '999999999999999700000'],
      ['444b1ae4d6e2ef4f', '999999999999999900000'],
      ['444b1ae4d6e2ef50', '1e+21'],
      ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
      ['3eb0c6f7a0b5ed8d', '0.000001'],
      ['41b3de4355555553', '333333333.3333332'],
      ['41b3de4355555554', '333333333.33333325'],
      ['41b3de4355555555', '333333333.3333333'],
      ['41b3de4355555556', '333333333.3333334'],
      ['41b3de4355555557', '333333333.33333343'],
      ['becbf647612f3696', '-0.0000033333333333333333'],
      ['43143ff3c1cb0959', '1424953923781206.2'],
    ];
    for (const [hex, expected] of table) assert.equal(canon(fromHex(hex)), expected, `0x${hex}`);
  });

  it('switches to exponent form below 1e-6 (ECMAScript Number::toString, which RFC 8785 adopts)', () => {
    assert.equal(canon(1e-7), '1e-7');
    assert.equal(canon(1e21), '1e+21');
    assert.equal(canon(1e20), '100000000000000000000');
  });

  it('rejects NaN and Infinity (RFC 8785 Appendix B) and values with no JSON form', () => {
    assert.throws(() => canonicalBytes(fromHex('7fffffffffffffff')));
    assert.throws(() => canonicalBytes(fromHex('7ff0000000000000')));
    assert.throws(() => canonicalBytes(undefined), TypeError);
  });

  it('is independent of property insertion order, so digests are too', () => {
    const a = { b: [1, { y: 2, x: 1 }], a: 'z' };
    const b = { a: 'z', b: [1, { x: 1, y: 2 }] };
    assert.equal(sha256Hex(canonicalBytes(a)), sha256Hex(canonicalBytes(b)));
    assert.equal(canon(a), '{"a":"z","b":[1,{"x":1,"y":2}]}');
  });

  it('hashes with SHA-256 as lowercase hex', () => {
    // FIPS 180-2 test vector for "abc".
    assert.equal(sha256Hex(Buffer.from('abc')), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
