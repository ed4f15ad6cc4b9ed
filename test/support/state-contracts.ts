/**
 * What every implementation of the shared-state stores must do, written once: the in-memory defaults run these in
 * unit tests, the PostgreSQL stores in test/integration/shared-state.test.ts, so both behave the same.
 * Each factory gets a clock the test moves; names are unique per run, so a shared database needs no cleanup.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { it } from 'node:test';
import type { DeliveryLedger } from '../../src/api/webhooks';
import type { LoginThrottle, SessionOptions, SessionStore, ThrottleOptions, UsedTokenStore } from '../../src/auth';

type Clock = () => number;
const unique = (what: string): string => `${what}-${crypto.randomBytes(6).toString('hex')}`;

export function sessionStoreContract(make: (opts: SessionOptions, now: Clock) => SessionStore): void {
  it('sessions: random ids and CSRF tokens; idle and absolute expiry; expired is told once', async () => {
    let now = 1_000_000;
    const store = make({ idleMs: 1000, absoluteMs: 5000 }, () => now);
    const who = { id: unique('dana'), name: 'Dana', roles: ['qa' as const], timeZone: 'Europe/Berlin' };
    const a = await store.create(who);
    const b = await store.create(who);
    assert.notEqual(a.id, b.id);
    assert.notEqual(a.csrfToken, a.id);
    assert.match(a.id, /^[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(a.identity, who, 'the session keeps who signed in');
    who.roles.pop(); // the caller's object changing later changes no session
    for (now += 900; now <= 1_004_500; now += 900) {
      const got = await store.get(a.id);
      assert.deepEqual(got.session, { ...a, lastSeenAt: now }, 'activity keeps it alive');
      assert.deepEqual(got.session?.identity?.roles, ['qa']);
    }
    now = 1_005_001;
    assert.deepEqual(await store.get(a.id), { session: null, expired: true }, 'absolute limit');
    assert.deepEqual(await store.get(a.id), { session: null, expired: false }, 'told once');
    assert.deepEqual(await store.get(b.id), { session: null, expired: true }, 'idle limit');
    assert.deepEqual(await store.get('forged'), { session: null, expired: false });
    assert.deepEqual(await store.get(undefined), { session: null, expired: false });
  });

  it('sessions: updateIdentity replaces the identity of a live session of the same user only', async () => {
    const now = 1_000_000;
    const store = make({ idleMs: 1000, absoluteMs: 5000 }, () => now);
    const id = unique('dana');
    const provider = { issuer: 'https://idp.example', subject: 's-1' };
    const s = await store.create({ id, name: 'Dana', roles: ['qa'], provider });
    assert.deepEqual((await store.get(s.id)).session?.identity, { id, name: 'Dana', roles: ['qa'], provider });
    const now2 = { id, name: 'Dana W.', roles: ['qa' as const, 'auditor' as const], provider };
    assert.equal(await store.updateIdentity(s.id, now2), true);
    assert.deepEqual((await store.get(s.id)).session?.identity, now2);
    assert.equal(await store.updateIdentity(s.id, { ...now2, id: unique('mallory') }), false, 'another user');
    assert.deepEqual((await store.get(s.id)).session?.identity, now2);
    assert.equal(await store.updateIdentity('forged', now2), false, 'no such session');
  });

  it('sessions: destroy ends a session', async () => {
    const now = 1_000_000;
    const store = make({ idleMs: 1000, absoluteMs: 5000 }, () => now);
    const s = await store.create({ id: unique('sam'), name: 'Sam', roles: ['clinical'] });
    assert.equal((await store.get(s.id)).session?.userId, s.userId);
    await store.destroy(s.id);
    assert.deepEqual(await store.get(s.id), { session: null, expired: false });
  });
}

export function loginThrottleContract(make: (opts: ThrottleOptions, now: Clock) => LoginThrottle): void {
  const opts: ThrottleOptions = { maxFailures: 3, lockoutMs: 60_000, maxAttemptsPerWindow: 4, windowMs: 10_000 };

  it('throttle: the third consecutive failure locks the account until the lockout ends', async () => {
    let now = 5_000_000;
    const t = make(opts, () => now);
    const user = unique('user');
    assert.deepEqual([await t.fail(user), await t.fail(user)], [false, false]);
    assert.equal(await t.lockedFor(user), 0);
    assert.equal(await t.fail(user), true);
    assert.equal(await t.lockedFor(user), 60_000);
    assert.equal(await t.lockedFor(unique('other')), 0, 'other accounts are not locked');
    now += 20_000;
    await t.succeed(user);
    assert.equal(await t.lockedFor(user), 40_000, 'a correct password racing the lock does not lift it');
    now += 40_001;
    assert.equal(await t.lockedFor(user), 0);
    // The count started again at the lock: two more failures do not lock; a success resets it.
    assert.deepEqual([await t.fail(user), await t.fail(user)], [false, false]);
    await t.succeed(user);
    assert.deepEqual([await t.fail(user), await t.fail(user), await t.fail(user)], [false, false, true]);
  });

  it('throttle: per address, at most maxAttemptsPerWindow attempts in the window', async () => {
    let now = 7_000_000;
    const t = make(opts, () => now);
    const ip = unique('203.0.113');
    const first = [];
    for (let i = 0; i < 5; i++) {
      first.push(await t.allowAttempt(ip));
      now += 1000;
    }
    assert.deepEqual(first, [true, true, true, true, false]);
    assert.equal(await t.underLimit(ip), false);
    assert.equal(await t.allowAttempt(unique('198.51.100')), true, 'other addresses are not limited');
    now = 7_000_000 + 10_001; // the first attempt left the window
    assert.equal(await t.underLimit(ip), true, 'underLimit counts nothing');
    assert.equal(await t.underLimit(ip), true);
    await t.countAttempt(ip);
    assert.equal(await t.allowAttempt(ip), false, 'countAttempt counted');
  });
}

export function deliveryLedgerContract(make: (ttlMs: number, now: Clock) => DeliveryLedger): void {
  it('ledger: the first record stands; copies get it back; an expired entry is replaced', async () => {
    let now = 9_000_000;
    const ledger = make(1000, () => now);
    const key = unique('github');
    assert.equal(await ledger.get(key), undefined);
    assert.equal(await ledger.record(key, { releaseId: 'r-1', outcome: 'queued' }), null);
    assert.deepEqual(await ledger.record(key, { releaseId: 'r-1', outcome: 'joined' }), {
      releaseId: 'r-1',
      outcome: 'queued',
    });
    assert.deepEqual(await ledger.get(key), { releaseId: 'r-1', outcome: 'queued' });
    now += 1000;
    assert.equal(await ledger.get(key), undefined, 'expired');
    assert.equal(await ledger.record(key, { releaseId: 'r-1', outcome: 'joined' }), null);
    assert.deepEqual(await ledger.get(key), { releaseId: 'r-1', outcome: 'joined' });
  });

  it('ledger: of parallel records of one key exactly one stands', async () => {
    const ledger = make(60_000, () => 9_000_000);
    const key = unique('release');
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => ledger.record(key, { releaseId: `r-${i}`, outcome: 'started' })),
    );
    const winners = results.flatMap((r, i) => (r === null ? [i] : []));
    assert.equal(winners.length, 1);
    const standing = { releaseId: `r-${winners[0]}`, outcome: 'started' };
    assert.ok(results.every((r) => r === null || (r.releaseId === standing.releaseId && r.outcome === 'started')));
    assert.deepEqual(await ledger.get(key), standing);
  });
}

export function usedTokenStoreContract(make: (now: Clock) => UsedTokenStore): void {
  const digest = (): string => crypto.createHash('sha256').update(unique('id-token')).digest('hex');

  it('used tokens: the first claim wins; a claim before expiry is refused; after expiry it may be claimed again', async () => {
    let now = 11_000_000;
    const store = make(() => now);
    const a = digest();
    assert.equal(await store.claim(a, now + 1000), true, 'first use');
    assert.equal(await store.claim(a, now + 1000), false, 'replay');
    assert.equal(await store.claim(digest(), now + 1000), true, 'another token is not affected');
    now += 999;
    assert.equal(await store.claim(a, now + 1000), false, 'still remembered just before its expiry');
    now += 1;
    assert.equal(await store.claim(a, now + 1000), true, 'forgotten once expired (the verifier refuses it by exp)');
    assert.equal(await store.claim(a, now + 1000), false);
  });

  it('used tokens: of parallel claims of one token exactly one wins', async () => {
    const store = make(() => 12_000_000);
    const a = digest();
    const results = await Promise.all(Array.from({ length: 10 }, () => store.claim(a, 12_060_000)));
    assert.equal(results.filter(Boolean).length, 1, JSON.stringify(results));
  });
}
