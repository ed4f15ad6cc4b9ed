import { canonicalBytes } from '../evidence/canonical-json';
import { IN_TOTO_PAYLOAD_TYPE, signEnvelope, verifyEnvelope, type DsseEnvelope } from './dsse';
import type { Signer, Verifier } from './signer';
import { KNOWN_PREDICATES, StatementSchema, type Statement } from './statement';

/** Sign an in-toto Statement: payload = its RFC 8785 bytes, so the same statement always signs the same bytes. */
export function signStatement(statement: Statement<unknown>, signers: readonly Signer[]): Promise<DsseEnvelope> {
  StatementSchema.parse(statement);
  return signEnvelope(IN_TOTO_PAYLOAD_TYPE, canonicalBytes(statement), signers);
}

export interface AttestationVerification {
  ok: boolean;
  reasons: string[];
  acceptedKeyIds: string[];
  statement?: Statement;
}

export interface VerifyAttestationOptions {
  threshold?: number;
  /** Reject unless the statement has this predicate type. */
  predicateType?: string;
  /** Reject unless some subject carries this SHA-256 (e.g. the file being checked). */
  subjectSha256?: string;
}

/**
 * Signature first (DSSE, over the exact payload bytes), then the payload: a valid in-toto Statement v1,
 * a known predicate valid against its schema, and the expected predicate type / subject if asked.
 */
export async function verifyAttestation(
  envelope: unknown,
  verifiers: readonly Verifier[],
  options: VerifyAttestationOptions = {},
): Promise<AttestationVerification> {
  const env = await verifyEnvelope(envelope, verifiers, {
    threshold: options.threshold ?? 1,
    payloadType: IN_TOTO_PAYLOAD_TYPE,
  });
  const reasons = [...env.reasons];
  let statement: Statement | undefined;
  if (env.payload.length > 0 || env.payloadType) {
    let json: unknown;
    try {
      json = JSON.parse(env.payload.toString('utf8'));
    } catch {
      reasons.push('payload is not JSON');
    }
    if (json !== undefined) {
      const parsed = StatementSchema.safeParse(json);
      if (!parsed.success) {
        reasons.push(`payload is not an in-toto Statement v1: ${describeIssue(parsed.error.issues[0]!)}`);
      } else {
        statement = parsed.data;
        const schema = KNOWN_PREDICATES[statement.predicateType];
        const checked = schema?.safeParse(statement.predicate);
        if (checked && !checked.success)
          reasons.push(
            `predicate does not match ${statement.predicateType}: ${describeIssue(checked.error.issues[0]!)}`,
          );
        if (options.predicateType && statement.predicateType !== options.predicateType) {
          reasons.push(`predicateType is ${statement.predicateType}, expected ${options.predicateType}`);
        }
        if (options.subjectSha256 && !statement.subject.some((s) => s.digest.sha256 === options.subjectSha256)) {
          reasons.push(`no subject has sha256 ${options.subjectSha256}`);
        }
      }
    }
  }
  return { ok: reasons.length === 0, reasons, acceptedKeyIds: env.acceptedKeyIds, ...(statement ? { statement } : {}) };
}

function describeIssue(issue: { path: PropertyKey[]; message: string }): string {
  return `${issue.path.length ? `${issue.path.map(String).join('.')}: ` : ''}${issue.message}`;
}
