/**
 * Input drift against the locked validation reference: PSI (./psi), two-sample KS (./ks) and Pearson χ² for
 * categorical features (./chi-square). One import for the activities and telemetry code that measures drift;
 * the formulas and references are in each file.
 */
export * from './psi';
export * from './ks';
export * from './chi-square';
