import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { ReleaseStatus, StageRecord } from '../../src/domain';
import { hex64, validReleaseRequest } from '../support/fixtures';

const VIGIL = path.resolve(__dirname, '../../bin/vigil');
const TOKEN = 'cli-test-token-0123456789';

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  body: unknown;
}
type Route = (req: Seen) => { status: number; body: unknown };

/** A stand-in Vigil API: each test scripts `route`; every request is recorded in `seen`. */
let route: Route = () => ({ status: 404, body: { error: 'no route scripted' } });
const seen: Seen[] = [];
let baseUrl = '';
let tmp = '';

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const text = Buffer.concat(chunks).toString('utf8');
    const s: Seen = {
      method: req.method ?? '',
      url: req.url ?? '',
      authorization: req.headers.authorization,
      body: text ? JSON.parse(text) : undefined,
    };
    seen.push(s);
    const { status, body } = route(s);
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
});

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run bin/vigil from a scratch directory (the shim must find the repo by itself); `undefined` unsets a variable. */
function vigil(args: string[], overrides: Record<string, string | undefined> = {}, input = ''): Promise<Result> {
  const base = {
    PATH: process.env.PATH ?? '',
    HOME: tmp,
    VIGIL_API_URL: baseUrl,
    VIGIL_API_TOKEN: TOKEN,
    VIGIL_STATE_DIR: path.join(tmp, 'state'),
  };
  const env = Object.fromEntries(Object.entries({ ...base, ...overrides }).filter(([, v]) => v !== undefined));
  return new Promise((resolve) => {
    const child = execFile(
      VIGIL,
      args,
      {
        cwd: tmp,
        env,
        timeout: 30_000,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(input);
  });
}

function record(stage: StageRecord['stage'], verdict: 'pass' | 'fail' | null, reasons: string[] = []): StageRecord {
  return {
    stage,
    step: null,
    startedAt: '2026-11-01T10:00:00.000Z',
    endedAt: verdict ? '2026-11-01T10:01:00.000Z' : null,
    decision: verdict ? { verdict, reasons } : null,
    artifacts: [],
    chainEntry: null,
  };
}

function status(
  stage: ReleaseStatus['stage'],
  history: StageRecord[],
  extra: Partial<ReleaseStatus> = {},
): ReleaseStatus {
  return {
    releaseId: 'rel-1',
    modelName: 'sepsis-alert',
    candidateVersion: '2.1.0',
    incumbentVersion: '2.0.0',
    submittedBy: 'dev.alice',
    stage,
    outcome: null,
    reason: null,
    policy: { id: 'sepsis-alert-release', version: '2026.11-test', sha256: hex64('policy') },
    requiredRoles: ['qa', 'clinical'],
    pendingRoles: ['qa', 'clinical'],
    dossier: null,
    signatures: [],
    routes: null,
    chainHead: null,
    history,
    approvalDeadline: null,
    ...extra,
  };
}

const approveArgs = (digest = hex64('dossier')): string[] => [
  'approve',
  'rel-1',
  '--user',
  'qa.bob',
  '--role',
  'qa',
  '--meaning',
  'approved for canary',
  '--reason',
  'dossier reviewed',
  '--digest',
  digest,
  '--password-stdin',
];
const PASSWORD = 'bob-secret-password';

describe('vigil CLI (subprocess against a stand-in API)', () => {
  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-cli-test-'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  beforeEach(() => {
    seen.length = 0;
  });

  it('release list --json prints parseable JSON only, sending the bearer token', async () => {
    const releases = [
      {
        releaseId: 'rel-1',
        runId: 'r1',
        status: 'RUNNING',
        startTime: '2026-11-01T10:00:00.000Z',
        closeTime: null,
        model: 'sepsis-alert',
        stage: 'SHADOW',
        outcome: null,
      },
    ];
    route = () => ({ status: 200, body: { releases } });
    const r = await vigil(['release', 'list', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), releases);
    assert.equal(seen[0]?.url, '/api/releases');
    assert.equal(seen[0]?.authorization, `Bearer ${TOKEN}`);
  });

  it('reads the token from <stateDir>/api-token when VIGIL_API_TOKEN is unset', async () => {
    const stateDir = path.join(tmp, 'token-state');
    fs.mkdirSync(stateDir, { recursive: true });
    fs.writeFileSync(path.join(stateDir, 'api-token'), 'file-token-0123456789abcdef\n');
    route = () => ({ status: 200, body: { releases: [] } });
    const r = await vigil(['release', 'list'], { VIGIL_API_TOKEN: undefined, VIGIL_STATE_DIR: stateDir });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'no releases\n');
    assert.equal(seen.at(-1)?.authorization, 'Bearer file-token-0123456789abcdef');
  });

  it('release start --json posts the request file and prints the server answer', async () => {
    const request = validReleaseRequest();
    const file = path.join(tmp, 'request.json');
    fs.writeFileSync(file, JSON.stringify(request));
    route = () => ({ status: 201, body: { releaseId: 'rel-1', runId: 'r1', started: true } });
    const r = await vigil(['release', 'start', 'request.json', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { releaseId: 'rel-1', runId: 'r1', started: true });
    assert.equal(seen[0]?.method, 'POST');
    assert.equal((seen[0]?.body as { modelName: string }).modelName, request.modelName);
  });

  it('exits 3 with the server reason on one line when the server refuses (409)', async () => {
    fs.writeFileSync(path.join(tmp, 'request.json'), JSON.stringify(validReleaseRequest()));
    const reason = 'release rel-1 already ran and has finished (REJECTED); submit it with "attempt": 2';
    route = () => ({ status: 409, body: { error: reason } });
    const r = await vigil(['release', 'start', 'request.json', '--json']);
    assert.equal(r.code, 3);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, `vigil: ${reason} (HTTP 409)\n`);
  });

  it('exits 3 and shows the validator reason when an approval is refused', async () => {
    route = () => ({
      status: 409,
      body: { error: 'stale dossier digest; review it and sign again', type: 'VigilStaleDigest' },
    });
    const r = await vigil(approveArgs(), {}, `${PASSWORD}\n`);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /^vigil: stale dossier digest; review it and sign again \(HTTP 409\)\n$/);
    assert.equal(seen[0]?.url, '/api/releases/rel-1/signatures');
    assert.deepEqual(seen[0]?.body, {
      username: 'qa.bob',
      password: PASSWORD,
      role: 'qa',
      decision: 'approve',
      meaning: 'approved for canary',
      reason: 'dossier reviewed',
      dossierSha256: hex64('dossier'),
    });
  });

  it('approve signs as --user with the password from stdin and prints the signature manifestation', async () => {
    const signature = {
      signer: 'qa.bob',
      printedName: 'Bob Quality',
      role: 'qa',
      decision: 'approve',
      meaning: 'approved for canary',
      reason: 'dossier reviewed',
      dossierSha256: hex64('dossier'),
      at: '2026-11-26T09:00:00.000Z',
      evidence: { key: `sha256/${hex64('sig')}`, sha256: hex64('sig'), size: 1, mediaType: 'application/json' },
    };
    route = () => ({
      status: 201,
      body: {
        releaseId: 'rel-1',
        accepted: true,
        repeated: false,
        signatureKey: signature.evidence.key,
        pendingRoles: ['clinical'],
        signature,
      },
    });
    const r = await vigil(approveArgs(), {}, `${PASSWORD}\r\nignored second line\n`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((seen[0]?.body as { password: string }).password, PASSWORD);
    assert.match(r.stdout, /signature recorded for rel-1; pending roles: clinical/);
    assert.match(r.stdout, /signed: Bob Quality \(qa\) at 2026-11-26 09:00:00 UTC: "approved for canary"/);
    assert.doesNotMatch(r.stdout + r.stderr, new RegExp(PASSWORD));
  });

  it('approve without a terminal and without --password-stdin exits 2 and sends nothing; there is no password flag', async () => {
    const noTty = await vigil(approveArgs().filter((a) => a !== '--password-stdin'));
    assert.equal(noTty.code, 2);
    assert.match(noTty.stderr, /no terminal to ask for the password; pipe it with --password-stdin/);
    const flag = await vigil([...approveArgs(), '--password', PASSWORD]);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /unknown option '--password'/);
    const old = await vigil([...approveArgs(), '--signer', 'qa.bob']);
    assert.equal(old.code, 2);
    const empty = await vigil(approveArgs(), {}, '\n');
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /empty password/);
    assert.equal(seen.length, 0);
  });

  it('exits 2 and sends nothing when a required option is missing', async () => {
    const args = approveArgs().filter((x, i, all) => x !== '--digest' && all[i - 1] !== '--digest'); // drop --digest
    const r = await vigil(args);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /required option '--digest <sha256>' not specified/);
    assert.equal(seen.length, 0);
  });

  it('exits 2 and sends nothing for a malformed digest or request file', async () => {
    const bad = await vigil(approveArgs('abc123'));
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--digest: must be a lowercase hex SHA-256 digest/);

    fs.writeFileSync(path.join(tmp, 'broken.json'), '{"modelName": ');
    const broken = await vigil(['release', 'start', 'broken.json']);
    assert.equal(broken.code, 2);
    assert.match(broken.stderr, /broken\.json is not valid JSON/);
    assert.equal(seen.length, 0);
  });

  it('exits 4 when nothing listens', async () => {
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const r = await vigil(['release', 'list'], { VIGIL_API_URL: `http://127.0.0.1:${port}` });
    assert.equal(r.code, 4);
    assert.match(r.stderr, /^vigil: cannot reach the Vigil API at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED\n$/);
  });

  it('exits 4 on a server error', async () => {
    route = () => ({ status: 500, body: { error: 'internal error' } });
    const r = await vigil(['release', 'status', 'rel-1']);
    assert.equal(r.code, 4);
    assert.equal(r.stderr, 'vigil: internal error (HTTP 500)\n');
  });

  it('release status shows the dossier digest an approver must sign', async () => {
    const dossier = {
      key: 'releases/rel-1/dossier.json',
      sha256: hex64('dossier'),
      size: 10,
      mediaType: 'application/json',
    };
    route = () => ({
      status: 200,
      body: status('AWAITING_APPROVAL', [record('SNAPSHOT', 'pass'), record('AWAITING_APPROVAL', null)], { dossier }),
    });
    const r = await vigil(['release', 'status', 'rel-1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`dossier\\s+sha256 ${hex64('dossier')}`));
    assert.match(
      r.stdout,
      new RegExp(`vigil approve rel-1 --user <your id> --role <qa\\|clinical> --digest ${hex64('dossier')}`),
    );
  });

  it('release status shows each signature manifestation: printed name, server time, meaning, role', async () => {
    const dossier = {
      key: 'releases/rel-1/dossier.json',
      sha256: hex64('dossier'),
      size: 10,
      mediaType: 'application/json',
    };
    const sig = {
      signer: 'qa.bob',
      printedName: 'Bob Quality',
      role: 'qa' as const,
      decision: 'approve' as const,
      meaning: 'approved for canary',
      reason: 'ok',
      dossierSha256: hex64('dossier'),
      at: '2026-11-26T09:00:00.000Z',
      timeZone: 'Europe/Berlin',
      evidence: { key: 'sha256/x', sha256: hex64('sig'), size: 1, mediaType: 'application/json' },
    };
    route = () => ({
      status: 200,
      body: status('AWAITING_APPROVAL', [record('AWAITING_APPROVAL', null)], {
        dossier,
        signatures: [sig],
        pendingRoles: ['clinical'],
      }),
    });
    const r = await vigil(['release', 'status', 'rel-1']);
    assert.equal(r.code, 0, r.stderr);
    // Once, with the reason, the signer's local time and UTC (the record carries the signer's zone).
    assert.match(
      r.stdout,
      /signed: Bob Quality \(qa\) at 2026-11-26 10:00:00 CET \(Europe\/Berlin\) · 2026-11-26 09:00:00 UTC: "approved for canary"; reason: ok \[signer qa\.bob\]/,
    );
    assert.equal(r.stdout.split('Bob Quality').length - 1, 1, 'each signature is printed once');
  });

  it('--help documents signing as an account with the password prompted', async () => {
    const r = await vigil(['approve', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /--user <id>/);
    assert.match(r.stdout, /--password-stdin/);
    assert.doesNotMatch(r.stdout, /--signer|--name/);
  });

  it('release watch prints each stage and decision and exits 0 on RELEASED', async () => {
    const frames = [
      status('SNAPSHOT', [record('SNAPSHOT', null)]),
      status('OFFLINE_EVAL', [record('SNAPSHOT', 'pass', ['provenance complete']), record('OFFLINE_EVAL', null)]),
      status(
        'RELEASED',
        [
          record('SNAPSHOT', 'pass', ['provenance complete']),
          record('OFFLINE_EVAL', 'pass', ['auc 0.91']),
          record('RELEASED', null),
        ],
        { outcome: 'RELEASED', reason: 'monitoring complete' },
      ),
    ];
    let i = 0;
    route = () => ({ status: 200, body: frames[Math.min(i++, frames.length - 1)] });
    const r = await vigil(['release', 'watch', 'rel-1', '--interval', '0.05']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => l.replace(/^\S+\s+/, ''));
    assert.deepEqual(lines, [
      'SNAPSHOT started',
      'SNAPSHOT pass: provenance complete',
      'OFFLINE_EVAL started',
      'OFFLINE_EVAL pass: auc 0.91',
      'release rel-1 ended RELEASED: monitoring complete',
    ]);
  });

  it('release watch --json emits one event per line and exits 3 on REJECTED', async () => {
    route = () => ({
      status: 200,
      body: status('REJECTED', [record('SNAPSHOT', 'fail', ['candidate digest mismatch']), record('REJECTED', null)], {
        outcome: 'REJECTED',
        reason: 'SNAPSHOT: candidate digest mismatch',
      }),
    });
    const r = await vigil(['release', 'watch', 'rel-1', '--json', '--interval', '0.05']);
    assert.equal(r.code, 3);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; outcome?: string });
    assert.deepEqual(
      events.map((e) => e.event),
      ['stage', 'decision', 'end'],
    );
    assert.equal(events[2]?.outcome, 'REJECTED');
  });
});

describe('vigil output into a closed pipe', () => {
  it('ends quietly when the reader stops early (vigil … | head), with no stack trace', async () => {
    const child = spawn(VIGIL, ['--help'], {
      cwd: os.tmpdir(),
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy(); // the reader is gone before the CLI writes anything
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(stderr, '', 'nothing on stderr');
    assert.equal(code, 0);
  });
});
