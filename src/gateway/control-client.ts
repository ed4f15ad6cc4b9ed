import type { RouteControl } from '../contracts/ports';
import type { RouteState } from '../domain';
import type { GatewayRouteTable } from './routing';

export class GatewayControlError extends Error {
  override name = 'GatewayControlError';
  constructor(
    message: string,
    readonly status: number,
    readonly current: GatewayRouteTable | null,
  ) {
    super(message);
  }
}

/**
 * The control API as activities call it: PUT /control/routes/<model> with the bearer token. A table
 * the gateway already holds (same version, same content) is success, so a retried activity is safe;
 * a 409 means someone else moved the table (non-retryable for the caller to judge).
 */
export class GatewayRouteControl implements RouteControl {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  async apply(modelName: string, routes: RouteState | GatewayRouteTable): Promise<void> {
    await this.put(modelName, routes);
  }

  async put(
    modelName: string,
    table: RouteState | GatewayRouteTable,
    expectedVersion?: number | null,
  ): Promise<GatewayRouteTable> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.token}`,
      'content-type': 'application/json',
    };
    if (expectedVersion !== undefined)
      headers['if-match'] = expectedVersion === null ? '"none"' : `"${expectedVersion}"`;
    const res = await fetch(new URL(`/control/routes/${encodeURIComponent(modelName)}`, this.baseUrl), {
      method: 'PUT',
      headers,
      body: JSON.stringify(table),
    });
    const body = (await res.json()) as { error?: string; current?: GatewayRouteTable | null } & GatewayRouteTable;
    if (!res.ok)
      throw new GatewayControlError(
        `gateway refused route table v${table.version} for ${modelName}: ${res.status} ${body.error ?? ''}`,
        res.status,
        body.current ?? null,
      );
    return body;
  }

  async current(modelName: string): Promise<GatewayRouteTable | null> {
    const res = await fetch(new URL(`/control/routes/${encodeURIComponent(modelName)}`, this.baseUrl), {
      headers: { authorization: `Bearer ${this.token}` },
    });
    if (res.status === 404) return null;
    if (!res.ok) throw new GatewayControlError(`gateway answered ${res.status}`, res.status, null);
    return (await res.json()) as GatewayRouteTable;
  }
}
