/** SNAPSHOT on the demo release with in-memory evidence: manifests, change class, SLSA provenance; and the dossier built from it. */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { LocalEvidence } from '../../src/release-files/local-evidence';
import { dossierActivities } from '../../src/activities/dossier';
import { snapshotActivities } from '../../src/activities/snapshot';
import { Ed25519Signer, PublicKeyVerifier, SLSA_PROVENANCE_V1, verifyAttestation } from '../../src/attestation';
import { ReleaseRequestSchema, type EvidenceRef, type ReleaseRequest } from '../../src/domain';
import { demoManifestFiles } from '../../src/demo/manifests';
import { DEMO_DIR, loadPolicyFile, seedDemo } from '../../src/demo/seed';
import { canonicalBytes, sha256Hex } from '../../src/evidence';
import { judgeSnapshot } from '../../src/judging';
import { FdaModelCardSchema } from '../../src/domain/fda-model-card';
import { nestedRefs } from '../../src/audit/chain';
import { parse as parseYaml } from 'yaml';

class Memory extends LocalEvidence {}

const signer = new Ed25519Signer(crypto.generateKeyPairSync('ed25519').privateKey);
const verifier = new PublicKeyVerifier(signer.publicKey());
const environment = {
  node: 'v20.0.0',
  platform: 'linux',
  arch: 'x64',
  lockfileSha256: 'a'.repeat(64),
  onnxruntime: '1.30.0',
};
const AT = '2026-11-26T09:00:00.000Z';
/** A model with no route table yet (its first release). */
const NO_ROUTES = { apply: async () => undefined, current: async () => null };

async function demo(): Promise<{ evidence: Memory; request: ReleaseRequest }> {
  const evidence = new Memory();
  const request = ReleaseRequestSchema.parse(
    await seedDemo(evidence, await loadPolicyFile(path.join(DEMO_DIR, 'policies/demo.yaml'))),
  );
  return { evidence, request };
}
const json = async (e: Memory, ref: EvidenceRef) =>
  JSON.parse(Buffer.from(await e.getBytes(ref.key, ref.sha256)).toString('utf8'));

describe('SNAPSHOT provenance', () => {
  it('the committed demo manifests are what the provenance builder derives from demo/data and demo/lineage', async () => {
    for (const [rel, content] of Object.entries(await demoManifestFiles(DEMO_DIR))) {
      assert.equal(readFileSync(path.join(DEMO_DIR, rel), 'utf8'), content, `${rel} is stale: npm run demo:data`);
    }
  });

  it('passes the demo release as a within-plan change of model and data, with a verifying SLSA provenance statement', async () => {
    const { evidence, request } = await demo();
    const out = await snapshotActivities({ evidence, environment, signer, routes: NO_ROUTES }).snapshotRelease({
      releaseId: 'r1',
      request,
      at: AT,
    });
    assert.deepEqual(out.measurement.missingFields, []);
    assert.deepEqual(out.measurement.digestMismatches, []);
    assert.deepEqual(out.measurement.changed, ['data', 'model']);
    assert.equal(out.measurement.changeClass, 'withinPlan');
    assert.equal(judgeSnapshot(out.measurement).verdict, 'pass');
    const summary = await json(evidence, out.artifacts[2]!);
    assert.deepEqual(summary.requiredRoles, ['qa', 'clinical']);

    const envelope = await json(evidence, out.artifacts[3]!);
    const ok = await verifyAttestation(envelope, [verifier], {
      predicateType: SLSA_PROVENANCE_V1,
      subjectSha256: request.candidate.artifact.sha256,
    });
    assert.ok(ok.ok, ok.reasons.join('; '));
    const deps = JSON.stringify(ok.statement!.predicate);
    for (const d of request.datasets)
      assert.ok(deps.includes(d.manifest!.sha256), `${d.name} manifest digest is attested`);
    assert.ok(deps.includes(request.codeCommit) && deps.includes(environment.lockfileSha256));

    // A modified statement no longer verifies.
    const payload = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
    payload.predicate.buildDefinition.externalParameters.source.commit = 'f'.repeat(40);
    const forged = { ...envelope, payload: Buffer.from(JSON.stringify(payload)).toString('base64') };
    assert.equal((await verifyAttestation(forged, [verifier])).ok, false);
  });

  it('a changed label policy makes the change substantial and needs the regulatory sign-off too', async () => {
    const { evidence, request } = await demo();
    // Record the incumbent as labelled under an older policy.
    const key = `models/${request.modelName}/${request.incumbent.artifact.sha256}/provenance.json`;
    const record = JSON.parse(evidence.objects.get(key)!.toString());
    evidence.objects.set(key, canonicalBytes({ ...record, labelPolicyVersions: ['sepsis-2-lp-1.0'] }));
    const out = await snapshotActivities({ evidence, environment, signer, routes: NO_ROUTES }).snapshotRelease({
      releaseId: 'r2',
      request,
      at: AT,
    });
    assert.equal(out.measurement.changeClass, 'substantial');
    assert.deepEqual(out.measurement.changed, ['data', 'labelPolicy', 'model']);
    assert.deepEqual((await json(evidence, out.artifacts[2]!)).requiredRoles, ['qa', 'clinical', 'regulatory']);
  });

  it('stops on a manifest missing required provenance, listing each field, and attests nothing', async () => {
    const { evidence, request } = await demo();
    const training = request.datasets.find((d) => d.role === 'training')!;
    const manifest = await json(evidence, training.manifest! as EvidenceRef);
    delete manifest.sources[0].extraction.queryVersion;
    manifest.steps = manifest.steps.filter((s: { kind: string }) => s.kind !== 'labelling');
    const ref = await evidence.putJson(manifest);
    training.manifest = { key: ref.key, sha256: ref.sha256 };
    const evaluation = request.datasets.find((d) => d.role === 'evaluation')!;
    delete evaluation.manifest;
    const out = await snapshotActivities({ evidence, environment, signer, routes: NO_ROUTES }).snapshotRelease({
      releaseId: 'r3',
      request,
      at: AT,
    });
    assert.deepEqual(out.measurement.missingFields, [
      'datasets[name=sepsis-cohort-2026q3-locked-eval].manifest',
      'datasets[name=sepsis-cohort-2026q3-train].manifest.sources[0].extraction.queryVersion',
      'datasets[name=sepsis-cohort-2026q3-train].manifest.steps[kind=labelling]',
    ]);
    const decision = judgeSnapshot(out.measurement);
    assert.equal(decision.verdict, 'fail');
    assert.match(decision.reasons[0]!, /provenance incomplete: missing .*steps\[kind=labelling\]/);
    assert.equal(out.artifacts.length, 3, 'no provenance attestation for an incomplete snapshot');
  });

  it('reports a manifest that describes other bytes than the dataset', async () => {
    const { evidence, request } = await demo();
    const [training, evaluation] = request.datasets;
    training!.manifest = evaluation!.manifest;
    const out = await snapshotActivities({ evidence, environment, signer, routes: NO_ROUTES }).snapshotRelease({
      releaseId: 'r4',
      request,
      at: AT,
    });
    assert.match(
      out.measurement.digestMismatches.join('\n'),
      /training dataset sepsis-cohort-2026q3-train manifest: describes a file with sha256 [0-9a-f]{64}, but the dataset is/,
    );
  });
});

describe('dossier', () => {
  it('renders a self-contained page with summary, model card, data, change class, rollback, signatures and evidence index', async () => {
    const { evidence, request } = await demo();
    const snap = await snapshotActivities({ evidence, environment, signer, routes: NO_ROUTES }).snapshotRelease({
      releaseId: 'r5',
      request,
      at: AT,
    });
    const policySha256 = snap.measurement.policySha256;
    const history = [
      {
        stage: 'SNAPSHOT' as const,
        step: null,
        startedAt: AT,
        endedAt: AT,
        decision: judgeSnapshot(snap.measurement),
        artifacts: snap.artifacts,
        chainEntry: 'c'.repeat(64),
      },
    ];
    const signatures = [
      {
        signer: 'dana.qa',
        printedName: 'Dana Whitfield',
        role: 'qa' as const,
        decision: 'approve' as const,
        meaning: 'approved as quality reviewer',
        reason: 'evidence reviewed',
        at: AT,
        dossierSha256: 'd'.repeat(64),
        evidence: await evidence.putJson({ kind: 'vigil.signature/v1' }),
      },
    ];
    const ref = await dossierActivities({ evidence, signer }).buildDossier({
      releaseId: 'r5',
      request,
      policySha256,
      history,
      chainHead: { seq: 0, digest: 'c'.repeat(64) },
      signatures,
      at: AT,
    });
    const index = await json(evidence, ref);
    assert.equal(index.kind, 'vigil.dossier/v2');
    assert.equal(ref.sha256, sha256Hex(canonicalBytes(index)), 'the root digest is the digest of the canonical index');
    for (const e of index.evidence) await evidence.getBytes(e.key, e.sha256);
    const html = Buffer.from(await evidence.getBytes(index.html.key, index.html.sha256)).toString('utf8');
    // Reviewer order: the change, intended use, provenance, offline results, shadow, canary, rollback, open risks,
    // the model card; then sign-offs and the evidence index.
    const order = [
      'Summary of the change',
      'Intended use and contraindications',
      'Provenance of every dataset',
      'Offline results by cohort',
      'Shadow findings',
      'Canary plan',
      'Rollback plan',
      'Open risks',
      'Model card',
      'Sign-offs',
      'Evidence index',
    ].map((heading) => {
      const at = html.search(new RegExp(`<h2 id="[a-z-]+-h">${heading}</h2>`));
      assert.ok(at > 0, heading);
      return at;
    });
    assert.deepEqual(
      order,
      [...order].sort((a, b) => a - b),
      'sections in reviewer order',
    );
    assert.match(html, /within the predetermined change control plan/);
    assert.match(html, /Allowed by <code>changeControl\.withinPlan\.allowed<\/code>/, 'names the plan clause');
    assert.match(html, /Adults \(18 years and over\)/);
    assert.match(
      html,
      /<strong>Dana Whitfield<\/strong> \(<code>dana\.qa<\/code>, qa\)[\s\S]*?Meaning: <em>approved as quality reviewer<\/em>[\s\S]*?Reason: evidence reviewed/,
    );
    assert.match(html, /Pending: clinical\./);
    // The model card is evidence of its own, validates against its schema, and the index names it.
    const card = FdaModelCardSchema.parse(await json(evidence, index.modelCardRecord.json));
    assert.equal(card.modelDescription.artifactSha256, request.candidate.artifact.sha256);
    assert.equal(card.data.length, request.datasets.length);
    const input = parseYaml(
      Buffer.from(await evidence.getBytes(request.modelCard!.key, request.modelCard!.sha256)).toString('utf8'),
    ) as { limitations: string[] };
    assert.deepEqual(card.limitations, input.limitations);
    assert.ok(index.evidence.some((e: { sha256: string }) => e.sha256 === index.modelCardRecord.json.sha256));
    // vigil audit re-hashes every { key, sha256 } inside a chained JSON artifact: the index is one (AWAITING_APPROVAL).
    const nested = nestedRefs(await evidence.getBytes(ref.key, ref.sha256)).map((r) => r.sha256);
    assert.ok(nested.includes(index.modelCardRecord.json.sha256) && nested.includes(index.modelCardRecord.html.sha256));
    assert.doesNotMatch(html, /<script|<link|src="http|href="http/, 'no scripts or external assets');
  });
});
