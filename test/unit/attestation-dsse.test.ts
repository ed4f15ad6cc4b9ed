import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  approvalStatement,
  candidateProvenanceStatement,
  DEV_KEY_FILE,
  Ed25519Signer,
  evaluationStatement,
  loadOrCreateDevKey,
  pae,
  PublicKeyVerifier,
  signEnvelope,
  signStatement,
  SLSA_PROVENANCE_V1,
  verifyAttestation,
  verifyEnvelope,
  VIGIL_EVALUATION_V1,
  type DsseEnvelope,
} from '../../src/attestation';
import { run } from '../../src/cli/program';

/** `vigil attest verify …`, run in-process through the CLI. */
const runAttestVerify = (
  args: string[],
  io: { stdout: (t: string) => void; stderr: (t: string) => void },
): Promise<number> => run(['attest', 'verify', ...args], { ...io, env: {}, readStdin: async () => '' });

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-attest-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const newSigner = (): Ed25519Signer => new Ed25519Signer(crypto.generateKeyPairSync('ed25519').privateKey);
const verifierOf = (s: Ed25519Signer): PublicKeyVerifier => new PublicKeyVerifier(s.publicKey());
const SHA = (s: string): string => crypto.createHash('sha256').update(s).digest('hex');

const provenance = () =>
  candidateProvenanceStatement({
    candidate: { name: 'afib-detector-2.3.0.onnx', sha256: SHA('model') },
    source: { repository: 'https://git.example.org/ml/afib', commit: 'a'.repeat(40) },
    datasets: [{ name: 'ecg-afib-cohort', role: 'train', manifestSha256: SHA('manifest'), merkleRoot: SHA('root') }],
    environment: { lockfileSha256: SHA('lock'), node: 'v20.20.2', platform: 'linux-x64' },
    builder: { id: 'https://vigil.dev/builder/local' },
  });

function flipPayloadByte(env: DsseEnvelope, at: number): DsseEnvelope {
  const bytes = Buffer.from(env.payload, 'base64');
  bytes[at]! ^= 0x01;
  return { ...env, payload: bytes.toString('base64') };
}

describe('DSSE', () => {
  it('encodes PAE exactly as the spec test vector: "DSSEv1 29 http://example.com/HelloWorld 11 hello world"', () => {
    assert.equal(
      pae('http://example.com/HelloWorld', Buffer.from('hello world')).toString('utf8'),
      'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
    );
    // LEN is the byte length, not the character count.
    assert.equal(pae('t', Buffer.from('é')).toString('utf8'), 'DSSEv1 1 t 2 é');
  });

  it("verifies the DSSE spec's reference envelope (ECDSA P-256, secure-systems-lab/dsse protocol.md test vector)", async () => {
    const big = (d: string): string =>
      Buffer.from(BigInt(d).toString(16).padStart(64, '0'), 'hex').toString('base64url');
    const key = crypto.createPublicKey({
      key: {
        kty: 'EC',
        crv: 'P-256',
        x: big('46950820868899156662930047687818585632848591499744589407958293238635476079160'),
        y: big('5640078356564379163099075877009565129882514886557779369047442380624545832820'),
      },
      format: 'jwk',
    });
    const envelope = {
      payload: 'aGVsbG8gd29ybGQ=',
      payloadType: 'http://example.com/HelloWorld',
      signatures: [{ sig: 'A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA==' }],
    };
    const ok = await verifyEnvelope(envelope, [new PublicKeyVerifier(key)], {
      payloadType: 'http://example.com/HelloWorld',
    });
    assert.ok(ok.ok, ok.reasons.join('; '));
    const bad = await verifyEnvelope(
      { ...envelope, payload: Buffer.from('hello world!').toString('base64') },
      [new PublicKeyVerifier(key)],
      {
        payloadType: 'http://example.com/HelloWorld',
      },
    );
    assert.equal(bad.ok, false);
  });

  it('sign → verify; a flipped payload or signature byte, or the wrong key, fails', async () => {
    const signer = newSigner();
    const env = await signEnvelope('application/vnd.in-toto+json', Buffer.from('{"a":1}'), [signer]);
    assert.equal(env.signatures[0]!.keyid, signer.keyId);
    assert.ok((await verifyEnvelope(env, [verifierOf(signer)])).ok);
    assert.equal((await verifyEnvelope(flipPayloadByte(env, 3), [verifierOf(signer)])).ok, false);
    const sig = Buffer.from(env.signatures[0]!.sig, 'base64');
    sig[10]! ^= 0x01;
    assert.equal(
      (
        await verifyEnvelope({ ...env, signatures: [{ ...env.signatures[0]!, sig: sig.toString('base64') }] }, [
          verifierOf(signer),
        ])
      ).ok,
      false,
    );
    assert.equal((await verifyEnvelope(env, [verifierOf(newSigner())])).ok, false);
    // Changing the payload type is caught too: PAE binds it.
    assert.equal(
      (
        await verifyEnvelope({ ...env, payloadType: 'application/json' }, [verifierOf(signer)], {
          payloadType: 'application/json',
        })
      ).ok,
      false,
    );
    // A keyid is only a hint: a forged hint naming the trusted key does not help a foreign signature.
    const other = await signEnvelope('application/vnd.in-toto+json', Buffer.from('{"a":1}'), [newSigner()]);
    other.signatures[0]!.keyid = signer.keyId;
    assert.equal((await verifyEnvelope(other, [verifierOf(signer)])).ok, false);
  });

  it('needs signatures from `threshold` distinct trusted keys', async () => {
    const [a, b] = [newSigner(), newSigner()];
    const both = await signEnvelope('application/vnd.in-toto+json', Buffer.from('{}'), [a, b]);
    assert.ok((await verifyEnvelope(both, [verifierOf(a), verifierOf(b)], { threshold: 2 })).ok);
    const twiceA = { ...both, signatures: [both.signatures[0]!, both.signatures[0]!] };
    assert.equal((await verifyEnvelope(twiceA, [verifierOf(a), verifierOf(b)], { threshold: 2 })).ok, false);
  });
});

describe('in-toto attestations', () => {
  it('SLSA provenance v1 for the candidate verifies and names commit, dataset manifests and environment', async () => {
    const signer = newSigner();
    const env = await signStatement(provenance(), [signer]);
    const res = await verifyAttestation(env, [verifierOf(signer)], {
      predicateType: SLSA_PROVENANCE_V1,
      subjectSha256: SHA('model'),
    });
    assert.ok(res.ok, res.reasons.join('; '));
    const deps = (
      res.statement!.predicate as {
        buildDefinition: { resolvedDependencies: { name: string; digest: Record<string, string> }[] };
      }
    ).buildDefinition.resolvedDependencies;
    assert.deepEqual(
      deps.map((d) => d.name),
      ['source', 'dataset:train:ecg-afib-cohort', 'lockfile'],
    );
    assert.equal(deps[0]!.digest.gitCommit, 'a'.repeat(40));
    assert.equal(
      Buffer.from(env.payload, 'base64').toString('utf8').includes('"_type":"https://in-toto.io/Statement/v1"'),
      true,
    );
  });

  it('a modified statement fails verification', async () => {
    const signer = newSigner();
    const env = await signStatement(provenance(), [signer]);
    const text = Buffer.from(env.payload, 'base64').toString('utf8').replace('a'.repeat(40), 'b'.repeat(40));
    const res = await verifyAttestation({ ...env, payload: Buffer.from(text).toString('base64') }, [
      verifierOf(signer),
    ]);
    assert.equal(res.ok, false);
    assert.match(res.reasons.join(), /signature/);
  });

  it('the evaluation statement carries the acceptance policy digest as pre-registration, registered before evaluation', async () => {
    const predicate = {
      preRegistration: {
        policyId: 'afib-release',
        policyVersion: '3',
        policyDigest: { sha256: SHA('policy') },
        registeredAt: '2024-01-10T09:00:00Z',
      },
      datasets: [{ name: 'ecg-afib-cohort', role: 'test', manifestSha256: SHA('manifest') }],
      result: { outcome: 'pass' as const, reasons: [], measurementsDigest: { sha256: SHA('measurements') } },
      evaluatedAt: '2024-03-01T12:00:00Z',
    };
    const signer = newSigner();
    const env = await signStatement(
      evaluationStatement({ name: 'afib-detector-2.3.0.onnx', sha256: SHA('model') }, predicate),
      [signer],
    );
    const res = await verifyAttestation(env, [verifierOf(signer)], { predicateType: VIGIL_EVALUATION_V1 });
    assert.ok(res.ok, res.reasons.join('; '));
    assert.throws(
      () =>
        evaluationStatement({ name: 'm', sha256: SHA('model') }, { ...predicate, evaluatedAt: '2023-12-31T00:00:00Z' }),
      /registered before/,
    );
  });

  it('the approval statement binds the dossier digest and the signature meaning', async () => {
    const signer = newSigner();
    const st = approvalStatement(
      { name: 'afib-detector-2.3.0.onnx', sha256: SHA('model') },
      {
        releaseId: 'rel-42',
        dossier: { sha256: SHA('dossier') },
        approver: { id: 'u-7', role: 'qa' },
        decision: 'approve',
        meaning: 'approval',
        signedAt: '2024-03-02T08:00:00Z',
      },
    );
    const res = await verifyAttestation(await signStatement(st, [signer]), [verifierOf(signer)], {
      subjectSha256: SHA('dossier'),
    });
    assert.ok(res.ok, res.reasons.join('; '));
  });
});

describe('dev key and `vigil attest verify`', () => {
  it('creates the dev key once with mode 0600 outside any git work tree, then reloads it', () => {
    const dir = path.join(tmp, 'config', 'vigil');
    const first = loadOrCreateDevKey(dir);
    assert.equal(first.created, true);
    assert.equal(fs.statSync(path.join(dir, DEV_KEY_FILE)).mode & 0o777, 0o600);
    const again = loadOrCreateDevKey(dir);
    assert.equal(again.created, false);
    assert.equal(again.signer.keyId, first.signer.keyId);
    assert.throws(() => loadOrCreateDevKey(path.join(__dirname, 'keys')), /inside the git work tree/);
    fs.chmodSync(path.join(dir, DEV_KEY_FILE), 0o644);
    assert.throws(() => loadOrCreateDevKey(dir), /readable by others/);
  });

  it('verifies envelopes from files: exit 0 when valid, 3 when modified, 2 for unusable input', async () => {
    const signer = newSigner();
    const keyFile = path.join(tmp, 'trusted.pub.pem');
    fs.writeFileSync(keyFile, signer.publicKey().export({ type: 'spki', format: 'pem' }));
    const env = await signStatement(provenance(), [signer]);
    const good = path.join(tmp, 'good.dsse.json');
    const bad = path.join(tmp, 'bad.dsse.json');
    fs.writeFileSync(good, JSON.stringify(env));
    fs.writeFileSync(bad, JSON.stringify(flipPayloadByte(env, 20)));
    const io = () => {
      const out: string[] = [];
      const err: string[] = [];
      return { io: { stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t) }, out, err };
    };
    let c = io();
    assert.equal(await runAttestVerify([good, '--key', keyFile], c.io), 0);
    assert.match(c.out.join(''), /^OK .*https:\/\/slsa\.dev\/provenance\/v1/);
    c = io();
    assert.equal(await runAttestVerify([good, bad, '--key', keyFile, '--json'], c.io), 3);
    const report = JSON.parse(c.out.join('')) as { ok: boolean }[];
    assert.deepEqual(
      report.map((r) => r.ok),
      [true, false],
    );
    c = io();
    assert.equal(await runAttestVerify([path.join(tmp, 'missing.json'), '--key', keyFile], c.io), 2);
    assert.match(c.err.join(''), /envelope not found/);
    c = io();
    assert.equal(await runAttestVerify([good], c.io), 2);
    assert.match(c.err.join(''), /--key is required/);
  });
});
