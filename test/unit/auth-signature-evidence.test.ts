/** Each e-signature record is sealed by the system key (DSSE, in-toto approval statement); `vigil attest verify` checks it. */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { recordActivities } from '../../src/activities/records';
import { signatureEnvelopeKey } from '../../src/contracts/evidence-keys';
import { Ed25519Signer, PublicKeyVerifier, verifyAttestation, VIGIL_APPROVAL_V1 } from '../../src/attestation';
import { run } from '../../src/cli/program';
import { MemoryEvidence } from './ui-fakes';

/** `vigil attest verify …`, run in-process through the CLI. */
const runAttestVerify = (
  args: string[],
  io: { stdout: (t: string) => void; stderr: (t: string) => void },
): Promise<number> => run(['attest', 'verify', ...args], { ...io, env: {}, readStdin: async () => '' });

async function signedRecord() {
  const evidence = new MemoryEvidence();
  const signer = new Ed25519Signer(crypto.generateKeyPairSync('ed25519').privateKey);
  const candidate = { version: '2.1.0', artifact: { key: 'models/sepsis-alert/2.1.0.json', sha256: 'c'.repeat(64) } };
  const dossier = await evidence.putJson({ kind: 'vigil.dossier/v1', releaseId: 'rel-1', candidate });
  const acts = recordActivities({
    evidence,
    routes: { apply: async () => undefined, current: async () => null },
    signer,
  });
  const input = {
    releaseId: 'rel-1',
    signature: {
      signer: 'dana.qa',
      printedName: 'Dana Whitfield',
      role: 'qa' as const,
      decision: 'approve' as const,
      meaning: 'approved for canary release',
      reason: 'evidence reviewed',
      at: '2026-11-26T09:00:00.000Z',
      dossierSha256: dossier.sha256,
    },
    chainHead: { seq: 3, digest: 'd'.repeat(64) },
  };
  const ref = await acts.recordSignature(input);
  return { evidence, signer, dossier, ref, acts, input, candidate };
}

describe('recordSignature seals the record with the system key', () => {
  it('stores the record and a DSSE envelope next to it that verifies and names candidate, dossier and record', async () => {
    const { evidence, signer, dossier, ref, candidate } = await signedRecord();
    const record = JSON.parse(Buffer.from(await evidence.getBytes(ref.key, ref.sha256)).toString('utf8'));
    assert.deepEqual(
      [record.kind, record.signer, record.printedName, record.meaning, record.chainHead.seq],
      ['vigil.signature/v1', 'dana.qa', 'Dana Whitfield', 'approved for canary release', 3],
    );
    const envelope = JSON.parse(
      Buffer.from(await evidence.getBytes(signatureEnvelopeKey('rel-1', ref.sha256))).toString('utf8'),
    );
    const v = await verifyAttestation(envelope, [new PublicKeyVerifier(signer.publicKey())], {
      predicateType: VIGIL_APPROVAL_V1,
      subjectSha256: ref.sha256,
    });
    assert.deepEqual(v.reasons, []);
    assert.deepEqual(
      v.statement!.subject.map((s) => s.digest.sha256),
      [candidate.artifact.sha256, dossier.sha256, ref.sha256],
    );
    assert.deepEqual(v.statement!.predicate, {
      releaseId: 'rel-1',
      dossier: { sha256: dossier.sha256 },
      approver: { id: 'dana.qa', name: 'Dana Whitfield', role: 'qa' },
      decision: 'approve',
      meaning: 'approved for canary release',
      reason: 'evidence reviewed',
      signedAt: '2026-11-26T09:00:00.000Z',
    });
  });

  it('a retried activity writes byte-identical evidence (deterministic Ed25519, create-only keys)', async () => {
    const { evidence, ref, acts, input } = await signedRecord();
    const before = Buffer.from(await evidence.getBytes(signatureEnvelopeKey('rel-1', ref.sha256)));
    assert.deepEqual(await acts.recordSignature(input), ref);
    assert.deepEqual(Buffer.from(await evidence.getBytes(signatureEnvelopeKey('rel-1', ref.sha256))), before);
  });

  it('`vigil attest verify` accepts the envelope for the record, and refuses an edited record or envelope', async () => {
    const { evidence, signer, ref } = await signedRecord();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-sig-'));
    const files = {
      key: path.join(dir, 'system.pem'),
      env: path.join(dir, 'envelope.json'),
      rec: path.join(dir, 'record.json'),
    };
    fs.writeFileSync(files.key, signer.publicKey().export({ type: 'spki', format: 'pem' }));
    fs.writeFileSync(files.env, Buffer.from(await evidence.getBytes(signatureEnvelopeKey('rel-1', ref.sha256))));
    fs.writeFileSync(files.rec, Buffer.from(await evidence.getBytes(ref.key)));
    const run = async (...args: string[]) => {
      let out = '';
      const code = await runAttestVerify(args, { stdout: (t) => (out += t), stderr: (t) => (out += t) });
      return { code, out };
    };
    const ok = await run(files.env, '--key', files.key, '--artifact', files.rec, '--predicate-type', VIGIL_APPROVAL_V1);
    assert.equal(ok.code, 0, ok.out);
    assert.match(ok.out, /^OK/);

    fs.writeFileSync(files.rec, fs.readFileSync(files.rec, 'utf8').replace('evidence reviewed', 'evidence skimmed'));
    const editedRecord = await run(files.env, '--key', files.key, '--artifact', files.rec);
    assert.equal(editedRecord.code, 3);
    assert.match(editedRecord.out, /no subject has sha256/);

    const env = JSON.parse(fs.readFileSync(files.env, 'utf8'));
    const statement = JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8'));
    statement.predicate.meaning = 'reviewed only';
    env.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    fs.writeFileSync(files.env, JSON.stringify(env));
    const editedEnvelope = await run(files.env, '--key', files.key);
    assert.equal(editedEnvelope.code, 3);
    assert.match(editedEnvelope.out, /FAILED/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
