/** `vigil audit`'s text output shows each signature's OpenID authentication (and a withdrawal's) under it. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SignatureManifestation } from '../../src/audit';
import { signatureLines } from '../../src/cli/commands/audit';

const base: SignatureManifestation = {
  printedName: 'Dana Whitfield',
  signer: 'dana.qa',
  role: 'qa',
  decision: 'approve',
  meaning: 'approved',
  reason: 'ok',
  at: '2026-12-07T10:00:00.000Z',
  dossierSha256: 'c'.repeat(64),
  evidenceKey: 'sha256/sig',
  boundToDossier: true,
};

describe('vigil audit text: signatures', () => {
  it('a password signature is one line', () => {
    assert.deepEqual(signatureLines(base), ['signed: Dana Whitfield (qa) at 2026-12-07T10:00:00.000Z: "approved"']);
  });

  it('an OIDC signature shows provider, subject, auth_time and amr; a withdrawal shows its own', () => {
    const lines = signatureLines({
      ...base,
      authentication: {
        issuer: 'https://idp.example',
        subject: 's-1',
        authTime: '2026-12-07T09:58:00.000Z',
        amr: ['pwd', 'mfa'],
        acr: 'urn:loa:2',
      },
      withdrawn: {
        at: '2026-12-07T10:30:00.000Z',
        reason: 'wrong section',
        evidenceKey: 'sha256/w',
        authentication: { issuer: 'https://idp.example', subject: 's-1', authTime: '2026-12-07T10:29:00.000Z' },
      },
    });
    assert.deepEqual(lines, [
      'signed: Dana Whitfield (qa) at 2026-12-07T10:00:00.000Z: "approved"',
      '  authenticated at https://idp.example as s-1 at 2026-12-07T09:58:00.000Z (amr: pwd, mfa) (acr: urn:loa:2)',
      '  withdrawn at 2026-12-07T10:30:00.000Z: "wrong section"',
      '    authenticated at https://idp.example as s-1 at 2026-12-07T10:29:00.000Z',
    ]);
  });
});
