import type { Finding, VerifiedEntry } from './chain';
import { checkSignerAuthentication, type AuthenticationSummary } from './signer-authentication';

/** A signature as 21 CFR 11.50 requires it to be shown: printed name, date and time, meaning (and role). */
export interface SignatureManifestation {
  printedName: string;
  signer: string;
  role: string;
  decision: string;
  meaning: string;
  reason: string;
  at: string;
  dossierSha256: string;
  evidenceKey: string;
  /** The signed dossier digest is the dossier recorded with the approval decision. */
  boundToDossier: boolean;
  /** The signer withdrew this approval while sign-off was open (a `vigil.signature-withdrawal/v1` record). */
  withdrawn?: { at: string; reason: string; evidenceKey: string; authentication?: AuthenticationSummary };
  /** The OpenID provider's re-authentication for this signature (./signer-authentication.ts), when it had one. */
  authentication?: AuthenticationSummary;
}

/** Signatures linked from the AWAITING_APPROVAL chain entry, read from the (already re-hashed) evidence. */
export function collectSignatures(
  entries: VerifiedEntry[],
  objects: Map<string, Uint8Array>,
): { signatures: SignatureManifestation[]; findings: Finding[] } {
  const signatures: SignatureManifestation[] = [];
  const findings: Finding[] = [];
  for (const entry of entries.filter((e) => e.stage === 'AWAITING_APPROVAL')) {
    const docs = entry.artifacts.map((ref) => ({ ref, doc: parse(objects.get(ref.key)) }));
    const dossier = docs.find((d) => typeof d.doc?.kind === 'string' && d.doc.kind.startsWith('vigil.dossier/'));
    for (const { ref, doc } of docs) {
      if (doc?.kind !== 'vigil.signature/v1') continue;
      const s: SignatureManifestation = {
        printedName: str(doc.printedName),
        signer: str(doc.signer),
        role: str(doc.role),
        decision: str(doc.decision),
        meaning: str(doc.meaning),
        reason: str(doc.reason),
        at: str(doc.at),
        dossierSha256: str(doc.dossierSha256),
        evidenceKey: ref.key,
        boundToDossier: dossier !== undefined && doc.dossierSha256 === dossier.ref.sha256,
      };
      const w = docs.find(
        (d) =>
          d.doc?.kind === 'vigil.signature-withdrawal/v1' &&
          (d.doc.signature as { key?: unknown } | undefined)?.key === ref.key,
      );
      if (w?.doc) {
        s.withdrawn = { at: str(w.doc.at), reason: str(w.doc.reason), evidenceKey: w.ref.key };
        const byOidc = checkSignerAuthentication(w.doc, w.ref.key, 'withdrawal');
        if (byOidc.authentication) s.withdrawn.authentication = byOidc.authentication;
        findings.push(...byOidc.findings);
      }
      const oidc = checkSignerAuthentication(doc, ref.key);
      if (oidc.authentication) s.authentication = oidc.authentication;
      findings.push(...oidc.findings);
      signatures.push(s);
      const missing = (['printedName', 'at', 'meaning', 'role'] as const).filter((f) => s[f] === '');
      if (missing.length)
        findings.push({ key: ref.key, problem: `signature lacks its manifestation: ${missing.join(', ')}` });
      if (!s.boundToDossier) {
        findings.push({
          key: ref.key,
          problem: 'signature is not bound to the dossier recorded with the approval',
          expected: dossier?.ref.sha256 ?? '(no dossier)',
          actual: s.dossierSha256,
        });
      }
    }
  }
  return { signatures, findings };
}

function parse(bytes: Uint8Array | undefined): Record<string, unknown> | null {
  if (!bytes) return null;
  try {
    const v: unknown = JSON.parse(Buffer.from(bytes).toString('utf8'));
    return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Records of the other acts that require a fresh authentication, by kind, and how findings name them. */
const OTHER_ACTS: Record<string, string> = {
  'vigil.canary-decision/v1': 'canary decision',
  'vigil.adjudication/v1': 'adjudication',
};

/**
 * The OpenID authentication of canary decisions and adjudications anywhere in the chain, checked like a
 * signature's (./signer-authentication.ts); records without one (password acts, older records) pass.
 */
export function checkActAuthentications(
  entries: VerifiedEntry[],
  objects: Map<string, Uint8Array>,
): { checked: number; findings: Finding[] } {
  const findings: Finding[] = [];
  let checked = 0;
  const seen = new Set<string>();
  for (const ref of entries.flatMap((e) => e.artifacts)) {
    if (seen.has(ref.key)) continue;
    seen.add(ref.key);
    const doc = parse(objects.get(ref.key));
    const what = typeof doc?.kind === 'string' ? OTHER_ACTS[doc.kind] : undefined;
    if (!doc || !what || doc.authentication === undefined) continue;
    checked++;
    findings.push(...checkSignerAuthentication(doc, ref.key, what).findings);
  }
  return { checked, findings };
}
