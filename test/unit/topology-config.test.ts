/** The topology's generated configuration: env templates filled, nginx round robin, the Temporal server's YAML. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { nginxConfig, resolveEnv, TOPOLOGY, temporalServerConfig, type EnvContext } from '../../src/topology';

const ctx = (calls: string[]): EnvContext => ({
  address: (s, p) => (calls.push(`address:${s}.${p}`), `${s}-host:${p}`),
  selfPort: (p) => (calls.push(`self:${p}`), 9000),
  selfId: 'svc-1',
  bind: '0.0.0.0',
  db: (n) => (calls.push(`db:${n}`), `postgres://u:p@pg:5432/${n}`),
  secret: (n) => (calls.push(`secret:${n}`), `secret-of-${n}`),
  file: (n) => (calls.push(`file:${n}`), `/files/${n}`),
  dir: (n) => (calls.push(`dir:${n}`), `/own/${n}`),
  sharedDir: (n) => (calls.push(`shared:${n}`), `/shared/${n}`),
});

describe('topology env templates', () => {
  for (const service of ['worker', 'api', 'gateway'] as const) {
    it(`${service}: every placeholder is filled, nothing of a template is left`, () => {
      const calls: string[] = [];
      const env = resolveEnv(service, ctx(calls));
      assert.deepEqual(Object.keys(env).sort(), Object.keys(TOPOLOGY[service].env).sort());
      for (const [k, v] of Object.entries(env)) assert.doesNotMatch(v, /[{}]/, `${service} ${k} = ${v}`);
      assert.ok(calls.length > 0);
    });
  }

  it('fills the API replica the way the launcher relies on', () => {
    const env = resolveEnv('api', ctx([]));
    assert.equal(env.VIGIL_TEMPORAL_ADDRESS, 'temporal-host:frontend');
    assert.equal(env.VIGIL_S3_ENDPOINT, 'http://seaweedfs-host:s3');
    assert.equal(
      env.VIGIL_S3_ACCESS_KEY_ID,
      'secret-of-s3-reader-id',
      'the API reads evidence as the read-only identity',
    );
    assert.equal(env.VIGIL_API_PORT, '9000');
    assert.equal(env.VIGIL_API_HOST, '0.0.0.0');
    assert.equal(env.VIGIL_API_URL, 'http://nginx-host:http');
    assert.equal(env.VIGIL_STATE_DATABASE_URL, 'postgres://u:p@pg:5432/vigil_state');
    // nginx connects from loopback: its X-Forwarded-For names the client (the topology test proves it end to end).
    assert.equal(env.VIGIL_TRUSTED_PROXIES, '127.0.0.0/8');
  });

  it('gives workers no state-database credentials (only the API reads it)', () => {
    assert.equal(resolveEnv('worker', ctx([])).VIGIL_STATE_DATABASE_URL, undefined);
  });
});

describe('nginx config', () => {
  const conf = nginxConfig({ stateDir: '/state/nginx', listenPort: 12345, upstreams: ['127.0.0.1:1', '127.0.0.1:2'] });

  it('balances every replica round robin, without stickiness', () => {
    assert.match(conf, /server 127\.0\.0\.1:1 max_fails=1 fail_timeout=5s;/);
    assert.match(conf, /server 127\.0\.0\.1:2 max_fails=1 fail_timeout=5s;/);
    assert.doesNotMatch(conf, /ip_hash|\bhash\b|sticky|least_conn/);
    assert.match(conf, /listen 127\.0\.0\.1:12345;/);
  });

  it('runs in the foreground with pid, logs and temp files in its state dir', () => {
    assert.match(conf, /^daemon off;$/m);
    assert.match(conf, /^pid \/state\/nginx\/nginx\.pid;$/m);
    assert.match(conf, /error_log \/state\/nginx\/error\.log/);
    assert.match(conf, /client_body_temp_path \/state\/nginx\/tmp\/body;/);
  });

  it('replaces X-Forwarded-For with the address it saw, never appending what a client wrote', () => {
    const xff = [...conf.matchAll(/proxy_set_header X-Forwarded-For (\S+);/g)].map((m) => m[1]);
    assert.deepEqual(xff, ['$remote_addr']);
  });

  it('never repeats a POST a replica may have acted on', () => {
    const next = /proxy_next_upstream ([^;]+);/.exec(conf)?.[1] ?? '';
    assert.ok(next.includes('error'), next);
    assert.ok(!next.includes('non_idempotent'), next);
  });
});

describe('Temporal server config', () => {
  const ports = {
    frontend: 20001,
    frontendHttp: 20002,
    history: 20003,
    matching: 20004,
    internalWorker: 20005,
    frontendMembership: 20006,
    historyMembership: 20007,
    matchingMembership: 20008,
    internalWorkerMembership: 20009,
  };
  const cfg = parse(
    temporalServerConfig({ host: '127.0.0.1', port: 5433, user: 'vigil', password: 'p"w' }, ports, '/d/dc.yaml'),
  ) as {
    persistence: {
      defaultStore: string;
      visibilityStore: string;
      datastores: Record<string, { sql: Record<string, unknown> }>;
    };
    services: Record<string, { rpc: Record<string, unknown> }>;
    clusterMetadata: { clusterInformation: { active: { rpcAddress: string } } };
    dynamicConfigClient: { filepath: string };
  };

  it('persists to PostgreSQL with SQL visibility in its own database', () => {
    const { datastores, defaultStore, visibilityStore } = cfg.persistence;
    assert.equal(datastores[defaultStore]!.sql.pluginName, 'postgres12');
    assert.equal(datastores[defaultStore]!.sql.databaseName, 'temporal');
    assert.equal(datastores[visibilityStore]!.sql.pluginName, 'postgres12');
    assert.equal(datastores[visibilityStore]!.sql.databaseName, 'temporal_visibility');
    assert.equal(datastores[defaultStore]!.sql.connectAddr, '127.0.0.1:5433');
    assert.equal(datastores[defaultStore]!.sql.password, 'p"w', 'a password with a quote survives the YAML');
  });

  it('puts each service on its port, bound to loopback', () => {
    assert.deepEqual(cfg.services.frontend!.rpc, {
      grpcPort: 20001,
      membershipPort: 20006,
      bindOnLocalHost: true,
      httpPort: 20002,
    });
    assert.equal(cfg.services.history!.rpc.grpcPort, 20003);
    assert.equal(cfg.services.matching!.rpc.membershipPort, 20008);
    assert.equal(cfg.services.worker!.rpc.grpcPort, 20005);
    assert.equal(cfg.clusterMetadata.clusterInformation.active.rpcAddress, '127.0.0.1:20001');
    assert.equal(cfg.dynamicConfigClient.filepath, '/d/dc.yaml');
  });
});
