/**
 * Honest label provenance (issue #14, item 3): a lineage says where its labels come from; inter-rater agreement is
 * required only when it claims several readers or the policy asks for it (`provenance.requireLabelAgreement`), and
 * SNAPSHOT refuses a release whose declared incumbent is not what the route store serves as production (item 4).
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { snapshotActivities } from '../../src/activities/snapshot';
import { Ed25519Signer } from '../../src/attestation';
import {
  DatasetLineageSchema,
  labelSourceOf,
  missingLabelAgreement,
  missingProvenanceFields,
  ReleaseRequestSchema,
  type DatasetLineage,
  type ReleaseRequest,
} from '../../src/domain';
import { DEMO_DIR, loadPolicyFile, seedDemo } from '../../src/demo/seed';
import { judgeSnapshot } from '../../src/judging';
import { readSplitKey } from '../../src/provenance/lineage-file';
import { buildDatasetManifest } from '../../src/provenance/manifest-builder';
import { dossierActivities } from '../../src/activities/dossier';
import { LocalEvidence } from '../../src/release-files/local-evidence';
import type { EvidenceRef } from '../../src/domain';

const FIX = path.join(__dirname, '..', 'fixtures', 'provenance');
const base = (): DatasetLineage =>
  DatasetLineageSchema.parse(parseYaml(readFileSync(path.join(FIX, 'lineage.yaml'), 'utf8')));

/** The fixture lineage with its labelling step replaced. */
function withLabelling(step: Record<string, unknown>): unknown {
  const l = base() as unknown as { steps: Array<Record<string, unknown>> };
  return {
    ...l,
    steps: l.steps.map((s) =>
      s.kind === 'labelling'
        ? {
            kind: 'labelling',
            labelPolicyVersion: 'lp-3.1',
            labellerQualification: 'q',
            adjudicationRule: 'r',
            ...step,
          }
        : s,
    ),
  };
}
const REGISTRY = { kind: 'registry-diagnosis', description: 'Diagnosis recorded by the originating clinic' };

describe('label source in the lineage', () => {
  it('single-source labels are complete provenance without rater labels, and the manifest carries the source', async () => {
    const lineage = DatasetLineageSchema.parse(withLabelling({ labelSource: REGISTRY }));
    assert.deepEqual(
      missingProvenanceFields(lineage).filter((f) => f.includes('steps[2]')),
      [],
    );
    const { manifest } = await buildDatasetManifest({
      dataFile: path.join(FIX, 'cohort.csv'),
      lineage,
      lineageDir: FIX,
      splitKey: readSplitKey(path.join(FIX, 'split.key'), lineage),
    });
    assert.deepEqual(missingProvenanceFields(manifest), []);
    assert.deepEqual(labelSourceOf(manifest), REGISTRY);
    assert.deepEqual(missingLabelAgreement(manifest), ['steps[2].interRaterAgreement']);
  });

  it('a lineage that says neither where labels come from nor carries rater labels lacks the label source', () => {
    const lineage = DatasetLineageSchema.parse(withLabelling({}));
    assert.deepEqual(
      missingProvenanceFields(lineage).filter((f) => f.startsWith('steps[2]')),
      ['steps[2].labelSource'],
    );
  });

  it('several readers is a claim the rater labels must back', () => {
    const lineage = DatasetLineageSchema.parse(
      withLabelling({ labelSource: { kind: 'multi-reader', description: 'two cardiologists per ECG' } }),
    );
    assert.deepEqual(
      missingProvenanceFields(lineage).filter((f) => f.startsWith('steps[2]')),
      ['steps[2].raterLabelsFile'],
    );
  });

  it('a single-source kind with rater labels is refused by the schema, naming the contradiction', () => {
    const parsed = DatasetLineageSchema.safeParse(
      withLabelling({
        labelSource: { kind: 'single-reader', description: 'one reader' },
        raterLabelsFile: 'labels.csv',
      }),
    );
    assert.equal(parsed.success, false);
    const issue = parsed.error!.issues.find((i) => i.path.join('.') === 'steps.2.labelSource.kind');
    assert.match(issue?.message ?? '', /single-reader has one label per case, but the step names rater labels/);
  });

  it('every κ-bearing demo lineage stays valid and complete, read as multi-reader', async () => {
    const dir = path.join(DEMO_DIR, 'lineage');
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    assert.ok(files.length >= 2);
    for (const f of files) {
      const lineage = DatasetLineageSchema.parse(parseYaml(readFileSync(path.join(dir, f), 'utf8')));
      assert.deepEqual(missingProvenanceFields(lineage), [], f);
    }
    for (const f of readdirSync(path.join(DEMO_DIR, 'manifests'))) {
      const manifest = JSON.parse(readFileSync(path.join(DEMO_DIR, 'manifests', f), 'utf8'));
      assert.equal(labelSourceOf(manifest)?.kind, 'multi-reader', f);
      assert.deepEqual(missingLabelAgreement(manifest), [], f);
    }
  });
});

const signer = new Ed25519Signer(crypto.generateKeyPairSync('ed25519').privateKey);
const environment = { node: 'v20.0.0', platform: 'linux', arch: 'x64', lockfileSha256: null, onnxruntime: null };
const routesServing = (production: string | null) => ({
  apply: async () => undefined,
  current: async () => (production === null ? null : { production }),
});

/** Content-addressed and named objects in memory, with the store's typed errors (SNAPSHOT reads both). */
class Memory extends LocalEvidence {
  json(ref: { key: string }): unknown {
    return JSON.parse(this.objects.get(ref.key)!.toString('utf8'));
  }
}

async function demo() {
  const evidence = new Memory();
  const request: ReleaseRequest = ReleaseRequestSchema.parse(
    await seedDemo(evidence, await loadPolicyFile(path.join(DEMO_DIR, 'policies/demo.yaml'))),
  );
  return { evidence, request };
}

/** The demo's evaluation manifest re-stored with a registry-diagnosis label source instead of rater labels. */
async function singleSourceEvaluation(evidence: Memory, request: ReleaseRequest) {
  const d = request.datasets.find((x) => x.role === 'evaluation')!;
  const manifest = evidence.json(d.manifest as never) as { steps: Array<Record<string, unknown>> };
  manifest.steps = manifest.steps.map((s) => {
    if (s.kind !== 'labelling') return s;
    const { interRaterAgreement: _a, raterLabelsFile: _f, ...rest } = s;
    return { ...rest, labelSource: REGISTRY };
  });
  const ref = await evidence.putJson(manifest);
  d.manifest = { key: ref.key, sha256: ref.sha256 };
  return d.name;
}

describe('SNAPSHOT: label agreement by policy, the incumbent production serves', () => {
  it('single-source labels pass by default, are named in the decision and the dossier; the policy can require κ', async () => {
    const { evidence, request } = await demo();
    const name = await singleSourceEvaluation(evidence, request);
    const snap = (r: ReleaseRequest) =>
      snapshotActivities({ evidence, environment, signer, routes: routesServing(null) }).snapshotRelease({
        releaseId: 'r-labels',
        request: r,
        at: '2026-11-26T09:00:00.000Z',
      });
    const out = await snap(request);
    const decision = judgeSnapshot(out.measurement);
    assert.equal(decision.verdict, 'pass', decision.reasons.join('; '));
    assert.ok(decision.reasons[0]!.includes(`${name} registry-diagnosis`), decision.reasons[0]);
    assert.ok(out.measurement.labelSources!.some((l) => l.dataset === name && l.kind === 'registry-diagnosis'));

    // The dossier's data table says the labels are single-source, so nobody reads the missing κ as measured.
    const at = '2026-11-26T09:00:00.000Z';
    const dossier = await dossierActivities({ evidence, signer }).buildDossier({
      releaseId: 'r-labels',
      request,
      policySha256: out.measurement.policySha256,
      history: [
        {
          stage: 'SNAPSHOT',
          step: null,
          startedAt: at,
          endedAt: at,
          decision,
          artifacts: out.artifacts,
          chainEntry: null,
        },
      ],
      chainHead: null,
      signatures: [],
      at,
    });
    const index = evidence.json(dossier) as { html: EvidenceRef };
    const html = evidence.objects.get(index.html.key)!.toString('utf8');
    assert.ok(
      html.includes(
        'registry-diagnosis (single source, no inter-rater agreement): Diagnosis recorded by the originating clinic',
      ),
    );

    const strict = ReleaseRequestSchema.parse({
      ...request,
      policyAsWritten: undefined,
      policy: { ...request.policy, provenance: { requireLabelAgreement: true } },
    });
    const refused = judgeSnapshot((await snap(strict)).measurement);
    assert.equal(refused.verdict, 'fail');
    assert.match(
      refused.reasons.join('; '),
      new RegExp(`datasets\\[name=${name}\\]\\.manifest\\.steps\\[\\d+\\]\\.interRaterAgreement`),
    );
  });

  it('refuses a declared incumbent that production does not serve, naming both versions', async () => {
    const { evidence, request } = await demo();
    const at = '2026-11-26T09:00:00.000Z';
    const judged = async (serving: string | null) => {
      const out = await snapshotActivities({
        evidence,
        environment,
        signer,
        routes: routesServing(serving),
      }).snapshotRelease({ releaseId: `r-${serving}`, request, at });
      return { out, decision: judgeSnapshot(out.measurement) };
    };
    const declared = request.incumbent.version;
    const other = request.candidate.version;
    const wrong = await judged(other);
    assert.equal(wrong.decision.verdict, 'fail');
    assert.ok(
      wrong.decision.reasons.includes(
        `declared incumbent ${declared}, but production serves ${other}: a release must replace the version production serves`,
      ),
      wrong.decision.reasons.join('; '),
    );
    assert.deepEqual(wrong.out.measurement.production, { declared, serving: other });
    const summary = evidence.json(wrong.out.artifacts[2]!) as { incumbent: { servedInProduction: string } };
    assert.equal(summary.incumbent.servedInProduction, other);

    assert.equal((await judged(declared)).decision.verdict, 'pass');
    // No route table yet (a first release before `vigil model register`): nothing to compare with.
    const first = await judged(null);
    assert.equal(first.decision.verdict, 'pass');
    assert.deepEqual(first.out.measurement.production, { declared, serving: null });
  });
});
