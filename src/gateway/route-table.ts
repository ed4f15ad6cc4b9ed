import type { Logger } from '../logging/logger';
import { GatewayRouteTableSchema, versionsOf, type GatewayRouteTable } from './routing';
import type { S3RouteStore } from './route-store';

export type SwapResult =
  | { ok: true; table: GatewayRouteTable; changed: boolean }
  | { ok: false; status: 409; reason: string; current: GatewayRouteTable | null }
  | { ok: false; status: 422; reason: string; current: GatewayRouteTable | null };

/**
 * The live route tables, one per model, each replaced as a whole (readers hold the object they got,
 * so a request never sees half a table). Versions only move forward; a swap may also name the
 * version it expects to replace (If-Match) for a strict compare-and-set.
 */
export class RouteTables {
  private readonly tables = new Map<string, GatewayRouteTable>();
  /** Swaps of one model run one at a time, so the store and memory never disagree about who won. */
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(
    /** Versions each model has loaded: a table naming anything else is refused. */
    private readonly loaded: (model: string) => ReadonlySet<string> | undefined,
    private readonly persist?: { store: S3RouteStore; log?: Logger },
  ) {}

  get(model: string): GatewayRouteTable | undefined {
    return this.tables.get(model);
  }

  models(): string[] {
    return [...this.tables.keys()];
  }

  /**
   * Same version and same content: idempotent success (a retried activity). Otherwise the new version
   * must be greater than the current one and, when `expectedVersion` is given (If-Match), the current
   * version must be exactly that (null = no table yet): anything else is a 409 conflict.
   */
  swap(model: string, input: unknown, expectedVersion?: number | null): Promise<SwapResult> {
    const run = (this.locks.get(model) ?? Promise.resolve()).then(() => this.swapNow(model, input, expectedVersion));
    this.locks.set(
      model,
      run.catch(() => undefined),
    );
    return run;
  }

  private async swapNow(model: string, input: unknown, expectedVersion?: number | null): Promise<SwapResult> {
    const parsed = GatewayRouteTableSchema.safeParse(input);
    const current = this.tables.get(model) ?? null;
    if (!parsed.success)
      return {
        ok: false,
        status: 422,
        reason: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
        current,
      };
    const next = parsed.data;
    const loaded = this.loaded(model);
    if (!loaded) return { ok: false, status: 422, reason: `model "${model}" is not served by this gateway`, current };
    const missing = versionsOf(next).filter((v) => !loaded.has(v));
    if (missing.length)
      return { ok: false, status: 422, reason: `versions not loaded: ${missing.join(', ')}`, current };
    if (current && next.version === current.version && JSON.stringify(current) === JSON.stringify(next))
      return { ok: true, table: current, changed: false };
    if (expectedVersion !== undefined && expectedVersion !== (current?.version ?? null)) {
      return {
        ok: false,
        status: 409,
        reason: `expected version ${expectedVersion}, current is ${current?.version ?? 'none'}`,
        current,
      };
    }
    if (current && next.version <= current.version) {
      return {
        ok: false,
        status: 409,
        reason: `version ${next.version} is not newer than current ${current.version}`,
        current,
      };
    }
    // Durable first: a table the store does not hold would be lost on restart.
    if (this.persist) await this.persist.store.apply(model, next);
    // A poll may have adopted a newer table from the store meanwhile: never move backwards.
    const now = this.tables.get(model) ?? null;
    if (now !== current && now !== null && now.version >= next.version) {
      return {
        ok: false,
        status: 409,
        reason: `version ${now.version} was adopted from the route store meanwhile`,
        current: now,
      };
    }
    this.tables.set(model, next);
    this.persist?.log?.info({ model, version: next.version }, 'route table swapped');
    return { ok: true, table: next, changed: true };
  }

  /** Adopt a newer table from the route store (another gateway replica or the setRoutes activity wrote it). */
  adopt(model: string, input: unknown): boolean {
    const parsed = GatewayRouteTableSchema.safeParse(input);
    if (!parsed.success) return false;
    const current = this.tables.get(model);
    if (current && parsed.data.version <= current.version) return false;
    const loaded = this.loaded(model);
    if (!loaded || versionsOf(parsed.data).some((v) => !loaded.has(v))) return false;
    this.tables.set(model, parsed.data);
    return true;
  }
}

/** Poll the S3 route store and adopt newer tables; returns a stop function. */
export function pollRouteStore(
  store: S3RouteStore,
  tables: RouteTables,
  models: readonly string[],
  intervalMs: number,
  log?: Logger,
): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async (): Promise<void> => {
    for (const m of models) {
      try {
        const t = await store.current(m);
        if (t && tables.adopt(m, t)) log?.info({ model: m, version: t.version }, 'route table adopted from store');
      } catch (err) {
        log?.warn({ err, model: m }, 'route store poll failed');
      }
    }
    if (!stopped) timer = setTimeout(() => void tick(), intervalMs);
  };
  void tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
