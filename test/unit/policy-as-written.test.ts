/**
 * The pinned policy digest is of the canonical document as written (issue #19 item 5): RFC 8785 of the YAML/JSON
 * as parsed, before defaults, while the effective policy (defaults filled in) is what is judged. Releases recorded
 * before the change pinned the effective policy, and their audits still verify.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { completedActivities, describeRun, recomputeDecisions } from '../../src/audit';
import { snapshotActivities } from '../../src/activities/snapshot';
import { Ed25519Signer } from '../../src/attestation';
import { DEMO_DIR, loadPolicyFile, seedDemo } from '../../src/demo/seed';
import { ReleasePolicySchema, ReleaseRequestSchema, type ChainEntry, type ReleaseRequest } from '../../src/domain';
import { canonicalBytes, policyDigest, requestPolicyDigest, sha256Hex } from '../../src/evidence';
import { LocalEvidence } from '../../src/release-files/local-evidence';
import { validPolicy, validReleaseRequest } from '../support/fixtures';

type Doc = Record<string, unknown>;
const digestOf = (doc: unknown): string =>
  crypto
    .createHash('sha256')
    .update(JSON.stringify(sortKeys(doc)))
    .digest('hex');

/** An independent RFC 8785 for these documents (strings, safe integers and short decimals only): sorted keys, no space. */
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object')
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys((v as Doc)[k])]),
    );
  return v;
}

/**
 * The same policy with every default the schema fills in left out: each key whose removal still parses to the
 * same effective policy is dropped (found by trying, not from a list, so a new default is covered too).
 */
function withoutDefaults(effective: Doc): Doc {
  const doc = structuredClone(effective);
  const same = (d: Doc) => {
    const r = ReleasePolicySchema.safeParse(d);
    return r.success && policyDigest(r.data) === policyDigest(effective);
  };
  const visit = (node: Doc) => {
    for (const key of Object.keys(node)) {
      const value = node[key];
      delete node[key];
      if (same(doc)) continue;
      node[key] = value;
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) visit(value as Doc);
    }
  };
  visit(doc);
  return doc;
}

describe('policy digest of the document as written', () => {
  const written = validPolicy() as Doc;
  const effective = ReleasePolicySchema.parse(written) as unknown as Doc;

  it('differs between a policy with its defaults left out and the same policy spelled out; the effective policy is the same', () => {
    const spelledOut = ReleaseRequestSchema.parse(validReleaseRequest({ policy: effective as never }));
    const omitted = ReleaseRequestSchema.parse(validReleaseRequest({ policy: written as never }));
    assert.notDeepEqual(written, effective, 'the fixture leaves defaults out');
    assert.deepEqual(omitted.policy, spelledOut.policy);
    assert.equal(policyDigest(omitted.policy), policyDigest(spelledOut.policy));
    assert.equal(requestPolicyDigest(omitted), digestOf(written));
    assert.equal(requestPolicyDigest(spelledOut), digestOf(effective));
    assert.notEqual(requestPolicyDigest(omitted), requestPolicyDigest(spelledOut));
    // What is judged is the effective policy in both.
    assert.deepEqual(omitted.policyAsWritten, written);
  });

  it('does not change with key order, whitespace, comments or YAML vs JSON', () => {
    const text = fs.readFileSync(path.join(DEMO_DIR, 'policies/demo.yaml'), 'utf8');
    const asYaml = parseYaml(text) as Doc;
    const reordered = Object.fromEntries(Object.entries(asYaml).reverse());
    const noComments = text
      .split('\n')
      .map((l) => l.replace(/\s+#.*$/, '').replace(/^#.*$/, ''))
      .filter((l) => l.trim() !== '')
      .join('\n');
    assert.notEqual(noComments, text);
    const variants = [
      asYaml,
      reordered,
      parseYaml(noComments) as Doc,
      JSON.parse(JSON.stringify(asYaml, null, 7)) as Doc,
      parseYaml(JSON.stringify(reordered)) as Doc,
    ];
    const digests = variants.map((p) =>
      requestPolicyDigest(ReleaseRequestSchema.parse(validReleaseRequest({ policy: p as never }))),
    );
    assert.deepEqual(new Set(digests).size, 1, digests.join('\n'));
    assert.equal(digests[0], sha256Hex(canonicalBytes(asYaml)));
    assert.equal(digests[0], digestOf(asYaml));
  });

  it('changes with any value the author wrote', () => {
    const changed = { ...written, operatingThreshold: 0.31 };
    assert.notEqual(
      requestPolicyDigest(ReleaseRequestSchema.parse(validReleaseRequest({ policy: changed as never }))),
      digestOf(written),
    );
  });

  it('refuses an unknown key in the written document with its path, before any digest is taken', () => {
    const doc = structuredClone(written) as { canary: { guardrails: Doc } };
    doc.canary.guardrails.maxSensitivityDorp = 0.5;
    const r = ReleaseRequestSchema.safeParse(validReleaseRequest({ policy: doc as never }));
    assert.equal(r.success, false);
    const messages = r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    assert.ok(
      messages.some((m) => /unknown key policy\.canary\.guardrails\.maxSensitivityDorp/.test(m)),
      messages.join('\n'),
    );
  });
});

describe('release request: the policy as written travels with it', () => {
  it('keeps the written document across a second parse (the CLI plan, the workflow input)', () => {
    const once = ReleaseRequestSchema.parse(validReleaseRequest());
    const twice = ReleaseRequestSchema.parse(JSON.parse(JSON.stringify(once)));
    assert.deepEqual(twice.policyAsWritten, validPolicy());
    assert.equal(requestPolicyDigest(twice), requestPolicyDigest(once));
  });

  it('refuses a written document that does not give the effective policy sent beside it', () => {
    const once = ReleaseRequestSchema.parse(validReleaseRequest());
    const tampered = { ...once, policy: { ...once.policy, operatingThreshold: 0.9 } };
    const r = ReleaseRequestSchema.safeParse(tampered);
    assert.equal(r.success, false);
    assert.deepEqual(
      r.error!.issues.map((i) => [i.path.join('.'), i.message]),
      [['policyAsWritten', 'the policy as written does not give the effective policy sent beside it']],
    );
  });
});

const signer = new Ed25519Signer(crypto.generateKeyPairSync('ed25519').privateKey);
const environment = { node: 'v20', platform: 'linux', arch: 'x64', lockfileSha256: 'a'.repeat(64), onnxruntime: '1' };
const NO_ROUTES = { apply: async () => undefined, current: async () => null };

describe('SNAPSHOT pins the written document and stores the effective policy beside it', () => {
  it('stores both under their digests and records which form the pinned digest is of', async () => {
    const evidence = new LocalEvidence();
    const effective = await loadPolicyFile(path.join(DEMO_DIR, 'policies/demo.yaml'));
    const written = withoutDefaults(effective as unknown as Doc);
    const seeded = await seedDemo(evidence, effective);
    const request = ReleaseRequestSchema.parse({ ...seeded, policy: written });
    const out = await snapshotActivities({ evidence, environment, signer, routes: NO_ROUTES }).snapshotRelease({
      releaseId: 'r1',
      request,
      at: '2026-11-26T09:00:00.000Z',
    });
    const m = out.measurement;
    assert.equal(m.policySha256, digestOf(written));
    assert.equal(m.policyDigestOf, 'as-written');
    assert.equal(m.effectivePolicySha256, digestOf(effective));
    const stored = async (sha: string) => {
      const ref = out.artifacts.find((a) => a.sha256 === sha);
      assert.ok(ref, `an artifact with digest ${sha}`);
      return JSON.parse(Buffer.from(await evidence.getBytes(ref.key, ref.sha256)).toString('utf8')) as unknown;
    };
    assert.deepEqual(await stored(m.policySha256), written);
    assert.deepEqual(await stored(m.effectivePolicySha256!), effective);
  });

  it('a request without the written document (recorded before it existed) pins the effective policy as before', async () => {
    const evidence = new LocalEvidence();
    const effective = await loadPolicyFile(path.join(DEMO_DIR, 'policies/demo.yaml'));
    const { policyAsWritten: _w, ...legacy } = ReleaseRequestSchema.parse(await seedDemo(evidence, effective));
    const out = await snapshotActivities({ evidence, environment, signer, routes: NO_ROUTES }).snapshotRelease({
      releaseId: 'r1',
      request: legacy,
      at: '2026-11-26T09:00:00.000Z',
    });
    assert.equal(out.measurement.policySha256, digestOf(effective));
    assert.equal(out.measurement.policyDigestOf, undefined);
    assert.equal(out.measurement.effectivePolicySha256, undefined);
  });
});

describe('vigil audit: the pinned digest in either form', () => {
  const DIR = path.resolve(__dirname, '../histories/v0.1.0');
  const FILE = 'release-lifecycle-released.json';
  const text = fs.readFileSync(path.join(DIR, FILE), 'utf8');
  const workflowId = (JSON.parse(fs.readFileSync(path.join(DIR, 'workflow-ids.json'), 'utf8')) as Doc)[FILE] as string;

  async function recorded() {
    const calls = completedActivities(await describeRun(workflowId, 'run', 'archive', text));
    const chain = calls
      .filter((c) => c.name === 'appendChainEntry')
      .map((c) => ({ ...(c.input as ChainEntry), key: `chain/${(c.input as ChainEntry).seq}` }))
      .filter((e) => e.stage !== 'MONITORING' || e.step === null);
    return { calls, chain };
  }

  /** The golden release as if its author had written the policy with its defaults left out. */
  async function asWritten() {
    const { calls, chain } = await recorded();
    const snapshot = calls.find((c) => c.name === 'snapshotRelease')!;
    const effective = (snapshot.input as { request: ReleaseRequest }).request.policy;
    const written = withoutDefaults(effective as unknown as Doc);
    for (const c of calls) {
      const input = c.input as { request?: ReleaseRequest } | undefined;
      if (input?.request) input.request = { ...input.request, policyAsWritten: structuredClone(written) as never };
    }
    const m = (snapshot.result as { measurement: Doc }).measurement;
    m.policySha256 = digestOf(written);
    m.policyDigestOf = 'as-written';
    m.effectivePolicySha256 = digestOf(effective);
    // SNAPSHOT's decision names the digest it pinned: the written one.
    const entry = chain.find((e) => e.stage === 'SNAPSHOT')!;
    entry.decision = {
      ...entry.decision,
      reasons: entry.decision.reasons.map((r) => r.replace(digestOf(effective), digestOf(written))),
    };
    assert.ok(entry.decision.reasons[0]!.includes(digestOf(written)));
    return { calls, chain, written, effective };
  }

  it('verifies a release recorded before the change, whose SNAPSHOT pinned the effective policy', async () => {
    const { calls, chain } = await recorded();
    const request = (calls.find((c) => c.name === 'snapshotRelease')!.input as { request: ReleaseRequest }).request;
    assert.equal(request.policyAsWritten, undefined);
    const r = recomputeDecisions(calls, chain);
    assert.deepEqual(r.findings, []);
    assert.equal(r.policySha256, digestOf(request.policy));
  });

  it('verifies a release that pinned the document as written, and judges it under the effective policy', async () => {
    const { calls, chain, written } = await asWritten();
    const r = recomputeDecisions(calls, chain);
    assert.deepEqual(r.findings, []);
    assert.equal(r.policySha256, digestOf(written));
    assert.ok(r.checks.length >= 5 && r.checks.every((c) => c.match));
  });

  it('flags a written document that, filled in, is not the effective policy judged', async () => {
    const { calls, chain } = await asWritten();
    const shadow = calls.find((c) => c.name === 'observeShadow')!;
    const input = shadow.input as { request: ReleaseRequest };
    const written = input.request.policyAsWritten as { operatingThreshold: number };
    written.operatingThreshold = 0.9;
    const problems = recomputeDecisions(calls, chain).findings.map((f) => f.problem);
    assert.ok(
      problems.some((p) =>
        /observeShadow.*the policy as written, with its defaults filled in, is not the effective policy judged/.test(p),
      ),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => /observeShadow.*judged under a policy other than the one pinned at SNAPSHOT/.test(p)),
    );
  });

  it('flags an effective policy in the request other than the one SNAPSHOT recorded', async () => {
    const { calls, chain } = await asWritten();
    const snapshot = calls.find((c) => c.name === 'snapshotRelease')!;
    (snapshot.result as { measurement: Doc }).measurement.effectivePolicySha256 = 'f'.repeat(64);
    const findings = recomputeDecisions(calls, chain).findings;
    assert.equal(findings.length, 1, JSON.stringify(findings));
    assert.match(findings[0]!.problem, /the effective policy in the request is not the one SNAPSHOT recorded/);
    assert.equal(findings[0]!.expected, 'f'.repeat(64));
  });
});
