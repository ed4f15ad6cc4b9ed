export * from './stages';
export * from './policy';
export * from './release';
export * from './approval';
export * from './evidence';
export * from './errors';
export * from './measurements';
