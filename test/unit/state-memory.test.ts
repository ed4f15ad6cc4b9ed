/** The single-process defaults of the shared-state stores meet the same contracts as the PostgreSQL stores. */
import { describe } from 'node:test';
import { InMemoryDeliveryLedger } from '../../src/api/webhooks';
import { MemoryLoginThrottle, MemorySessionStore, MemoryUsedTokenStore } from '../../src/auth';
import {
  deliveryLedgerContract,
  loginThrottleContract,
  sessionStoreContract,
  usedTokenStoreContract,
} from '../support/state-contracts';

describe('MemorySessionStore', () => sessionStoreContract((opts, now) => new MemorySessionStore(opts, now)));
describe('MemoryLoginThrottle', () => loginThrottleContract((opts, now) => new MemoryLoginThrottle(opts, now)));
describe('InMemoryDeliveryLedger', () =>
  deliveryLedgerContract((ttlMs, now) => new InMemoryDeliveryLedger({ maxEntries: 100, ttlMs, now })));
describe('MemoryUsedTokenStore', () => usedTokenStoreContract((now) => new MemoryUsedTokenStore(now)));
