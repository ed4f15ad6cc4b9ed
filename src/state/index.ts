// The shared-state database of API replicas (PostgreSQL): connection, versioned migrations under an advisory lock.
export { openStateDatabase, inTransaction, StateDatabaseError, type StateDatabase } from './database';
export { guarded, isOutage, StateUnavailableError, type Queryable } from './unavailable';
export { migrate, MigrationError } from './migrate';
export { MIGRATIONS, type Migration } from './migrations';
