/**
 * How a request names the case of each of its rows. `parameters.case_id` names the request: it is the
 * routing key (one request, one assignment, one backend call) and the case of a one-row request. A batch
 * names each row's case with a BYTES input tensor `case_id` of shape [N] or [N, 1] (the Open Inference
 * Protocol's way to send strings); without it, row i of an N-row batch is the case `<case_id>#<i>`, so
 * every row is a distinct prediction in telemetry and outcomes can still name it.
 */
import { OipRequestError, type InferRequest } from './oip';

/** The reserved input name of the per-row case id tensor (never a model feature). */
export const CASE_ID_INPUT = 'case_id';

type Tensor = InferRequest['inputs'][number];

/** The request without its `case_id` tensor (the same object when it has none), and that tensor. */
export function takeCaseIdInput(req: InferRequest): { request: InferRequest; caseIds: Tensor | null } {
  const inputs = req.inputs;
  let at = -1;
  for (let i = 0; i < inputs.length; i++) if (inputs[i]!.name === CASE_ID_INPUT) at = i;
  if (at < 0) return { request: req, caseIds: null };
  return { request: { ...req, inputs: inputs.filter((_, i) => i !== at) }, caseIds: inputs[at]! };
}

/** One case id per row; a 400 (OipRequestError) when the tensor does not fit the rows. */
export function rowCaseIds(requestCaseId: string, tensor: Tensor | null, rows: number): string[] {
  if (tensor === null) {
    if (rows === 1) return [requestCaseId];
    const ids = new Array<string>(rows);
    for (let i = 0; i < rows; i++) ids[i] = `${requestCaseId}#${i}`;
    return ids;
  }
  const where = `input "${CASE_ID_INPUT}"`;
  if (tensor.datatype !== 'BYTES') throw new OipRequestError(`${where}: datatype must be BYTES (one string per row)`);
  const s = tensor.shape;
  if (!(s.length === 1 || (s.length === 2 && s[1] === 1)) || s[0] !== rows)
    throw new OipRequestError(`${where}: shape must be [${rows}] or [${rows}, 1] (one id per row)`);
  const data = tensor.data;
  if (data.length !== rows) throw new OipRequestError(`${where}: ${rows} rows but ${data.length} case ids`);
  const ids = new Array<string>(rows);
  for (let i = 0; i < rows; i++) {
    const v = data[i];
    if (typeof v !== 'string' || v.length < 1 || v.length > 256)
      throw new OipRequestError(`${where}: row ${i} needs a case id of 1–256 characters`);
    ids[i] = v;
  }
  return ids;
}
