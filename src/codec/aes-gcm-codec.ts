import crypto from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class PayloadCodecError extends Error {
  override name = 'PayloadCodecError';
}

/** Key id: a short digest of the key, so histories name the key without revealing anything about it. */
export function payloadKeyId(key: Buffer): string {
  return `vigil-aes256gcm-${crypto.createHash('sha256').update('vigil payload key id\0').update(key).digest('hex').slice(0, 16)}`;
}

/** Parse VIGIL_PAYLOAD_KEY: base64 of exactly 32 random bytes. */
export function parsePayloadKey(base64: string): Buffer {
  const key = Buffer.from(base64, 'base64');
  if (key.length !== 32 || key.toString('base64') !== base64.trim())
    throw new PayloadCodecError('the payload key must be base64 of exactly 32 bytes');
  return key;
}

/**
 * AES-256-GCM over each whole payload (metadata and data), with a random 96-bit IV per payload and the key id
 * as associated data. Encoded payloads say only `binary/encrypted` and the key id; payloads that were never
 * encrypted pass through decode unchanged (histories from before the codec was switched on stay readable).
 */
export class AesGcmPayloadCodec implements PayloadCodec {
  readonly keyId: string;

  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new PayloadCodecError('AES-256-GCM needs a 32-byte key');
    this.keyId = payloadKeyId(key);
  }

  /** Async so that a failure rejects the promise instead of throwing synchronously. */
  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      const plain = temporal.api.common.v1.Payload.encode(p).finish();
      const iv = crypto.randomBytes(IV_BYTES);
      const cipher = crypto.createCipheriv('aes-256-gcm', this.key, iv);
      cipher.setAAD(Buffer.from(this.keyId));
      const body = Buffer.concat([cipher.update(plain), cipher.final()]);
      return {
        metadata: { encoding: Buffer.from(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: Buffer.from(this.keyId) },
        data: Buffer.concat([iv, body, cipher.getAuthTag()]),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      if (Buffer.from(p.metadata?.encoding ?? []).toString() !== ENCRYPTED_ENCODING) return p;
      const keyId = Buffer.from(p.metadata?.[KEY_ID_METADATA] ?? []).toString();
      if (keyId !== this.keyId)
        throw new PayloadCodecError(
          `payload was encrypted with key ${keyId || '(none)'}, this codec has ${this.keyId}`,
        );
      const data = Buffer.from(p.data ?? []);
      if (data.length < IV_BYTES + TAG_BYTES) throw new PayloadCodecError('encrypted payload is truncated');
      const decipher = crypto.createDecipheriv('aes-256-gcm', this.key, data.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(keyId));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      let plain: Buffer;
      try {
        plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      } catch {
        throw new PayloadCodecError('encrypted payload failed authentication (modified, or a different key)');
      }
      const decoded = temporal.api.common.v1.Payload.decode(plain);
      return { metadata: decoded.metadata, data: decoded.data };
    });
  }
}

/** The data converter for workers and clients: the codec when a payload key is configured, else none. */
export function payloadDataConverter(codec: { key: Buffer } | null): { payloadCodecs: PayloadCodec[] } | undefined {
  return codec ? { payloadCodecs: [new AesGcmPayloadCodec(codec.key)] } : undefined;
}
