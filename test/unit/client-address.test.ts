/** Which address the sign-in limits count: the socket's, or behind a trusted proxy the client it forwarded for. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientAddressOf, trustedProxyList } from '../../src/api/client-address';
import { ConfigError, loadConfig } from '../../src/config';

const nginx = trustedProxyList(['172.18.0.0/16', '::1']);

describe('clientAddressOf', () => {
  it('counts the socket address when no proxy is trusted, whatever X-Forwarded-For says', () => {
    assert.equal(clientAddressOf('203.0.113.7', '198.51.100.1', trustedProxyList([])), '203.0.113.7');
    assert.equal(clientAddressOf('203.0.113.7', '198.51.100.1', nginx), '203.0.113.7', 'not from the proxy');
  });

  it('behind a trusted proxy, counts the address the proxy saw', () => {
    assert.equal(clientAddressOf('172.18.0.5', '198.51.100.1', nginx), '198.51.100.1');
    assert.equal(clientAddressOf('::ffff:172.18.0.5', '198.51.100.1', nginx), '198.51.100.1', 'dual-stack socket');
    assert.equal(clientAddressOf('::1', '2001:db8::7', nginx), '2001:db8::7');
  });

  it('ignores what the client wrote to the left of the proxy: a forged header cannot change its address', () => {
    // The client sent "X-Forwarded-For: 10.9.9.9"; nginx appended the address it saw.
    assert.equal(clientAddressOf('172.18.0.5', '10.9.9.9, 198.51.100.1', nginx), '198.51.100.1');
    // Through two trusted hops.
    assert.equal(clientAddressOf('172.18.0.5', '10.9.9.9, 198.51.100.1, 172.18.0.9', nginx), '198.51.100.1');
  });

  it('falls back to the socket address for a malformed entry, and with no header', () => {
    assert.equal(clientAddressOf('172.18.0.5', 'rotating-garbage-1', nginx), '172.18.0.5');
    assert.equal(clientAddressOf('172.18.0.5', undefined, nginx), '172.18.0.5');
    assert.equal(clientAddressOf(undefined, '198.51.100.1', nginx), 'unknown');
  });
});

describe('VIGIL_TRUSTED_PROXIES', () => {
  it('takes IPs and CIDR ranges, comma-separated; unset trusts nobody', () => {
    assert.deepEqual(loadConfig({}).auth.trustedProxies, []);
    assert.deepEqual(loadConfig({ VIGIL_TRUSTED_PROXIES: '172.18.0.0/16, ::1 ,fd00::/8' }).auth.trustedProxies, [
      '172.18.0.0/16',
      '::1',
      'fd00::/8',
    ]);
  });

  it('refuses anything else, naming the variable', () => {
    for (const bad of ['nginx', '10.0.0.0/33', '::1/129', '10.0.0.1/8/1', '10.0.0.0/x']) {
      assert.throws(
        () => loadConfig({ VIGIL_TRUSTED_PROXIES: bad }),
        (e: Error) => e instanceof ConfigError && /VIGIL_TRUSTED_PROXIES: each entry must be an IP/.test(e.message),
        bad,
      );
    }
  });
});
