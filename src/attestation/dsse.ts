import { z } from 'zod';
import type { Signer, Verifier } from './signer';

/** DSSE v1 (secure-systems-lab/dsse): the envelope, Pre-Authentication Encoding, signing and verification. */

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

const base64 = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'base64 or base64url');

export const DsseEnvelopeSchema = z.object({
  payload: base64,
  payloadType: z.string().min(1),
  signatures: z.array(z.object({ keyid: z.string().optional(), sig: base64.min(1) })).min(1),
});
export type DsseEnvelope = z.infer<typeof DsseEnvelopeSchema>;

/**
 * PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, LEN = ASCII decimal byte length
 * with no leading zeros. Signing this rather than the body binds the payload type and rules out
 * type-confusion and canonicalisation attacks.
 */
export function pae(payloadType: string, body: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, 'utf8'),
    type,
    Buffer.from(` ${body.length} `, 'utf8'),
    body,
  ]);
}

export async function signEnvelope(
  payloadType: string,
  body: Buffer,
  signers: readonly Signer[],
): Promise<DsseEnvelope> {
  if (signers.length === 0) throw new TypeError('at least one signer is required');
  const message = pae(payloadType, body);
  const signatures = await Promise.all(
    signers.map(async (s) => ({ keyid: s.keyId, sig: (await s.sign(message)).toString('base64') })),
  );
  return { payload: body.toString('base64'), payloadType, signatures };
}

export interface EnvelopeVerification {
  ok: boolean;
  /** Key ids of trusted keys whose signature verified (each key counted once). */
  acceptedKeyIds: string[];
  payloadType: string;
  payload: Buffer;
  reasons: string[];
}

/**
 * DSSE (t, n) verification: valid when signatures from at least `threshold` distinct trusted keys verify
 * over PAE. The keyid in a signature only narrows which keys are tried; it is never trusted by itself.
 */
export async function verifyEnvelope(
  envelope: unknown,
  verifiers: readonly Verifier[],
  options: { threshold?: number; payloadType?: string } = {},
): Promise<EnvelopeVerification> {
  const threshold = options.threshold ?? 1;
  const parsed = DsseEnvelopeSchema.safeParse(envelope);
  if (!parsed.success) {
    return {
      ok: false,
      acceptedKeyIds: [],
      payloadType: '',
      payload: Buffer.alloc(0),
      reasons: [`not a DSSE envelope: ${parsed.error.issues[0]!.message}`],
    };
  }
  const env = parsed.data;
  // DSSE: verifiers must accept standard and URL-safe base64.
  const payload = Buffer.from(env.payload, 'base64');
  const message = pae(env.payloadType, payload);
  const accepted = new Set<string>();
  for (const sig of env.signatures) {
    const signature = Buffer.from(sig.sig, 'base64');
    const candidates = verifiers.filter(
      (v) => !accepted.has(v.keyId) && (sig.keyid === undefined || sig.keyid === '' || sig.keyid === v.keyId),
    );
    for (const v of candidates) {
      if (await v.verify(message, signature)) {
        accepted.add(v.keyId);
        break;
      }
    }
  }
  const reasons: string[] = [];
  if (accepted.size < threshold) {
    reasons.push(
      verifiers.length === 0
        ? 'no trusted keys given'
        : `${accepted.size} of the required ${threshold} signature(s) from trusted keys verified`,
    );
  }
  const expectedType = options.payloadType ?? IN_TOTO_PAYLOAD_TYPE;
  if (env.payloadType !== expectedType) reasons.push(`payloadType is "${env.payloadType}", expected "${expectedType}"`);
  return { ok: reasons.length === 0, acceptedKeyIds: [...accepted], payloadType: env.payloadType, payload, reasons };
}
