import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { run } from '../../src/cli/program';
import { Gateway, RouteTables } from '../../src/gateway';
import { hashCaseId, WriteAheadLog, type OutcomeEvent } from '../../src/telemetry';

const TOKEN = 'ingest-token-0123456789';
const KEY = 'case-id-key-0123456789';

describe('vigil outcomes post', () => {
  let dir: string;
  let wal: WriteAheadLog;
  let gateway: Gateway;
  let url: string;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-outcomes-'));
    wal = await WriteAheadLog.open({ dir: path.join(dir, 'wal') });
    gateway = new Gateway({
      models: [],
      tables: new RouteTables(() => undefined),
      caseIdKey: KEY,
      controlToken: TOKEN,
      wal,
    });
    url = `http://127.0.0.1:${await gateway.listen(0)}`;
  });
  after(async () => {
    await gateway.close();
    await wal.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function vigil(...args: string[]) {
    let stdout = '';
    let stderr = '';
    const code = await run(args, {
      env: { VIGIL_GATEWAY_INGEST_TOKEN: TOKEN },
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
      readStdin: () => Promise.resolve(''),
    });
    return { code, stdout, stderr };
  }
  const outcomes = (): OutcomeEvent[] => [...wal.scanLocal()].filter((e): e is OutcomeEvent => e.kind === 'outcome');
  const file = (name: string, lines: unknown[]): string => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
    return f;
  };
  const outcome = (i: number) => ({
    model: 'sepsis-alert',
    case_id: `enc-${i}`,
    label: i % 2,
    source: 'downstream_outcome',
    observed_at: '2026-03-01T10:00:00Z',
  });

  it('posts every line in batches; a second post of the same file repeats the same event ids', async () => {
    const f = file('ok.ndjson', [
      outcome(1),
      outcome(2),
      '',
      outcome(3),
      { ...outcome(4), event_id: 'hospital-evt-0004' },
    ]);
    const first = await vigil('outcomes', 'post', f, '--gateway', url, '--batch', '2');
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /4 outcomes posted .* in 2 batch/);
    const got = outcomes();
    assert.equal(got.length, 4);
    assert.deepEqual(
      got.map((e) => [e.caseIdHash, e.label, e.source]),
      [1, 2, 3, 4].map((i) => [hashCaseId(`enc-${i}`, KEY), i % 2, 'downstream_outcome']),
    );
    assert.equal(got[3]!.eventId, 'hospital-evt-0004');
    const again = await vigil('outcomes', 'post', f, '--gateway', url);
    assert.equal(again.code, 0, again.stderr);
    const ids = outcomes().map((e) => e.eventId);
    assert.equal(ids.length, 8);
    assert.deepEqual(ids.slice(4), ids.slice(0, 4)); // readers count an event id once
  });

  it('refuses a file with a bad line and posts nothing', async () => {
    const before = outcomes().length;
    const f = file('bad.ndjson', [outcome(5), { ...outcome(6), label: 2 }, 'not json']);
    const r = await vigil('outcomes', 'post', f, '--gateway', url);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /2 invalid lines, nothing posted/);
    assert.match(r.stderr, /line 2: label/);
    assert.match(r.stderr, /line 3: not JSON/);
    assert.equal(outcomes().length, before);
  });

  it('says which lines were not posted when the gateway refuses, and needs a token', async () => {
    const f = file('one.ndjson', [outcome(7)]);
    const refused = await run(['outcomes', 'post', f, '--gateway', url], {
      env: { VIGIL_GATEWAY_INGEST_TOKEN: 'wrong-token-0123456789' },
      stdout: () => undefined,
      stderr: (t) => assert.match(t, /outcomes 1–1 of 1 not posted: HTTP 401|post the file again/),
      readStdin: () => Promise.resolve(''),
    });
    assert.equal(refused, 1);
    let stderr = '';
    const noToken = await run(['outcomes', 'post', f, '--gateway', url], {
      env: {},
      stdout: () => undefined,
      stderr: (t) => (stderr += t),
      readStdin: () => Promise.resolve(''),
    });
    assert.equal(noToken, 2);
    assert.match(stderr, /VIGIL_GATEWAY_INGEST_TOKEN/);
  });
});
