/**
 * The two distributions a calibration check needs, written out here rather than taken from the
 * code under test: the binomial CDF (how many of n exact level-alpha tests reject by chance) and
 * the one-sample Kolmogorov-Smirnov test of p-values against Uniform(0, 1).
 */

/** P(X <= k) for X ~ Binomial(n, p), summing the pmf by its ratio recursion pmf(i + 1) = pmf(i) (n - i) / (i + 1) p / (1 - p). */
export function binomialCdf(k: number, n: number, p: number): number {
  let pmf = (1 - p) ** n;
  let cdf = pmf;
  for (let i = 0; i < k; i++) {
    pmf *= ((n - i) / (i + 1)) * (p / (1 - p));
    cdf += pmf;
  }
  return cdf;
}

/** The smallest k with P(X <= k) >= confidence: more than k rejections among n exact tests happen with probability below 1 - confidence. */
export function binomialAllowance(n: number, p: number, confidence: number): number {
  let k = 0;
  while (binomialCdf(k, n, p) < confidence) k++;
  return k;
}

/** D = sup_t |F_n(t) - t|, the Kolmogorov-Smirnov distance of the sample's empirical CDF from Uniform(0, 1). */
export function ksStatisticUniform(values: readonly number[]): number {
  const x = [...values].sort((u, v) => u - v);
  const n = x.length;
  let d = 0;
  for (let i = 0; i < n; i++) d = Math.max(d, (i + 1) / n - x[i], x[i] - i / n);
  return d;
}

/**
 * Asymptotic p-value of D for a sample of n: the Kolmogorov distribution's tail
 * Q(lambda) = 2 sum_{k>=1} (-1)^(k-1) exp(-2 k^2 lambda^2), at lambda = (sqrt(n) + 0.12 + 0.11 / sqrt(n)) D
 * (Stephens' small-sample correction, as in Numerical Recipes' probks). Accurate to a few percent
 * of the p-value for n in the hundreds, which is all a pass/fail at 0.01 needs.
 */
export function ksPValue(d: number, n: number): number {
  const root = Math.sqrt(n);
  const lambda = (root + 0.12 + 0.11 / root) * d;
  if (lambda < 0.2) return 1; // the series converges slowly there, and the tail is 1 to 7 digits
  let sum = 0;
  for (let k = 1; k <= 100; k++) {
    const term = Math.exp(-2 * k * k * lambda * lambda);
    sum += (k % 2 === 1 ? 1 : -1) * term;
    if (term < 1e-16) break;
  }
  return Math.min(1, Math.max(0, 2 * sum));
}
