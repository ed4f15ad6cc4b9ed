/**
 * The layer rules of .dependency-cruiser.cjs, run by dependency-cruiser's own CLI exactly as `npm run depcheck`
 * runs it: the real tree has no violation, and an upward import or a cycle added on purpose is reported by the
 * rule that forbids it (so the rules are not vacuous: a pattern that matched nothing would pass the first test).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

const ROOT = path.resolve(__dirname, '../..');
const DEPCRUISE = path.join(ROOT, 'node_modules', '.bin', 'depcruise');

interface Violation {
  from: string;
  to: string;
  rule: { name: string; severity: string };
}

/** Runs the CLI with the project's config; it exits non-zero on errors, so the JSON is read either way. */
function depcruise(targets: string[]): Promise<Violation[]> {
  return new Promise((resolve, reject) => {
    execFile(
      DEPCRUISE,
      [...targets, '--config', '.dependency-cruiser.cjs', '--output-type', 'json'],
      { cwd: ROOT, maxBuffer: 256 * 1024 * 1024 },
      (err, stdout, stderr) => {
        try {
          const out = JSON.parse(stdout) as { summary: { violations: Violation[] } };
          resolve(out.summary.violations);
        } catch {
          reject(new Error(`depcruise gave no JSON (${err?.message ?? 'no error'}): ${stderr}`));
        }
      },
    );
  });
}

const brief = (vs: Violation[]) => vs.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).join('\n');

describe('dependency rules (.dependency-cruiser.cjs)', () => {
  it('the source tree has no violation: no cycle, no upward import, no orphan', async () => {
    const violations = await depcruise(['src']);
    assert.equal(violations.length, 0, `violations:\n${brief(violations)}`);
  });

  it('reports an upward import (stats → api) and a cycle by rule name', async () => {
    const tag = `zz-depcheck-probe-${process.pid}`;
    const upward = path.join(ROOT, 'src/stats', `${tag}-upward.ts`);
    const cycleA = path.join(ROOT, 'src/stats', `${tag}-a.ts`);
    const cycleB = path.join(ROOT, 'src/stats', `${tag}-b.ts`);
    try {
      fs.writeFileSync(upward, "export { createApp } from '../api/app';\n");
      fs.writeFileSync(cycleA, `import { b } from './${tag}-b';\nexport const a = (): number => b() + 1;\n`);
      fs.writeFileSync(cycleB, `import { a } from './${tag}-a';\nexport const b = (): number => a() - 1;\n`);
      const rel = (p: string) => path.relative(ROOT, p).split(path.sep).join('/');
      const violations = await depcruise([rel(upward), rel(cycleA)]);
      const named = (rule: string, from: string, to: string | RegExp) =>
        violations.some(
          (v) => v.rule.name === rule && v.from === from && (typeof to === 'string' ? v.to === to : to.test(v.to)),
        );

      assert.ok(
        named('logic-not-to-adapters-or-apps', rel(upward), 'src/api/app.ts'),
        `upward import not reported:\n${brief(violations)}`,
      );
      assert.ok(named('no-circular', rel(cycleA), rel(cycleB)), `cycle not reported:\n${brief(violations)}`);
      assert.ok(violations.every((v) => v.rule.severity === 'error'));
    } finally {
      for (const f of [upward, cycleA, cycleB]) fs.rmSync(f, { force: true });
    }
  });
});
