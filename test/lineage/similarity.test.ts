import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  directScore,
  fittedScore,
  getMetric,
  linearizedScore,
  METRIC_NAMES,
  shiftAlongTangent,
  taylorScore,
  type FeatureMatrix,
  type MetricName,
  type MetricParams,
} from '../../src/lineage/similarity/index.js';
import { centreColumns, cheaperSummation, linearKernelStats } from '../../src/lineage/similarity/linear-kernel.js';

// ---------- helpers ----------

/** Seeded normal samples (mulberry32 + Box-Muller), so every run sees the same data. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  const uniform = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

function randomMatrix(next: () => number, n: number, d: number, scale = 1): Float64Array {
  const m = new Float64Array(n * d);
  for (let i = 0; i < m.length; i++) m[i] = scale * next();
  return m;
}

/** A random orthogonal D x D matrix (Gram-Schmidt on Gaussian columns), row-major. */
function randomOrthogonal(next: () => number, d: number): Float64Array {
  const cols: Float64Array[] = [];
  while (cols.length < d) {
    const v = Float64Array.from({ length: d }, () => next());
    for (const q of cols) {
      let dot = 0;
      for (let i = 0; i < d; i++) dot += v[i] * q[i];
      for (let i = 0; i < d; i++) v[i] -= dot * q[i];
    }
    const norm = Math.hypot(...v);
    for (let i = 0; i < d; i++) v[i] /= norm;
    cols.push(v);
  }
  const q = new Float64Array(d * d);
  for (let r = 0; r < d; r++) for (let c = 0; c < d; c++) q[r * d + c] = cols[c][r];
  return q;
}

/** scale * X Q + shift (applied to every row). */
function similarityTransform(x: Float64Array, q: Float64Array, n: number, d: number, scale: number, shift: number[]): Float64Array {
  const out = new Float64Array(n * d);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < d; c++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += x[r * d + k] * q[k * d + c];
      out[r * d + c] = scale * s + shift[c];
    }
  }
  return out;
}

function expectRelClose(actual: number, expected: number, rel: number, label: string): void {
  const tol = rel * Math.max(Math.abs(expected), 1e-3);
  expect(Math.abs(actual - expected), `${label}: got ${actual}, expected ${expected}`).toBeLessThanOrEqual(tol);
}

const raw = (name: MetricName, fp: FeatureMatrix, fc: FeatureMatrix, n: number, d: number, params?: MetricParams): number =>
  getMetric(name).raw(fp, fc, n, d, params);

// ---------- hand-worked values ----------

describe('raw values on hand-worked examples', () => {
  // Fp = [[1,2],[3,4]], Fc = [[0,2],[5,1]]  =>  d = Fp - Fc = [[1,0],[-2,3]], N = 2, D = 2, M = 4.
  const fp = Float32Array.of(1, 2, 3, 4);
  const fc = Float32Array.of(0, 2, 5, 1);

  it('l1 = -(1+0+2+3)/4 = -1.5', () => {
    expect(raw('l1', fp, fc, 2, 2)).toBe(-1.5);
  });

  it('l2 = -(1+0+4+9)/4 = -3.5, finalized to -sqrt(3.5)', () => {
    expect(raw('l2', fp, fc, 2, 2)).toBe(-3.5);
    expect(directScore(getMetric('l2'), fp, fc, 2, 2)).toBeCloseTo(-Math.sqrt(3.5), 14);
  });

  it('lp (p=4) = -(1+0+16+81)/4 = -24.5, finalized to -(24.5)^(1/4); p=3 gives -(1+8+27)/4 = -9', () => {
    expect(raw('lp', fp, fc, 2, 2)).toBe(-24.5);
    expect(directScore(getMetric('lp'), fp, fc, 2, 2)).toBeCloseTo(-(24.5 ** 0.25), 14);
    expect(raw('lp', fp, fc, 2, 2, { p: 3 })).toBe(-9);
  });

  it('linf = -(max(1,0) + max(2,3))/2 = -2', () => {
    expect(raw('linf', fp, fc, 2, 2)).toBe(-2);
  });

  it('lse with t=1: rows log(e^1+e^0) and log(e^2+e^3) => -(1 + log(1+e))', () => {
    expect(raw('lse', fp, fc, 2, 2, { t: 1 })).toBeCloseTo(-(1 + Math.log(1 + Math.E)), 13);
  });

  it('lse with t=4 clamps t|d| = 12 to 10: -(1/2)(1/4)(log(e^4+1) + log(e^8+e^10))', () => {
    const expected = -(Math.log(Math.exp(4) + 1) + Math.log(Math.exp(8) + Math.exp(10))) / 8;
    expect(raw('lse', fp, fc, 2, 2, { t: 4 })).toBeCloseTo(expected, 12);
  });

  it('lse with the default t=0.01 matches the formula worked by hand', () => {
    const t = 0.01;
    const rows = [Math.log(Math.exp(t) + 1), Math.log(Math.exp(2 * t) + Math.exp(3 * t))];
    expect(raw('lse', fp, fc, 2, 2)).toBeCloseTo(-(rows[0] + rows[1]) / (2 * t), 10);
  });

  // N = 4, D = 2, already centred: X rows (1,0),(-1,0),(0,1),(0,-1); Y rows (1,1),(-1,-1),(0,0),(0,0).
  // X^T X = 2I (|.|_F = 2 sqrt 2), Y^T Y = [[2,2],[2,2]] (|.|_F = 4), Y^T X = [[2,0],[2,0]] (|.|_F^2 = 8)
  // => CKA = 8 / (2 sqrt2 * 4) = 1/sqrt2. Offsets added below must not matter (samples are centred).
  const x4 = Float32Array.of(1 + 5, 0 + 5, -1 + 5, 0 + 5, 0 + 5, 1 + 5, 0 + 5, -1 + 5);
  const y4 = Float32Array.of(1 + 1, 1 - 2, -1 + 1, -1 - 2, 0 + 1, 0 - 2, 0 + 1, 0 - 2);
  // Z rows (1,0),(0,1),(-1,0),(0,-1): Z^T X = [[1,-1],[-1,1]] (|.|_F^2 = 4), Z^T Z = 2I => CKA = 4/8 = 1/2.
  const z4 = Float32Array.of(1, 0, 0, 1, -1, 0, 0, -1);

  it('cka: 1/sqrt(2) and 1/2 on two worked 4 x 2 examples; Pearson^2 for D = 1', () => {
    expect(raw('cka', x4, y4, 4, 2)).toBeCloseTo(Math.SQRT1_2, 14);
    expect(raw('cka', x4, z4, 4, 2)).toBeCloseTo(0.5, 14);
    // D = 1: CKA = corr^2. x = [1,2,3] -> [-1,0,1], y = [1,3,2] -> [-1,1,0]: (x.y)^2/(|x|^2|y|^2) = 1/4.
    expect(raw('cka', Float32Array.of(1, 2, 3), Float32Array.of(1, 3, 2), 3, 1)).toBeCloseTo(0.25, 14);
  });

  it('cka-unbiased: 1 and -1/2 on the same examples (Song et al. formula worked by hand)', () => {
    // X vs Y: K~ has -1 at (1,2),(2,1),(3,4),(4,3); L~ has -2 at (1,2),(2,1).
    //   tr(K~L~) = 4; 1'K~1 = -4, 1'L~1 = -4 -> 16/((3)(2)) = 8/3; K~1 = -1s, L~1 = (-2,-2,0,0) -> -2/2 * 4.
    //   HSIC(K,L) ~ 4 + 8/3 - 4 = 8/3; HSIC(K,K) ~ 4 + 8/3 - 4 = 8/3; HSIC(L,L) ~ 8 + 8/3 - 8 = 8/3 => 1.
    expect(raw('cka-unbiased', x4, y4, 4, 2)).toBeCloseTo(1, 13);
    // X vs Z: L~ has -1 at (1,3),(3,1),(2,4),(4,2): tr(K~L~) = 0, 8/3, -4 => -4/3; HSIC(L,L) = 8/3 => -1/2.
    expect(raw('cka-unbiased', x4, z4, 4, 2)).toBeCloseTo(-0.5, 13);
  });

  it('dc: x = [0,1,2], y = [0,2,1] gives R^2 = 252/360', () => {
    // a = [[0,1,2],[1,0,1],[2,1,0]], row means (1, 2/3, 1), grand 8/9 -> 9A = [[-10,2,8],[2,-4,2],[8,2,-10]]
    // b = [[0,2,1],[2,0,1],[1,1,0]], row means (1, 1, 2/3), grand 8/9 -> 9B = [[-10,8,2],[8,-10,2],[2,2,-4]]
    // 81<A,B> = 100+40+40 + 2(16+16+4) = 252; 81<A,A> = 81<B,B> = 216 + 2*72 = 360.
    expect(raw('dc', Float32Array.of(0, 1, 2), Float32Array.of(0, 2, 1), 3, 1)).toBeCloseTo(Math.sqrt(0.7), 14);
  });

  it('finalize: l2 -> -sqrt(-s), lp -> -(-s)^(1/p), others identity', () => {
    expect(getMetric('l2').finalize(-4)).toBe(-2);
    expect(getMetric('lp').finalize(-16)).toBeCloseTo(-2, 14);
    expect(getMetric('lp').finalize(-27, { p: 3 })).toBeCloseTo(-3, 14);
    for (const name of ['l1', 'lse', 'linf', 'cka', 'cka-unbiased', 'dc'] as const) {
      expect(getMetric(name).finalize(-0.375)).toBe(-0.375);
    }
  });
});

// ---------- PyTorch reference ----------

interface FixtureCase {
  name: string;
  n: number;
  d: number;
  params: { p: number; t: number };
  fp: number[];
  fc: number[];
  tangent: number[];
  values: Record<MetricName, { raw: number; directional: number }>;
}

describe('agreement with PyTorch autograd (fixtures/similarity/cases.json)', () => {
  const url = new URL('../../fixtures/similarity/cases.json', import.meta.url);
  const cases = (JSON.parse(readFileSync(url, 'utf8')) as { cases: FixtureCase[] }).cases;

  it('fixtures cover every metric and both CKA summation orders', () => {
    expect(cases.length).toBeGreaterThanOrEqual(3);
    for (const c of cases) expect(Object.keys(c.values).sort()).toEqual([...METRIC_NAMES].sort());
    const orders = new Set(cases.map((c) => cheaperSummation(c.n, c.d)));
    expect([...orders].sort()).toEqual(['features', 'samples']);
  });

  for (const c of cases) {
    for (const name of METRIC_NAMES) {
      it(`${c.name} (${c.n}x${c.d}): ${name} value and directional derivative`, () => {
        // Fixture inputs are float32-exact, so the Float32Array copies are the reference inputs.
        const fp = Float32Array.from(c.fp);
        const fc = Float32Array.from(c.fc);
        const t = Float32Array.from(c.tangent);
        const metric = getMetric(name);
        expectRelClose(metric.raw(fp, fc, c.n, c.d, c.params), c.values[name].raw, 1e-5, 'raw');
        expectRelClose(metric.directional(fp, fc, t, c.n, c.d, c.params), c.values[name].directional, 1e-5, 'directional');
      });
    }
  }
});

// ---------- finite differences ----------

/**
 * Data away from every kink: |d| in [0.2, 1.2] with random signs, one entry per row at |d| = 2 (unique
 * linf argmax), and one entry per row at |d| = 3, which t = 4 pushes past the lse clamp (t|d| = 12,
 * while every other entry stays at t|d| <= 8).
 */
function smoothCase(seed: number, n: number, d: number): { fp: Float64Array; fc: Float64Array; t: Float64Array } {
  const next = rng(seed);
  const fp = randomMatrix(next, n, d);
  const t = randomMatrix(next, n, d);
  const fc = new Float64Array(n * d);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < d; c++) {
      const i = r * d + c;
      let magnitude = 0.2 + Math.abs(Math.sin(7.3 * i + seed));
      if (c === r % d) magnitude = 2;
      else if (c === (r + 1) % d) magnitude = 3;
      const sign = next() > 0 ? 1 : -1;
      fc[i] = fp[i] - sign * magnitude;
    }
  }
  return { fp, fc, t };
}

describe('directional derivative = central finite difference (h = 1e-3, float64, Richardson-extrapolated)', () => {
  const n = 9;
  const d = 7;
  const h = 1e-3;
  const paramsFor: Record<MetricName, MetricParams> = {
    l1: {},
    l2: {},
    lp: {},
    lse: { t: 4 },
    linf: {},
    cka: {},
    'cka-unbiased': {},
    dc: {},
  };
  for (const name of METRIC_NAMES) {
    it(name, () => {
      const metric = getMetric(name);
      const params = paramsFor[name];
      for (const seed of [1, 2, 3]) {
        const { fp, fc, t } = smoothCase(seed, n, d);
        const central = (step: number): number =>
          (metric.raw(shiftAlongTangent(fp, t, step), fc, n, d, params) - metric.raw(shiftAlongTangent(fp, t, -step), fc, n, d, params)) / (2 * step);
        // Richardson: cancels the h^2 term, so curvature (CKA, dc) does not eat the tolerance.
        const fd = (4 * central(h / 2) - central(h)) / 3;
        expectRelClose(metric.directional(fp, fc, t, n, d, params), fd, 1e-5, `${name} seed ${seed}`);
      }
    });
  }

  it('lse: clamped entries contribute nothing to the derivative', () => {
    const { fp, fc } = smoothCase(4, n, d);
    const onlyClamped = new Float64Array(n * d);
    for (let r = 0; r < n; r++) onlyClamped[r * d + ((r + 1) % d)] = 1;
    const metric = getMetric('lse');
    expect(Math.abs(metric.directional(fp, fc, onlyClamped, n, d, { t: 4 }))).toBe(0);
    // ...while the same tangent moves the value when the clamp is lifted by a smaller t.
    expect(Math.abs(metric.directional(fp, fc, onlyClamped, n, d, { t: 1 }))).toBeGreaterThan(0.1);
  });
});

// ---------- Taylor vs exact linearisation ----------

describe('taylor score vs linearised score', () => {
  const n = 10;
  const d = 6;
  const { fp, fc, t } = smoothCase(11, n, d);
  const smooth: [MetricName, MetricParams][] = [
    ['l2', {}],
    ['lp', {}],
    ['lp', { p: 3 }],
    ['lse', { t: 1 }],
    ['cka', {}],
    ['cka-unbiased', {}],
    ['dc', {}],
  ];
  for (const [name, params] of smooth) {
    it(`${name} ${JSON.stringify(params)}: gap shrinks as alpha^2`, () => {
      const metric = getMetric(name);
      const gap = (alpha: number): number =>
        Math.abs(taylorScore(metric, fp, fc, t, alpha, n, d, params).score - linearizedScore(metric, fp, fc, t, alpha, n, d, params).score);
      const ratio = gap(0.02) / gap(0.01);
      expect(ratio).toBeGreaterThan(3.6);
      expect(ratio).toBeLessThan(4.4);
      expect(gap(0.01)).toBeLessThan(1e-2);
    });
  }

  for (const name of ['l1', 'linf'] as const) {
    it(`${name}: piecewise linear, so both agree exactly while no kink is crossed`, () => {
      const metric = getMetric(name);
      const a = taylorScore(metric, fp, fc, t, 0.01, n, d);
      const b = linearizedScore(metric, fp, fc, t, 0.01, n, d);
      expect(a.fellBack || b.fellBack).toBe(false);
      expect(Math.abs(a.score - b.score)).toBeLessThan(1e-12);
    });
  }

  it('alpha = 0 gives the direct score for every metric', () => {
    for (const name of METRIC_NAMES) {
      const metric = getMetric(name);
      const direct = directScore(metric, fp, fc, n, d);
      expect(taylorScore(metric, fp, fc, t, 0, n, d)).toEqual({ score: direct, fellBack: false });
      expect(linearizedScore(metric, fp, fc, t, 0, n, d).score).toBeCloseTo(direct, 12);
    }
  });
});

describe('fitted score: the best step along the tangent in [0, 1]', () => {
  const n = 12;
  const d = 5;

  it('l2 matches the closed form a* = clamp(-<d,T>/<T,T>, 0, 1) worked independently', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const next = rng(seed);
      const fp = randomMatrix(next, n, d);
      const t = randomMatrix(next, n, d);
      // A child partly explained by the tangent, plus noise: a* lands strictly inside (0, 1).
      const fc = new Float64Array(n * d);
      for (let i = 0; i < fc.length; i++) fc[i] = fp[i] + 0.4 * t[i] + 0.3 * next();
      let dt = 0;
      let tt = 0;
      for (let i = 0; i < fc.length; i++) {
        dt += (fp[i] - fc[i]) * t[i];
        tt += t[i] * t[i];
      }
      const best = Math.min(1, Math.max(0, -dt / tt));
      let sq = 0;
      for (let i = 0; i < fc.length; i++) sq += (fp[i] + best * t[i] - fc[i]) ** 2;
      const r = fittedScore(getMetric('l2'), fp, fc, t, n, d);
      expect(r.fellBack).toBe(false);
      expect(r.alpha).toBeCloseTo(best, 6);
      expectRelClose(r.score, -Math.sqrt(sq / (n * d)), 1e-9, `seed ${seed}`);
    }
  });

  it('a child exactly at F_p + 0.5 T is found at a = 0.5 with the best possible l1 score', () => {
    const next = rng(9);
    const fp = randomMatrix(next, n, d);
    const t = randomMatrix(next, n, d);
    const fc = fp.map((v, i) => v + 0.5 * t[i]);
    const r = fittedScore(getMetric('l1'), fp, fc, t, n, d);
    expect(r.alpha).toBeCloseTo(0.5, 6);
    expect(Math.abs(r.score)).toBeLessThan(1e-6);
  });

  it('never below the direct score nor (convex metrics) below the linearised score at any a in [0, 1]', () => {
    const { fp, fc, t } = smoothCase(13, n, d);
    for (const name of METRIC_NAMES) {
      const metric = getMetric(name);
      const fitted = fittedScore(metric, fp, fc, t, n, d).score;
      expect(fitted, name).toBeGreaterThanOrEqual(directScore(metric, fp, fc, n, d) - 1e-12);
      if (name === 'cka' || name === 'cka-unbiased' || name === 'dc') continue;
      for (let k = 0; k <= 20; k++) {
        expect(fitted, `${name} a=${k / 20}`).toBeGreaterThanOrEqual(linearizedScore(metric, fp, fc, t, k / 20, n, d).score - 1e-9);
      }
    }
  });

  it('a tangent pointing away from the child keeps the direct score (a = 0)', () => {
    const next = rng(21);
    const fp = randomMatrix(next, n, d);
    const t = randomMatrix(next, n, d);
    const fc = fp.map((v, i) => v - t[i]);
    const r = fittedScore(getMetric('l2'), fp, fc, t, n, d);
    expect(r.alpha).toBe(0);
    expect(r.score).toBe(directScore(getMetric('l2'), fp, fc, n, d));
  });

  it('a NaN tangent falls back to the direct score', () => {
    const { fp, fc, t } = smoothCase(17, n, d);
    const bad = Float64Array.from(t);
    bad[3] = Number.NaN;
    for (const name of ['l1', 'l2', 'cka'] as const) {
      const metric = getMetric(name);
      expect(fittedScore(metric, fp, fc, bad, n, d).score, name).toBe(directScore(metric, fp, fc, n, d));
    }
  });
});

describe('NaN/Inf fallback and clamping', () => {
  const n = 5;
  const d = 4;
  const { fp, fc } = smoothCase(21, n, d);

  it('a NaN tangent falls back to the direct score, for every metric and both approximations', () => {
    const bad = new Float64Array(n * d).fill(NaN);
    for (const name of METRIC_NAMES) {
      const metric = getMetric(name);
      const direct = directScore(metric, fp, fc, n, d);
      expect(Number.isFinite(direct)).toBe(true);
      expect(taylorScore(metric, fp, fc, bad, 0.1, n, d), name).toEqual({ score: direct, fellBack: true });
      expect(linearizedScore(metric, fp, fc, bad, 0.1, n, d), name).toEqual({ score: direct, fellBack: true });
    }
  });

  it('an infinite tangent entry falls back too', () => {
    const bad = new Float64Array(n * d);
    bad[3] = Infinity;
    const metric = getMetric('l1');
    expect(taylorScore(metric, fp, fc, bad, 0.1, n, d)).toEqual({ score: directScore(metric, fp, fc, n, d), fellBack: true });
  });

  it('l2/lp: an overshooting Taylor value is clamped to 0 (not NaN, no fallback)', () => {
    // Fp = 1, Fc = 0, T = -1 (straight at the child): l2 raw -1, D_T = -2*1*(-1) = 2 -> -1 + 2*2 = 3 > 0.
    // lp (p=4): raw -1, D_T = -4*1*(-1) = 4 -> -1 + 2*4 = 7 > 0.
    const ones = new Float32Array(6).fill(1);
    const zeros = new Float32Array(6);
    const towardChild = new Float32Array(6).fill(-1);
    for (const name of ['l2', 'lp'] as const) {
      const metric = getMetric(name);
      expect(metric.raw(ones, zeros, 2, 3) + 2 * metric.directional(ones, zeros, towardChild, 2, 3)).toBeGreaterThan(0);
      expect(taylorScore(metric, ones, zeros, towardChild, 2, 2, 3)).toEqual({ score: 0, fellBack: false });
    }
  });

  it('non-finite alpha is rejected', () => {
    expect(() => taylorScore(getMetric('l1'), fp, fc, fp, NaN, n, d)).toThrow(/alpha/);
    expect(() => linearizedScore(getMetric('l1'), fp, fc, fp, Infinity, n, d)).toThrow(/alpha/);
  });
});

// ---------- invariances ----------

describe('invariances', () => {
  const n = 12;
  const d = 5;
  const next = rng(31);
  const x = randomMatrix(next, n, d);
  const y = randomMatrix(next, n, d);
  const q = randomOrthogonal(next, d);
  const shift = [3, -1, 0.5, 7, -2];

  for (const name of ['cka', 'cka-unbiased', 'dc'] as const) {
    it(`${name}: invariant to isotropic scaling, orthogonal transforms and shifts`, () => {
      const base = raw(name, x, y, n, d);
      expect(raw(name, x, similarityTransform(y, q, n, d, 3.7, shift), n, d)).toBeCloseTo(base, 11);
      expect(raw(name, similarityTransform(x, q, n, d, 0.2, shift), y, n, d)).toBeCloseTo(base, 11);
      expect(raw(name, x, similarityTransform(x, q, n, d, 2.5, shift), n, d)).toBeCloseTo(1, 11);
    });
  }

  it('dc equals 1 for identical inputs, CKA too', () => {
    expect(raw('dc', x, x, n, d)).toBeCloseTo(1, 14);
    expect(raw('cka', x, x, n, d)).toBeCloseTo(1, 14);
    expect(raw('cka-unbiased', x, x, n, d)).toBeCloseTo(1, 14);
  });

  it('elementwise metrics are 0 (their maximum) for identical inputs', () => {
    for (const name of ['l1', 'l2', 'lp', 'linf'] as const) expect(directScore(getMetric(name), x, x, n, d)).toBe(0);
  });

  it('constant features have no defined CKA/dc: reported as 0, not NaN', () => {
    const constant = new Float64Array(n * d).fill(4);
    for (const name of ['cka', 'cka-unbiased', 'dc'] as const) {
      expect(raw(name, constant, y, n, d)).toBe(0);
      expect(getMetric(name).directional(constant, y, x, n, d)).toBe(0);
    }
  });
});

// ---------- CKA summation orders ----------

describe('linear-kernel statistics', () => {
  it('sample-pair and feature-pair summations agree (values and derivatives)', () => {
    for (const [n, d] of [
      [7, 3],
      [5, 9],
      [8, 4],
    ] as const) {
      const next = rng(n * 100 + d);
      const x = centreColumns(randomMatrix(next, n, d), n, d);
      const y = centreColumns(randomMatrix(next, n, d), n, d);
      const t = centreColumns(randomMatrix(next, n, d), n, d);
      const bySamples = linearKernelStats(x, y, t, n, d, 'samples');
      const byFeatures = linearKernelStats(x, y, t, n, d, 'features');
      for (const key of ['kl', 'kk', 'll', 'dkl', 'dkk'] as const) {
        expectRelClose(byFeatures[key], bySamples[key], 1e-12, `${n}x${d} ${key}`);
      }
    }
  });
});

// ---------- registry and input checks ----------

describe('registry and input checks', () => {
  it('every name resolves to a metric of that name; unknown names are rejected with the list', () => {
    expect([...METRIC_NAMES]).toEqual(['l1', 'l2', 'lp', 'lse', 'linf', 'cka', 'cka-unbiased', 'dc']);
    for (const name of METRIC_NAMES) expect(getMetric(name).name).toBe(name);
    expect(() => getMetric('cosine')).toThrow(/unknown similarity metric "cosine".*l1, l2/);
  });

  it('size mismatches, bad parameters and too few samples are clear errors', () => {
    const a = new Float32Array(6);
    expect(() => raw('l1', a, new Float32Array(5), 2, 3)).toThrow(/child features has 5 values, expected N\*D = 2\*3 = 6/);
    expect(() => getMetric('l2').directional(a, a, new Float32Array(4), 2, 3)).toThrow(/tangent has 4 values/);
    expect(() => raw('l1', a, a, 0, 6)).toThrow(/positive integers/);
    expect(() => raw('lp', a, a, 2, 3, { p: 0 })).toThrow(/parameter p/);
    expect(() => raw('lse', a, a, 2, 3, { t: -1 })).toThrow(/parameter t/);
    expect(() => raw('cka-unbiased', a, a, 3, 2)).toThrow(/N >= 4/);
  });
});
