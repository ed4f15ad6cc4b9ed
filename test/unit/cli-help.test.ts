/**
 * Every `vigil` command and subcommand answers `--help` with its usage and exit 0, and the top-level help
 * lists every command (the local evidence tools included). The tree is walked from the program itself, so a
 * command added later is covered without editing this test.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Command } from 'commander';
import { buildProgram, run, type CliIo } from '../../src/cli/program';

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

/** Every command path below the root, e.g. ['release'], ['release', 'start'], ... */
function commandPaths(cmd: Command, prefix: string[] = []): string[][] {
  return cmd.commands.flatMap((sub) => {
    const p = [...prefix, sub.name()];
    return [p, ...commandPaths(sub, p)];
  });
}

describe('vigil --help', () => {
  const paths = commandPaths(buildProgram(io().value, () => undefined));

  it('walks a tree with the commands we expect', () => {
    const names = paths.map((p) => p.join(' '));
    for (const expected of [
      'release start',
      'release watch',
      'approve',
      'canary resume',
      'dataset manifest',
      'dataset prove',
      'attest verify',
      'dossier export',
      'evidence verify',
      'audit',
      'simulate',
      'init',
      'artifact put',
      'artifact get',
      'artifact ls',
      'model register',
    ])
      assert.ok(names.includes(expected), `${expected} missing from ${names.join(', ')}`);
  });

  it('the top-level help exits 0 and lists every top-level command', async () => {
    const o = io();
    assert.equal(await run(['--help'], o.value), 0, o.err());
    for (const top of new Set(paths.map((p) => p[0]!)))
      assert.match(o.out(), new RegExp(`^\\s+${top}\\b`, 'm'), `${top} not listed in vigil --help`);
    for (const tool of ['dataset', 'attest', 'dossier']) assert.match(o.out(), new RegExp(`^\\s+${tool}\\b`, 'm'));
  });

  it('every command and subcommand answers --help with its usage and exit 0', async () => {
    for (const p of paths) {
      const o = io();
      const code = await run([...p, '--help'], o.value);
      assert.equal(code, 0, `vigil ${p.join(' ')} --help → ${code}: ${o.err()}`);
      assert.match(o.out(), new RegExp(`^Usage: vigil ${p.join(' ')}\\b`, 'm'), `vigil ${p.join(' ')} --help`);
      assert.equal(o.err(), '', `vigil ${p.join(' ')} --help wrote to stderr`);
    }
  });

  it('an unknown option is still refused with exit 2 (help is not a catch-all)', async () => {
    const o = io();
    assert.equal(await run(['dataset', 'manifest', 'x.csv', '--bogus'], o.value), 2);
    assert.match(o.err(), /unknown option '--bogus'/);
  });
});
