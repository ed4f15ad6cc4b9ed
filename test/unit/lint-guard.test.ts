import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';

/**
 * The workflow import guard in eslint.config.mjs, exercised through ESLint itself: each snippet is
 * linted as if it lived in src/workflows/, so a config change that silently drops the guard fails here.
 */
const root = path.resolve(__dirname, '../..');
const eslint = new ESLint({ cwd: root });
const RULE = '@typescript-eslint/no-restricted-imports';

async function restrictedImports(code: string, filePath = 'src/workflows/__probe__.ts'): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, filePath) });
  assert.ok(result, 'ESLint returned no result');
  const fatal = result.messages.filter((m) => m.fatal);
  assert.deepEqual(fatal, [], 'snippet must parse');
  return result.messages.filter((m) => m.ruleId === RULE).map((m) => m.message);
}

describe('ESLint guard on src/workflows', () => {
  const forbidden: Array<[string, string]> = [
    ['a node: built-in', "import { readFileSync } from 'node:fs';\nexport const f = readFileSync;\n"],
    ['a bare built-in', "import fs from 'fs';\nexport const f = fs;\n"],
    ['a built-in sub-path', "import { readFile } from 'fs/promises';\nexport const f = readFile;\n"],
    ['a bare crypto import', "import { randomUUID } from 'crypto';\nexport const f = randomUUID;\n"],
    ['the AWS SDK', "import { S3Client } from '@aws-sdk/client-s3';\nexport const c = S3Client;\n"],
    ['the Temporal client', "import { Connection } from '@temporalio/client';\nexport const c = Connection;\n"],
    ['the Temporal worker', "import { Worker } from '@temporalio/worker';\nexport const w = Worker;\n"],
    ['the activity context', "import { Context } from '@temporalio/activity';\nexport const c = Context;\n"],
    ['the logger', "import pino from 'pino';\nexport const p = pino;\n"],
    ['the HTTP framework', "import { Hono } from 'hono';\nexport const h = Hono;\n"],
    [
      'a value import of ../activities',
      "import { createActivities } from '../activities';\nexport const a = createActivities;\n",
    ],
    [
      'a value import of an activities sub-module',
      "import { snapshotActivities } from '../activities/snapshot';\nexport const a = snapshotActivities;\n",
    ],
    ['a re-export of a built-in', "export { readFileSync } from 'node:fs';\n"],
  ];
  for (const [what, code] of forbidden) {
    it(`reports ${what}`, async () => {
      const messages = await restrictedImports(code);
      assert.equal(messages.length, 1, `expected one ${RULE} report, got ${JSON.stringify(messages)}`);
    });
  }

  const allowed: Array<[string, string]> = [
    [
      'a type-only import of the activities',
      "import type { VigilActivities } from '../activities';\nexport type A = VigilActivities;\n",
    ],
    [
      'an inline type import of the activities',
      "import { type VigilActivities } from '../activities';\nexport type A = VigilActivities;\n",
    ],
    ['the workflow SDK', "import { sleep } from '@temporalio/workflow';\nexport const s = sleep;\n"],
    [
      'the common SDK package',
      "import { ApplicationFailure } from '@temporalio/common';\nexport const f = ApplicationFailure;\n",
    ],
    ['pure project modules', "import { judgeGuardrails } from '../judging';\nexport const j = judgeGuardrails;\n"],
  ];
  for (const [what, code] of allowed) {
    it(`allows ${what}`, async () => {
      assert.deepEqual(await restrictedImports(code), []);
    });
  }

  it('applies only to workflow code: activities may use node:fs and the AWS SDK', async () => {
    const code =
      "import { readFileSync } from 'node:fs';\nimport { S3Client } from '@aws-sdk/client-s3';\nexport const x = [readFileSync, S3Client];\n";
    assert.deepEqual(await restrictedImports(code, 'src/activities/__probe__.ts'), []);
  });
});
