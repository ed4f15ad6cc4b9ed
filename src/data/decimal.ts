/**
 * Decimal text to a double, straight from bytes. Accepts exactly `[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?`
 * and returns what `Number(text)` returns (NaN when the text does not match).
 * Fast path (Clinger 1990): up to 15 significant digits and a power of ten up to 10^22 are both exact
 * doubles, so one multiplication or division is correctly rounded, as `Number` is; otherwise `Number`.
 */
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

export function parseDecimal(buf: Uint8Array, s: number, e: number): number {
  let i = s;
  let negative = false;
  if (i < e && (buf[i] === 0x2b || buf[i] === 0x2d)) negative = buf[i++] === 0x2d;
  let mantissa = 0;
  let digits = 0; // significant digits accumulated (leading zeros not counted)
  let intDigits = 0;
  let fracDigits = 0;
  let scale = 0; // power of ten applied to the mantissa
  while (i < e) {
    const d = buf[i]! - 0x30;
    if (d < 0 || d > 9) break;
    intDigits++;
    if (mantissa !== 0 || d !== 0) digits++;
    mantissa = mantissa * 10 + d;
    i++;
  }
  if (i < e && buf[i] === 0x2e) {
    i++;
    while (i < e) {
      const d = buf[i]! - 0x30;
      if (d < 0 || d > 9) break;
      fracDigits++;
      if (mantissa !== 0 || d !== 0) digits++;
      mantissa = mantissa * 10 + d;
      scale--;
      i++;
    }
  }
  if (intDigits === 0 && fracDigits === 0) return NaN;
  if (i < e && (buf[i] === 0x65 || buf[i] === 0x45)) {
    i++;
    let expNegative = false;
    if (i < e && (buf[i] === 0x2b || buf[i] === 0x2d)) expNegative = buf[i++] === 0x2d;
    let exp = 0;
    let expDigits = 0;
    while (i < e) {
      const d = buf[i]! - 0x30;
      if (d < 0 || d > 9) break;
      if (exp < 1e6) exp = exp * 10 + d;
      expDigits++;
      i++;
    }
    if (expDigits === 0) return NaN;
    scale += expNegative ? -exp : exp;
  }
  if (i !== e) return NaN;
  if (digits > 15 || scale > 22 || scale < -22)
    return Number(Buffer.from(buf.buffer, buf.byteOffset + s, e - s).toString('latin1'));
  const v = scale >= 0 ? mantissa * POW10[scale]! : mantissa / POW10[-scale]!;
  return negative ? -v : v;
}
