import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  FileIdentityProvider,
  hashPassword,
  JsonLinesAuditLog,
  MemorySessionStore,
  UsersFileError,
  verifyPassword,
} from '../../src/auth';

const FAST = { N: 1024, r: 8, p: 1 };

describe('password hashes (scrypt)', () => {
  it('verifies the right password and nothing else; the hash is salted and names its parameters', async () => {
    const h = await hashPassword('correct horse battery', FAST);
    assert.match(h, /^scrypt\$1024\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    assert.equal(await verifyPassword('correct horse battery', h), true);
    assert.equal(await verifyPassword('correct horse batterY', h), false);
    assert.equal(await verifyPassword('', h), false);
    assert.notEqual(await hashPassword('correct horse battery', FAST), h, 'a fresh salt each time');
    assert.equal(await verifyPassword('x', 'plaintext-password'), false);
    assert.equal(await verifyPassword('x', 'scrypt$1024$8$1$c2FsdA==$AAAA'), false, 'a truncated hash never verifies');
  });

  it('uses N = 2^15 by default', async () => {
    assert.match(await hashPassword('correct horse battery'), /^scrypt\$32768\$8\$1\$/);
  });
});

describe('users file', () => {
  it('the shipped example parses and its documented demo passwords work', async () => {
    const users = FileIdentityProvider.fromFile(path.join(__dirname, '../../config/users.example.yaml'));
    assert.deepEqual(await users.authenticate('dana.qa', 'dana-demo-password'), {
      id: 'dana.qa',
      name: 'Dana Whitfield',
      roles: ['qa'],
      timeZone: 'Europe/London',
    });
    assert.deepEqual((await users.authenticate('sam.clin', 'sam-demo-password'))?.roles, ['clinical']);
    assert.equal(await users.authenticate('dana.qa', 'sam-demo-password'), null);
    assert.equal(await users.authenticate('nobody', 'dana-demo-password'), null);
    assert.deepEqual(users.lookup('ida.audit')?.roles, ['auditor']);
  });

  it('refuses plaintext passwords, unknown roles and duplicate ids, naming the field', async () => {
    const hash = await hashPassword('some-password-1', FAST);
    assert.throws(
      () => FileIdentityProvider.fromYaml('users:\n  - {id: a.b, name: A, roles: [qa], passwordHash: hunter2}'),
      (e: Error) => e instanceof UsersFileError && /users\.0\.passwordHash: must be a scrypt hash/.test(e.message),
    );
    assert.throws(
      () => FileIdentityProvider.fromYaml(`users:\n  - {id: a.b, name: A, roles: [admin], passwordHash: "${hash}"}`),
      /users\.0\.roles\.0/,
    );
    assert.throws(
      () =>
        FileIdentityProvider.fromYaml(
          `users:\n  - {id: a.b, name: A, roles: [qa], passwordHash: "${hash}"}\n  - {id: a.b, name: B, roles: [qa], passwordHash: "${hash}"}`,
        ),
      /duplicate user a\.b/,
    );
  });

  it('a disabled user can neither log in nor keep a session', async () => {
    const hash = await hashPassword('some-password-1', FAST);
    const users = FileIdentityProvider.fromYaml(
      `users:\n  - {id: a.b, name: A, roles: [qa], passwordHash: "${hash}", disabled: true}`,
    );
    assert.equal(await users.authenticate('a.b', 'some-password-1'), null);
    assert.equal(users.lookup('a.b'), null);
  });
});

describe('sessions', () => {
  const who = { id: 'dana.qa', name: 'Dana', roles: ['qa' as const] };

  it('issue random ids and CSRF tokens, expire when idle and at the absolute limit', async () => {
    let now = 0;
    const store = new MemorySessionStore({ idleMs: 1000, absoluteMs: 5000 }, () => now);
    const a = await store.create(who);
    const b = await store.create(who);
    assert.notEqual(a.id, b.id);
    assert.notEqual(a.csrfToken, a.id);
    assert.match(a.id, /^[A-Za-z0-9_-]{43}$/);
    for (now = 900; now <= 4500; now += 900)
      assert.equal((await store.get(a.id)).session?.id, a.id, 'activity keeps it alive');
    now = 5001;
    assert.deepEqual(await store.get(a.id), { session: null, expired: true });
    assert.deepEqual(await store.get(b.id), { session: null, expired: true });
    assert.deepEqual(await store.get('forged'), { session: null, expired: false });
  });
});

describe('auth audit log', () => {
  it('appends one JSON object per line to a file only the owner can read', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-audit-'));
    const file = path.join(dir, 'audit', 'auth.jsonl');
    const log = new JsonLinesAuditLog(file);
    await Promise.all([
      log.record({ type: 'login.failure', user: 'dana.qa', ip: '127.0.0.1' }),
      log.record({ type: 'login.success', user: 'dana.qa', ip: '127.0.0.1', at: '2026-11-26T10:00:00.000Z' }),
    ]);
    const lines = fs
      .readFileSync(file, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      lines.map((l) => l.type),
      ['login.failure', 'login.success'],
    );
    assert.equal(lines[1].at, '2026-11-26T10:00:00.000Z');
    assert.match(lines[0].at, /^\d{4}-\d\d-\d\dT/);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
