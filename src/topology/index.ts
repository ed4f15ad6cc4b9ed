// The production topology (Temporal on PostgreSQL, replicated workers, API behind nginx, gateways): its spec, which
// docker-compose.yml mirrors, and the launcher the topology tests run it with.
export {
  SERVICE_NAMES,
  TOPOLOGY,
  DATABASES,
  FILES,
  SECRETS,
  EVIDENCE_BUCKET,
  TEMPORAL_NAMESPACE,
  placeholders,
  resolveEnv,
  type ServiceName,
  type ServiceSpec,
  type EnvContext,
} from './spec';
export { startTopology, type Topology, type TopologyOptions, type Replica, type NodeServiceName } from './launcher';
export { nginxConfig } from './nginx';
export { temporalServerConfig } from './temporal-server';
