/** The optional payload codec: AES-256-GCM per payload, and the codec server the Temporal UI calls. */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, it } from 'node:test';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import {
  AesGcmPayloadCodec,
  createCodecRoutes,
  ENCRYPTED_ENCODING,
  PayloadCodecError,
  parsePayloadKey,
} from '../../src/codec';
import { loadConfig } from '../../src/config';

const key = crypto.randomBytes(32);
const codec = new AesGcmPayloadCodec(key);
const payload = (v: unknown): Payload => defaultPayloadConverter.toPayload(v);
const secret = { patient: 'MRN-000123', note: 'lactate 4.1' };

describe('AesGcmPayloadCodec', () => {
  it('round-trips payloads, and the encoded form shows neither data nor original metadata', async () => {
    const [enc] = await codec.encode([payload(secret)]);
    assert.equal(Buffer.from(enc!.metadata!.encoding!).toString(), ENCRYPTED_ENCODING);
    assert.equal(Buffer.from(enc!.metadata!['encryption-key-id']!).toString(), codec.keyId);
    assert.ok(!Buffer.from(enc!.data!).toString('latin1').includes('MRN'));
    assert.ok(!Buffer.from(enc!.data!).toString('latin1').includes('json/plain'));
    const [dec] = await codec.decode([enc!]);
    assert.deepEqual(defaultPayloadConverter.fromPayload(dec!), secret);
  });

  it('uses a fresh IV per payload: the same value encrypts differently each time', async () => {
    const [a, b] = await codec.encode([payload(secret), payload(secret)]);
    assert.notDeepEqual(Buffer.from(a!.data!), Buffer.from(b!.data!));
  });

  it('refuses a modified payload', async () => {
    const [enc] = await codec.encode([payload(secret)]);
    const data = Buffer.from(enc!.data!);
    data[20] = data[20]! ^ 1;
    await assert.rejects(codec.decode([{ ...enc!, data }]), PayloadCodecError);
  });

  it('refuses a payload encrypted under another key, naming the key ids', async () => {
    const [enc] = await new AesGcmPayloadCodec(crypto.randomBytes(32)).encode([payload(secret)]);
    await assert.rejects(codec.decode([enc!]), /encrypted with key vigil-aes256gcm-[0-9a-f]{16}, this codec has/);
    // Same key id claimed but a different key: authentication fails.
    const forged = { ...enc!, metadata: { ...enc!.metadata, 'encryption-key-id': Buffer.from(codec.keyId) } };
    await assert.rejects(codec.decode([forged]), /failed authentication/);
  });

  it('passes payloads that were never encrypted through decode unchanged', async () => {
    const plain = payload({ a: 1 });
    assert.deepEqual(await codec.decode([plain]), [plain]);
  });

  it('config accepts only base64 of exactly 32 bytes', () => {
    assert.equal(parsePayloadKey(key.toString('base64')).length, 32);
    assert.throws(() => parsePayloadKey(crypto.randomBytes(16).toString('base64')));
    assert.equal(loadConfig({}).payloadCodec, null);
    assert.deepEqual(loadConfig({ VIGIL_PAYLOAD_KEY: key.toString('base64') }).payloadCodec?.key, key);
    assert.throws(() => loadConfig({ VIGIL_PAYLOAD_KEY: 'c2hvcnQ=' }), /VIGIL_PAYLOAD_KEY/);
  });
});

describe('codec server routes', () => {
  const origin = 'http://localhost:8233';
  const app = createCodecRoutes(codec, { origins: [origin] });
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    app.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin, ...headers },
      body: JSON.stringify(body),
    });
  const toJson = (p: Payload) => ({
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
    ),
    data: Buffer.from(p.data ?? []).toString('base64'),
  });

  it('decodes what the worker encoded (proto3 JSON, base64 bytes), with CORS for the UI origin', async () => {
    const [enc] = await codec.encode([payload(secret)]);
    const res = await post('/decode', { payloads: [toJson(enc!)] }, { 'x-namespace': 'default' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), origin);
    const body = (await res.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
    assert.deepEqual(JSON.parse(Buffer.from(body.payloads[0]!.data, 'base64').toString()), secret);
    assert.equal(Buffer.from(body.payloads[0]!.metadata.encoding!, 'base64').toString(), 'json/plain');
  });

  it('encodes, also under a namespace path, and answers the preflight', async () => {
    const res = await post('/default/encode', { payloads: [toJson(payload(secret))] });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { payloads: { metadata: Record<string, string> }[] };
    assert.equal(Buffer.from(body.payloads[0]!.metadata.encoding!, 'base64').toString(), ENCRYPTED_ENCODING);
    const pre = await app.request('/decode', {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-namespace',
      },
    });
    assert.equal(pre.headers.get('access-control-allow-origin'), origin);
    const other = await post('/decode', { payloads: [] }, { origin: 'https://evil.example' });
    assert.notEqual(other.headers.get('access-control-allow-origin'), 'https://evil.example');
  });

  it('answers 400 for a tampered payload or a malformed body, and 401 without the token when one is set', async () => {
    const [enc] = await codec.encode([payload(secret)]);
    const j = toJson(enc!);
    j.data = Buffer.from(Buffer.from(j.data, 'base64').map((b, i) => (i === 15 ? b ^ 1 : b))).toString('base64');
    assert.equal((await post('/decode', { payloads: [j] })).status, 400);
    assert.equal((await post('/decode', { nope: 1 })).status, 400);
    const guarded = createCodecRoutes(codec, { origins: [origin], token: 't'.repeat(20) });
    const req = (auth?: string) =>
      guarded.request('/decode', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
        body: '{"payloads":[]}',
      });
    assert.equal((await req()).status, 401);
    assert.equal((await req(`Bearer ${'t'.repeat(20)}`)).status, 200);
  });
});
