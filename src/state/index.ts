// The shared-state database of API replicas (PostgreSQL): connection, versioned migrations under an advisory lock.
export { openStateDatabase, inTransaction, StateDatabaseError, type Queryable, type StateDatabase } from './database';
export { migrate, MigrationError } from './migrate';
export { MIGRATIONS, type Migration } from './migrations';
