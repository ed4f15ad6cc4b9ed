/**
 * docker-compose.yml and src/topology/spec.ts (what `npm run test:topology` runs) describe one topology. This keeps
 * them in step: the same services and replica counts, each replica's environment exactly the spec's with its
 * placeholders filled the way compose fills them, the same ports, start order and databases. A difference that is
 * meant (production values where the spec has test values) is listed below with its reason, on both sides, so it
 * cannot change unnoticed either.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  DATABASES,
  EVIDENCE_BUCKET,
  SERVICE_NAMES,
  TEMPORAL_NAMESPACE,
  TOPOLOGY,
  placeholders,
  resolveEnv,
  type EnvContext,
  type ServiceName,
} from '../../src/topology/spec';
import {
  argv,
  compose,
  containerEnv,
  inlineEnv,
  interpolate,
  makeSecrets,
  mounts,
  parseEnvFile,
  readRepo,
  type ComposeService,
} from '../support/compose-file';

const services = compose.services;

/** Services only compose has, and why the topology test does without them. */
const COMPOSE_ONLY: Record<string, string> = {
  'temporal-ui': "Temporal's Web UI for operators; the topology tests talk to Temporal directly",
  setup: 'the one-shot bucket, search-attribute and signing-key setup the launcher does in-process',
};

/** Values production sets differently from the test topology, each with its reason (names never differ). */
const PRODUCTION_VALUES: Array<{ service: ServiceName; key: string; spec: string; compose: string; why: string }> = [
  ...(['worker', 'api', 'gateway'] as const).map((service) => ({
    service,
    key: 'VIGIL_RETENTION_DAYS',
    spec: '1',
    compose: '2555',
    why: 'evidence is kept ~7 years; tests lock for a day',
  })),
  {
    service: 'worker',
    key: 'VIGIL_LIVE_SOURCE',
    spec: 'simulated',
    compose: 'gateway-telemetry',
    why: 'production measures the gateways; the topology tests run releases without a traffic driver',
  },
  {
    service: 'api',
    key: 'VIGIL_TRUSTED_PROXIES',
    spec: '127.0.0.0/8',
    compose: '172.16.0.0/12,192.168.0.0/16,10.0.0.0/8',
    why: "nginx's network: loopback in the test topology, Docker's private ranges (its gateway included) in compose",
  },
  {
    service: 'gateway',
    key: 'VIGIL_GATEWAY_SEGMENT_MAX_AGE_MS',
    spec: '2000',
    compose: '10000',
    why: "the default; tests' live windows are seconds long",
  },
];

/**
 * Settings only compose has, each with its reason. When the spec gains one, its value is compared like any other
 * (then it belongs in PRODUCTION_VALUES if it differs).
 */
const COMPOSE_ONLY_ENV: Array<{ service: ServiceName; key: string; why: string }> = [];

/** Settings the spec gives that compose leaves out, each with its reason (least privilege). */
const SPEC_ONLY_ENV: Array<{ service: ServiceName; key: string; why: string }> = [];

/** Compose service names of a spec service's replicas: `<service>-<n>` when replicated (= {self.id}), else its name. */
function replicaNames(service: ServiceName): string[] {
  const n = TOPOLOGY[service].replicas;
  return n === 1 ? [service] : Array.from({ length: n }, (_, i) => `${service}-${i + 1}`);
}

/** The host port compose publishes `target` of `service` on, if it does. */
function published(svc: ComposeService, target: number): number | undefined {
  for (const p of svc.ports ?? []) {
    const parts = String(p).split(':');
    if (Number(parts[parts.length - 1]) === target) return Number(parts[parts.length - 2]);
  }
  return undefined;
}

/** Where compose puts what the spec's {file:…} names: a mounted path, or the image's own build. */
const FILE_PATHS: Record<string, string> = {
  users: '/etc/vigil/users.yaml',
  'gateway-models': '/etc/vigil/config/gateway-models.example.yaml',
  'workflow-bundle': '/app/dist/workflow-bundle.js',
};

describe('docker-compose.yml keeps in step with src/topology/spec.ts', () => {
  let secretsDir = '';
  let values: Record<string, string> = {};
  before(() => {
    secretsDir = makeSecrets();
    values = parseEnvFile(fs.readFileSync(path.join(secretsDir, 'values.env'), 'utf8'));
  });
  after(() => fs.rmSync(secretsDir, { recursive: true, force: true }));

  /** The spec's {secret:…} names → what make-secrets.sh generates for them (ids are fixed identity names). */
  const secret = (name: string): string => {
    const map: Record<string, string | undefined> = {
      'api-token': values.VIGIL_API_TOKEN,
      's3-writer-id': 'vigil',
      's3-writer-secret': values.S3_WRITER_SECRET,
      's3-reader-id': 'vigil-reader',
      's3-reader-secret': values.S3_READER_SECRET,
      'gateway-control-token': values.GATEWAY_CONTROL_TOKEN,
      'gateway-case-id-key': values.GATEWAY_CASE_ID_KEY,
    };
    const v = map[name];
    assert.ok(v, `the spec names secret ${name}, which infra/compose/make-secrets.sh does not make`);
    return v;
  };

  /** How compose fills the spec's placeholders for replica `id` of `service`. */
  const composeContext = (service: ServiceName, id: string): EnvContext => ({
    // nginx is the address people and the CLI use: its published port on the host. Everything else is reached on
    // the compose network by service name and container port.
    address: (svc, port) =>
      svc === 'nginx'
        ? `localhost:${published(services.nginx!, TOPOLOGY.nginx.ports[port]!)}`
        : `${svc}:${TOPOLOGY[svc].ports[port]}`,
    selfPort: (port) => TOPOLOGY[service].ports[port]!,
    selfId: id,
    bind: '0.0.0.0',
    db: (name) => `postgres://vigil_state:${values.VIGIL_STATE_DB_PASSWORD}@postgres:5432/${name}`,
    secret,
    file: (name) => FILE_PATHS[name] ?? assert.fail(`no compose path for file ${name}`),
    dir: (name) => `/var/lib/vigil/${name}`,
    sharedDir: (name) => `/var/lib/vigil/${name}`,
  });

  it('has every spec service with its replica count, and nothing else but the compose-only services', () => {
    const expected = new Set(SERVICE_NAMES.flatMap(replicaNames));
    for (const name of expected) assert.ok(services[name], `compose lacks ${name}`);
    for (const s of SERVICE_NAMES) {
      const n = TOPOLOGY[s].replicas;
      assert.ok(!services[`${s}-${n + 1}`], `compose has more ${s} replicas than the spec's ${n}`);
      if (n > 1) assert.ok(!services[s], `compose has an unnumbered ${s} beside its replicas`);
    }
    const extra = Object.keys(services).filter((n) => !expected.has(n) && !(n in COMPOSE_ONLY));
    assert.deepEqual(extra, [], 'compose services the spec does not have');
    assert.ok(TOPOLOGY.worker.replicas >= 2 && TOPOLOGY.api.replicas >= 2 && TOPOLOGY.gateway.replicas >= 2);
  });

  it("gives each replica exactly the spec's environment, placeholders filled the compose way", () => {
    for (const s of SERVICE_NAMES) {
      if (TOPOLOGY[s].run.kind !== 'node') continue;
      for (const id of replicaNames(s)) {
        const expected = resolveEnv(s, composeContext(s, id));
        for (const d of PRODUCTION_VALUES.filter((p) => p.service === s)) {
          assert.equal(expected[d.key], d.spec, `${s} ${d.key}: the spec's value changed; revisit PRODUCTION_VALUES`);
          expected[d.key] = d.compose;
        }
        for (const { key } of SPEC_ONLY_ENV.filter((o) => o.service === s)) {
          assert.ok(key in expected, `${s}: ${key} is listed as spec-only but the spec does not set it`);
          delete expected[key];
        }
        const actual = containerEnv(services[id]!, secretsDir);
        for (const { key } of COMPOSE_ONLY_ENV.filter((o) => o.service === s && !(o.key in expected))) {
          assert.ok(key in actual, `${id}: ${key} is listed as compose-only but compose does not set it`);
          delete actual[key];
        }
        assert.deepEqual(sorted(actual), sorted(expected), id);
      }
    }
  });

  it('keeps every secret and database URL out of docker-compose.yml, in the env files make-secrets.sh writes', () => {
    for (const s of SERVICE_NAMES) {
      for (const [key, template] of Object.entries(TOPOLOGY[s].env)) {
        if (!placeholders(template).some((p) => p.startsWith('secret:') || p.startsWith('db:'))) continue;
        for (const id of replicaNames(s))
          assert.equal(inlineEnv(services[id]!)[key], undefined, `${id} sets ${key} in docker-compose.yml`);
      }
    }
  });

  it('mounts {dir:…} per replica, {shared-dir:…} from one volume, and {file:…} where the env points', () => {
    const shared = new Map<string, string>();
    for (const s of SERVICE_NAMES) {
      for (const template of Object.values(TOPOLOGY[s].env)) {
        for (const p of placeholders(template)) {
          const colon = p.indexOf(':');
          const [kind, name] = colon < 0 ? [p, ''] : [p.slice(0, colon), p.slice(colon + 1)];
          for (const id of replicaNames(s)) {
            const m = mounts(services[id]!);
            if (kind === 'dir') {
              const v = m.find((x) => x.target === `/var/lib/vigil/${name}`);
              assert.ok(v && !v.source.startsWith('.'), `${id}: {dir:${name}} is not a volume`);
              const users = Object.entries(services).filter(([, other]) =>
                mounts(other).some((x) => x.source === v.source),
              );
              assert.deepEqual(
                users.map(([n]) => n),
                [id],
                `${id}: {dir:${name}} volume ${v.source} is not its own`,
              );
              assert.ok(compose.volumes && v.source in compose.volumes, `volume ${v.source} is not declared`);
            } else if (kind === 'shared-dir') {
              const v = m.find((x) => x.target === `/var/lib/vigil/${name}`);
              assert.ok(v, `${id}: {shared-dir:${name}} is not mounted`);
              assert.equal(shared.get(name) ?? v.source, v.source, `${id}: {shared-dir:${name}} from another volume`);
              shared.set(name, v.source);
            } else if (kind === 'file' && name !== 'workflow-bundle') {
              const file = FILE_PATHS[name]!;
              assert.ok(
                m.some((x) => x.readOnly && (file === x.target || file.startsWith(`${x.target}/`))),
                `${id}: {file:${name}} (${file}) is not in a read-only mount`,
              );
            }
          }
        }
      }
    }
    // The workflow bundle is built into the image, at the path the workers are given.
    assert.match(readRepo('Dockerfile'), /tsx infra\/bundle-workflows\.ts dist\/workflow-bundle\.js/);
  });

  it('listens, probes and publishes on the spec ports', () => {
    const api = TOPOLOGY.api.ports.http!;
    const gateway = TOPOLOGY.gateway.ports.http!;
    for (const id of replicaNames('api'))
      assert.match(argv(services[id]!.healthcheck?.test).join(' '), new RegExp(`127\\.0\\.0\\.1:${api}/healthz`));
    for (const id of replicaNames('gateway'))
      assert.match(argv(services[id]!.healthcheck?.test).join(' '), new RegExp(`127\\.0\\.0\\.1:${gateway}/v2/health`));
    assert.ok(argv(services.seaweedfs!.command).includes(`-s3.port=${TOPOLOGY.seaweedfs.ports.s3}`));
    assert.equal(inlineEnv(services.temporal!).DB_PORT, String(TOPOLOGY.postgres.ports.sql));
    // Every port compose publishes is one the spec names for that service (compose-only services aside).
    for (const s of SERVICE_NAMES) {
      const specPorts = Object.values(TOPOLOGY[s].ports);
      for (const id of replicaNames(s)) {
        for (const p of services[id]!.ports ?? []) {
          const target = Number(String(p).split(':').pop());
          assert.ok(specPorts.includes(target), `${id} publishes ${target}, not a port of the spec's ${s}`);
        }
      }
    }
    assert.ok(published(services.temporal!, TOPOLOGY.temporal.ports.frontend!), 'Temporal frontend not published');
    assert.ok(published(services.nginx!, TOPOLOGY.nginx.ports.http!), 'nginx not published');
  });

  it('balances the spec API replicas in nginx: round robin, no stickiness, on the spec ports', () => {
    const conf = readRepo('infra/compose/nginx.conf').replace(/#.*$/gm, '');
    const mount = mounts(services.nginx!).find((m) => m.target === '/etc/nginx/nginx.conf');
    assert.equal(mount?.source, './infra/compose/nginx.conf');
    assert.match(conf, new RegExp(`listen ${TOPOLOGY.nginx.ports.http};`));
    const upstream = /upstream vigil_api \{([^}]*)\}/.exec(conf)?.[1];
    assert.ok(upstream, 'no vigil_api upstream');
    const servers = [...upstream.matchAll(/^\s*server\s+(\S+)/gm)].map((m) => m[1]!);
    assert.deepEqual(
      servers,
      replicaNames('api').map((id) => `${id}:${TOPOLOGY.api.ports.http}`),
    );
    assert.doesNotMatch(upstream, /\b(ip_hash|hash|sticky|least_conn|random)\b/, 'not plain round robin');
    assert.match(conf, /proxy_pass http:\/\/vigil_api;/);
  });

  it('starts each service after the services the spec says it depends on', () => {
    const reaches = (from: string, to: string, seen = new Set<string>()): boolean => {
      if (seen.has(from)) return false;
      seen.add(from);
      const deps = Object.keys((services[from]?.depends_on as Record<string, unknown> | undefined) ?? {});
      return deps.includes(to) || deps.some((d) => reaches(d, to, seen));
    };
    for (const s of SERVICE_NAMES)
      for (const dep of TOPOLOGY[s].dependsOn)
        for (const id of replicaNames(s))
          for (const depId of replicaNames(dep))
            assert.ok(reaches(id, depId), `${id} may start before ${depId} (spec: ${s} depends on ${dep})`);
  });

  it('uses the spec databases, namespace and bucket', () => {
    // vigil_state: created by the init script beside Temporal's; Temporal's two: auto-setup's defaults, not renamed.
    const init = readRepo('infra/compose/postgres/10-vigil-state-db.sh');
    assert.match(init, new RegExp(`CREATE DATABASE ${DATABASES.state} OWNER`));
    const temporalEnv = inlineEnv(services.temporal!);
    assert.equal(temporalEnv.DBNAME ?? 'temporal', DATABASES.temporal);
    assert.equal(temporalEnv.VISIBILITY_DBNAME ?? 'temporal_visibility', DATABASES.temporalVisibility);
    const setup = inlineEnv(services.setup!);
    assert.equal(setup.VIGIL_TEMPORAL_NAMESPACE, TEMPORAL_NAMESPACE);
    assert.equal(setup.VIGIL_S3_BUCKET, EVIDENCE_BUCKET);
    assert.ok(argv(services.temporal!.healthcheck?.test).join(' ').includes(`--namespace ${TEMPORAL_NAMESPACE}`));
    assert.equal(interpolate('${X:-y}'), 'y'); // the interpolation the env comparison relies on
  });
});

function sorted(env: Record<string, string>): Array<[string, string]> {
  return Object.entries(env).sort(([a], [b]) => a.localeCompare(b));
}
