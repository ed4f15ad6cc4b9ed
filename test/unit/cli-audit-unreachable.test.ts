/**
 * Exit 4 is kept for a store that cannot be reached at all (issue #19 item 3): `vigil evidence verify` and
 * `vigil audit` against an S3 endpoint where nothing answers say so in one line and exit 4, not 3 (an integrity
 * failure) and not a crash. (Exit 3 for an unreadable or hidden object with the other checks' results:
 * test/integration/audit-versions.test.ts.)
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { it } from 'node:test';
import { run, type CliIo } from '../../src/cli/program';

/**
 * A loopback endpoint that answers nothing: every connection is closed at once. Held for the test (a closed port
 * could be taken by another process between pick and use).
 */
async function deadEndpoint(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function cli(argv: string[], env: Record<string, string>) {
  let out = '';
  let err = '';
  const value: CliIo = {
    env,
    stdout: (t) => void (out += t),
    stderr: (t) => void (err += t),
    readStdin: async () => '',
  };
  const code = await run(argv, value);
  return { code, out, err };
}

for (const argv of [
  ['evidence', 'verify', 'sepsis-alert-aaaaaaaaaaaa-bbbbbbbb-1'],
  ['audit', 'sepsis-alert-aaaaaaaaaaaa-bbbbbbbb-1', '--from-archive'],
]) {
  it(`vigil ${argv.slice(0, 2).join(' ')} exits 4 naming the store when nothing answers at its endpoint`, async () => {
    const dead = await deadEndpoint();
    const r = await cli(argv, { VIGIL_S3_ENDPOINT: dead.url }).finally(dead.close);
    assert.equal(r.code, 4, `${r.out}\n${r.err}`);
    assert.match(r.err, /^vigil: evidence store unreachable: /m);
    assert.doesNotMatch(r.out, /AUDIT PASSED|evidence verified/);
  });
}
