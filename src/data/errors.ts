/**
 * The one error type at the data boundary. `row` is the 1-based data row (the header is not counted),
 * `column` the column name; both are set whenever the problem sits in one cell or one row.
 */
export type DatasetErrorCode =
  | 'unreadable'
  | 'empty'
  | 'missing-column'
  | 'duplicate-column'
  | 'unexpected-column'
  | 'nested-column'
  | 'ragged-row'
  | 'type-mismatch'
  | 'non-finite'
  | 'bad-label'
  | 'missing-value'
  | 'duplicate-id'
  | 'digest-mismatch'
  | 'coverage';

export class DatasetError extends Error {
  override readonly name = 'DatasetError';
  constructor(
    readonly code: DatasetErrorCode,
    message: string,
    readonly row?: number,
    readonly column?: string,
  ) {
    super(message);
  }
}
