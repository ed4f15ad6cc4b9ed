/** `vigil dataset …` and `vigil attest …` are routed to the local evidence tools with their exit codes. */
import assert from 'node:assert/strict';
import path from 'node:path';
import { it } from 'node:test';
import { run, type CliIo } from '../../src/cli/program';

const FIX = path.resolve(__dirname, '../fixtures/provenance');
function io() {
  const out: string[] = [];
  const err: string[] = [];
  const value: CliIo = {
    env: {},
    stdout: (t) => void out.push(t),
    stderr: (t) => void err.push(t),
    readStdin: async () => '',
  };
  return { value, out: () => out.join(''), err: () => err.join('') };
}

it('vigil dataset manifest builds a manifest from data + lineage (--json)', async () => {
  const o = io();
  const code = await run(
    [
      'dataset',
      'manifest',
      path.join(FIX, 'cohort.csv'),
      '--lineage',
      path.join(FIX, 'lineage.yaml'),
      '--split-key',
      path.join(FIX, 'split.key'),
      '--json',
    ],
    o.value,
  );
  assert.equal(code, 0, o.err());
  const json = JSON.parse(o.out());
  assert.equal(json.manifest.rows.count, 12);
  assert.match(json.manifest.rows.merkle.root, /^[0-9a-f]{64}$/);
  assert.deepEqual(json.missingProvenance, []);
});

it('vigil dataset manifest refuses a malformed lineage with exit 2 and one line', async () => {
  const o = io();
  const code = await run(
    ['dataset', 'manifest', path.join(FIX, 'cohort.csv'), '--lineage', path.join(FIX, 'lineage-bad.yaml')],
    o.value,
  );
  assert.equal(code, 2);
  assert.match(o.err(), /lineage-bad\.yaml: steps\.1\.exclusionRules/);
});

it('vigil attest verify without an envelope is a usage error', async () => {
  const o = io();
  assert.equal(await run(['attest', 'verify', '--key', path.join(FIX, 'none.pem')], o.value), 2);
});
