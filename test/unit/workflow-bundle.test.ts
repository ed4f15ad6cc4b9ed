import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bundleWorkflowCode } from '@temporalio/worker';

/**
 * The workflow bundler is the backstop behind the ESLint guard: whatever lint misses (a built-in
 * pulled in transitively, a rule switched off) fails here, long before a worker starts in production.
 */
const silent = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

describe('workflow bundle', () => {
  let code = '';

  before(async () => {
    ({ code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../../src/workflows'), logger: silent }));
  });

  it('builds and exports both workflow types', () => {
    assert.ok(code.length > 0);
    assert.match(code, /\breleaseLifecycle\b/);
    assert.match(code, /\breleaseMonitoring\b/);
  });

  it('contains no I/O library (the S3 client would be a determinism and size hazard)', () => {
    assert.doesNotMatch(code, /@aws-sdk\/client-s3/);
  });
});

describe('workflow bundler as a backstop', () => {
  // Inside the repo, so the probes resolve @temporalio/workflow exactly as src/workflows does.
  let dir = '';
  const errors: string[] = [];
  const recording = { ...silent, error: (message: string) => void errors.push(message) };

  const probe = (name: string, importLine: string, body: string): string => {
    const file = path.join(dir, `${name}.ts`);
    fs.writeFileSync(file, `${importLine}\nexport async function probeWorkflow(): Promise<string> {\n  ${body}\n}\n`);
    return file;
  };

  before(() => {
    dir = fs.mkdtempSync(path.join(__dirname, '.bundle-probe-'));
  });

  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('bundles a clean probe workflow (control: the failures below are the imports, not the setup)', async () => {
    const file = probe('clean', "import { sleep } from '@temporalio/workflow';", "await sleep(1);\n  return 'ok';");
    const { code: probeCode } = await bundleWorkflowCode({ workflowsPath: file, logger: silent });
    assert.match(probeCode, /probeWorkflow/);
  });

  it('refuses a workflow that imports node:fs', async () => {
    errors.length = 0;
    const file = probe(
      'node-scheme',
      "import { readFileSync } from 'node:fs';",
      "return readFileSync('/etc/hostname', 'utf8');",
    );
    await assert.rejects(bundleWorkflowCode({ workflowsPath: file, logger: recording }));
    assert.match(errors.join('\n'), /node:fs/);
  });

  it('refuses a workflow that imports bare fs, naming it as a disallowed module', async () => {
    const file = probe('bare', "import { readFileSync } from 'fs';", "return readFileSync('/etc/hostname', 'utf8');");
    await assert.rejects(bundleWorkflowCode({ workflowsPath: file, logger: silent }), /disallowed modules:\s+- 'fs'/);
  });
});
