/**
 * The auditor's timeline of a release: each signature record re-hashed and its DSSE envelope verified against
 * the system key, the dossier's digest checked, and the record and envelope offered for download.
 */
import type { Hono } from 'hono';
import { signatureEnvelopeKey } from '../contracts/evidence-keys';
import { verifyAttestation, VIGIL_APPROVAL_V1 } from '../attestation';
import type { ReleaseStatus, SignatureRecord } from '../domain';
import type { UiDeps, UiEnv } from './deps';
import type { UiKit } from './kit';
import { errorPage, timelinePage, type TimelineSignature } from './views';

type Check = { ok: boolean; detail: string };

/** GET /releases/:id/timeline and the record/envelope downloads. */
export function registerTimelineRoutes(ui: Hono<UiEnv>, deps: UiDeps, kit: UiKit): void {
  ui.get('/releases/:id/timeline', async (c) => {
    if (!c.get('user')) return kit.unauthenticated(c);
    const status = await kit.statusOr404(c.req.param('id'));
    const sigs: TimelineSignature[] = [];
    for (const record of status.signatures) {
      const base = `/ui/releases/${encodeURIComponent(status.releaseId)}/signatures/${record.evidence.sha256}`;
      sigs.push({
        record,
        verification: await verifySignature(deps, status.releaseId, record),
        recordHref: `${base}/record`,
        envelopeHref: `${base}/envelope`,
      });
    }
    return c.html(timelinePage(kit.ctxOf(c), status, sigs, await checkDossier(deps, status)));
  });

  ui.get('/releases/:id/signatures/:sha/:what{record|envelope}', async (c) => {
    if (!c.get('user')) return kit.unauthenticated(c);
    const status = await kit.statusOr404(c.req.param('id'));
    const record = status.signatures.find((s) => s.evidence.sha256 === c.req.param('sha'));
    if (!record) return c.html(errorPage(kit.ctxOf(c), 'Not found', 'no such signature on this release'), 404);
    const bytes =
      c.req.param('what') === 'record'
        ? await deps.evidence.getBytes(record.evidence.key, record.evidence.sha256)
        : await deps.evidence.getBytes(signatureEnvelopeKey(status.releaseId, record.evidence.sha256));
    const name = `${status.releaseId}-${record.role}-${c.req.param('what')}.json`;
    return c.body(Buffer.from(bytes).toString('utf8'), 200, {
      'Content-Type': 'application/json',
      'Content-Disposition': `attachment; filename="${name}"`,
    });
  });
}

/** The dossier read back through the evidence store, which re-hashes it; null when there is no dossier yet. */
async function checkDossier(deps: UiDeps, status: ReleaseStatus): Promise<Check | null> {
  if (!status.dossier) return null;
  try {
    await deps.evidence.getBytes(status.dossier.key, status.dossier.sha256);
    return { ok: true, detail: '✔ digest verified' };
  } catch (err) {
    return { ok: false, detail: `✗ ${(err as Error).message}` };
  }
}

/** Record digest re-hashed, then the system's DSSE envelope over it verified and compared with the record. */
async function verifySignature(deps: UiDeps, releaseId: string, record: SignatureRecord): Promise<Check> {
  let recordJson: Record<string, unknown>;
  try {
    recordJson = JSON.parse(
      Buffer.from(await deps.evidence.getBytes(record.evidence.key, record.evidence.sha256)).toString('utf8'),
    ) as Record<string, unknown>;
  } catch (err) {
    return { ok: false, detail: `signature record failed its digest check: ${(err as Error).message}` };
  }
  let envelope: unknown;
  try {
    envelope = JSON.parse(
      Buffer.from(await deps.evidence.getBytes(signatureEnvelopeKey(releaseId, record.evidence.sha256))).toString(
        'utf8',
      ),
    );
  } catch (err) {
    return { ok: false, detail: `no readable DSSE envelope for this record: ${(err as Error).message}` };
  }
  const v = await verifyAttestation(envelope, deps.verifiers, {
    predicateType: VIGIL_APPROVAL_V1,
    subjectSha256: record.evidence.sha256,
  });
  if (!v.ok) return { ok: false, detail: `DSSE envelope does not verify: ${v.reasons.join('; ')}` };
  const p = v.statement!.predicate as {
    approver?: { id?: string; role?: string };
    decision?: string;
    meaning?: string;
  };
  if (
    p.approver?.id !== recordJson.signer ||
    p.approver?.role !== recordJson.role ||
    p.decision !== recordJson.decision ||
    p.meaning !== recordJson.meaning
  ) {
    return { ok: false, detail: 'DSSE envelope verifies but does not match the record' };
  }
  return { ok: true, detail: `record digest verified; sealed by system key ${v.acceptedKeyIds[0]!.slice(0, 16)}…` };
}
