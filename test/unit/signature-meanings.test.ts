import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_SIGNATURE_MEANINGS,
  FileIdentityProvider,
  meaningRefusal,
  meaningsFor,
  NO_USERS,
} from '../../src/auth';
import { formatLocalAndUtc } from '../../src/report/time';

const HASH = 'scrypt$32768$8$1$pyY95+7QG/sA1Zw4GPVIsw==$0xlMCHL7flmTi91liFnNn/6/HrZJc3MEJoaaWuoZcYA=';
const user = (extra = '') =>
  `  - id: dana.qa\n    name: Dana Whitfield\n    roles: [qa]\n    passwordHash: '${HASH}'\n${extra}`;

describe('signature meanings and time zones from the users file', () => {
  it('takes the meanings a role may sign with from the file; roles it does not list get the defaults', () => {
    const ids = FileIdentityProvider.fromYaml(
      `meanings:\n  qa: [reviewed as quality reviewer, approved for release]\nusers:\n${user()}`,
    );
    assert.deepEqual(meaningsFor(ids, 'qa'), ['reviewed as quality reviewer', 'approved for release']);
    assert.deepEqual(meaningsFor(ids, 'clinical'), [...DEFAULT_SIGNATURE_MEANINGS]);
    assert.deepEqual(meaningsFor(NO_USERS, 'regulatory'), ['reviewed', 'approved', 'responsible for']);
    assert.equal(meaningRefusal(ids, 'qa', 'approved for release'), null);
    assert.equal(
      meaningRefusal(ids, 'qa', 'approved'),
      'meaning "approved" is not one of the defined meanings for qa: "reviewed as quality reviewer", "approved for release"',
    );
  });

  it('refuses an unknown role in the meanings and an invalid time zone, naming the field', () => {
    assert.throws(() => FileIdentityProvider.fromYaml(`meanings:\n  dev: [reviewed]\nusers:\n${user()}`), /meanings/);
    assert.throws(
      () => FileIdentityProvider.fromYaml(`users:\n${user('    timeZone: Mars/Olympus\n')}`),
      /users\.0\.timeZone: an IANA time zone/,
    );
    const ids = FileIdentityProvider.fromYaml(`users:\n${user('    timeZone: America/New_York\n')}`);
    assert.equal(ids.lookup('dana.qa')!.timeZone, 'America/New_York');
  });

  it("shows an instant in the zone and in UTC (checked against the zones' published offsets)", () => {
    // Berlin is UTC+1 in winter (CET), UTC+2 in summer (CEST); New York UTC−5 (EST) in winter.
    assert.equal(
      formatLocalAndUtc('2026-01-15T12:00:00.000Z', 'Europe/Berlin'),
      '2026-01-15 13:00:00 CET (Europe/Berlin) · 2026-01-15 12:00:00 UTC',
    );
    assert.match(formatLocalAndUtc('2026-07-15T12:00:00.000Z', 'Europe/Berlin'), /^2026-07-15 14:00:00 CEST/);
    assert.match(formatLocalAndUtc('2026-01-15T03:30:00.000Z', 'America/New_York'), /^2026-01-14 22:30:00 /);
    assert.equal(formatLocalAndUtc('2026-01-15T12:00:00.000Z'), '2026-01-15 12:00:00 UTC');
    assert.equal(formatLocalAndUtc('not a time', 'Europe/Berlin'), 'not a time');
  });
});
