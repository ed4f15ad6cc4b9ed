/**
 * The one error type at the statistics boundary: bad input data (non-finite scores, labels outside {0,1},
 * length mismatches, unusable tuning data). `column` names the offending input, `row` the first bad row.
 */
export class StatsInputError extends Error {
  override readonly name = 'StatsInputError';
  constructor(
    message: string,
    readonly column?: string,
    readonly row?: number,
  ) {
    super(message);
  }
}
