/**
 * 2 ∫₀^∞ exp(λs − λ²v/2) N(λ; 0, 1/ρ) dλ, the one-sided normal mixture's e-value, by composite Simpson on
 * [0, 40/√ρ] (widened for large s): independent of the closed form (Φ, log-sum-exp) the code uses.
 */
export function mixtureByQuadrature(s: number, v: number, rho: number): number {
  const upper = 40 / Math.sqrt(rho) + Math.max(0, (2 * s) / (v + rho));
  const steps = 20000;
  const h = upper / steps;
  const f = (l: number) =>
    2 * Math.exp(l * s - (l * l * v) / 2) * Math.sqrt(rho / (2 * Math.PI)) * Math.exp((-rho * l * l) / 2);
  let sum = f(0) + f(upper);
  for (let i = 1; i < steps; i++) sum += (i % 2 === 1 ? 4 : 2) * f(i * h);
  return (sum * h) / 3;
}
