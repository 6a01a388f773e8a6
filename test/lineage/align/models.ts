/**
 * Reorderings of hidden units written out by hand (not with the code under test), and plain-loop
 * forward passes that check they leave the network's function unchanged.
 */
import { Rng } from '../../../src/base/random.js';
import { type Tensor, type Weights, float32Tensor, toFloat32 } from '../../../src/tensor.js';

/** A seeded shuffle of 0..n-1: the child's unit j is the parent's unit src[j]. */
export function shuffled(n: number, seed: number): number[] {
  const rng = new Rng(seed);
  const out = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Where each parent unit went: the permutation the aligner should find (a's unit i is b's unit inverse[i]). */
export function inverse(src: readonly number[]): number[] {
  const out = new Array<number>(src.length);
  src.forEach((s, j) => {
    out[s] = j;
  });
  return out;
}

function matrixView(t: Tensor): { rows: number; cols: number; values: Float32Array } {
  const rows = t.shape.length === 0 ? 1 : t.shape[0];
  const values = toFloat32(t);
  return { rows, cols: values.length / rows, values };
}

/** Row block j of the result is row block src[j] of t (blocks of `block` rows). */
export function permuteRows(t: Tensor, src: readonly number[], block = 1): Tensor {
  const { cols, values } = matrixView(t);
  const out = new Float32Array(values.length);
  for (let j = 0; j < src.length; j++) {
    for (let r = 0; r < block; r++) out.set(values.subarray((src[j] * block + r) * cols, (src[j] * block + r + 1) * cols), (j * block + r) * cols);
  }
  return float32Tensor(t.shape, out);
}

/** Column block j (of the matrix view [shape[0], rest]) of the result is column block src[j] of t. */
export function permuteCols(t: Tensor, src: readonly number[], block = 1): Tensor {
  const { rows, cols, values } = matrixView(t);
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < src.length; j++) for (let k = 0; k < block; k++) out[r * cols + j * block + k] = values[r * cols + src[j] * block + k];
  }
  return float32Tensor(t.shape, out);
}

/** Applies edits (name -> new tensor) to a copy of `w`. */
export function edited(w: Weights, edits: Record<string, (t: Tensor) => Tensor>): Weights {
  const out: Weights = new Map(w);
  for (const [name, edit] of Object.entries(edits)) out.set(name, edit(w.get(name)!));
  return out;
}

const f64 = (w: Weights, name: string): Float64Array => Float64Array.from(toFloat32(w.get(name)!));

/** y = W x + b for W [out, in]. */
export function linear(w: Weights, prefix: string, x: Float64Array, bias = true): Float64Array {
  const W = f64(w, `${prefix}.weight`);
  const out = w.get(`${prefix}.weight`)!.shape[0];
  const y = new Float64Array(out);
  const b = bias ? f64(w, `${prefix}.bias`) : new Float64Array(out);
  for (let i = 0; i < out; i++) {
    let s = b[i];
    for (let j = 0; j < x.length; j++) s += W[i * x.length + j] * x[j];
    y[i] = s;
  }
  return y;
}

export const relu = (x: Float64Array): Float64Array => x.map((v) => Math.max(0, v));

/** fc1 -> ReLU -> fc2 -> ReLU -> fc3. */
export function mlpForward(w: Weights, x: Float64Array): Float64Array {
  return linear(w, 'fc3', relu(linear(w, 'fc2', relu(linear(w, 'fc1', x)))));
}

/** A 2-d convolution [C, H, W] -> [O, H', W'] with kernel [O, C, k, k], stride 1, zero padding `pad`, no bias. */
function conv2d(w: Weights, name: string, x: Float64Array, c: number, h: number, wd: number, pad: number): { y: Float64Array; h: number; w: number } {
  const [o, ci, k] = w.get(name)!.shape;
  if (ci !== c) throw new Error(`conv ${name}: ${ci} input channels, got ${c}`);
  const K = f64(w, name);
  const oh = h + 2 * pad - k + 1;
  const ow = wd + 2 * pad - k + 1;
  const y = new Float64Array(o * oh * ow);
  for (let f = 0; f < o; f++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++) {
        let s = 0;
        for (let ch = 0; ch < c; ch++)
          for (let u = 0; u < k; u++)
            for (let v = 0; v < k; v++) {
              const yy = i + u - pad;
              const xx = j + v - pad;
              if (yy >= 0 && yy < h && xx >= 0 && xx < wd) s += K[((f * c + ch) * k + u) * k + v] * x[(ch * h + yy) * wd + xx];
            }
        y[(f * oh + i) * ow + j] = s;
      }
  return { y, h: oh, w: ow };
}

/** BatchNorm in eval mode, then ReLU, over [C, H*W]. */
function batchNormRelu(w: Weights, prefix: string, x: Float64Array, c: number): Float64Array {
  const [g, b, m, v] = ['weight', 'bias', 'running_mean', 'running_var'].map((s) => f64(w, `${prefix}.${s}`));
  const hw = x.length / c;
  return x.map((val, k) => {
    const ch = Math.floor(k / hw);
    return Math.max(0, ((val - m[ch]) / Math.sqrt(v[ch] + 1e-5)) * g[ch] + b[ch]);
  });
}

/** conv1 (3x3, pad 1) -> bn1 -> ReLU -> conv2 (3x3, no pad) -> bn2 -> ReLU -> flatten -> fc, on a [3, 4, 4] input. */
export function convForward(w: Weights, x: Float64Array): Float64Array {
  const c1 = conv2d(w, 'conv1.weight', x, 3, 4, 4, 1);
  const h1 = batchNormRelu(w, 'bn1', c1.y, w.get('conv1.weight')!.shape[0]);
  const c2 = conv2d(w, 'conv2.weight', h1, w.get('conv1.weight')!.shape[0], c1.h, c1.w, 0);
  const h2 = batchNormRelu(w, 'bn2', c2.y, w.get('conv2.weight')!.shape[0]);
  return linear(w, 'fc', h2);
}

export function maxRelativeDifference(x: Float64Array, y: Float64Array): number {
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < x.length; i++) {
    scale = Math.max(scale, Math.abs(x[i]));
    diff = Math.max(diff, Math.abs(x[i] - y[i]));
  }
  return diff / scale;
}

export function randomInput(n: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  return Float64Array.from({ length: n }, () => rng.normal());
}

const silu = (v: number): number => v / (1 + Math.exp(-v));

/**
 * One Llama decoder layer without norms or rotary embedding (neither sees the head order): causal
 * attention where query head h reads key/value head floor(h / (heads / kvHeads)), as Hugging Face's
 * repeat_kv does, then the gated MLP, each added to the residual stream.
 */
export function llamaLayerForward(w: Weights, layer: number, xs: readonly Float64Array[], heads: number, kvHeads: number): Float64Array[] {
  const p = `model.layers.${layer}`;
  const q = xs.map((x) => linear(w, `${p}.self_attn.q_proj`, x, false));
  const k = xs.map((x) => linear(w, `${p}.self_attn.k_proj`, x, false));
  const v = xs.map((x) => linear(w, `${p}.self_attn.v_proj`, x, false));
  const hd = q[0].length / heads;
  const group = heads / kvHeads;
  const h1 = xs.map((x, t) => {
    const concat = new Float64Array(q[0].length);
    for (let h = 0; h < heads; h++) {
      const kv = Math.floor(h / group);
      const scores = Array.from({ length: t + 1 }, (_, s) => {
        let dot = 0;
        for (let d = 0; d < hd; d++) dot += q[t][h * hd + d] * k[s][kv * hd + d];
        return dot / Math.sqrt(hd);
      });
      const top = Math.max(...scores);
      const e = scores.map((z) => Math.exp(z - top));
      const sum = e.reduce((x1, x2) => x1 + x2, 0);
      for (let s = 0; s <= t; s++) for (let d = 0; d < hd; d++) concat[h * hd + d] += (e[s] / sum) * v[s][kv * hd + d];
    }
    const o = linear(w, `${p}.self_attn.o_proj`, concat, false);
    return x.map((val, i) => val + o[i]);
  });
  return h1.map((x) => {
    const g = linear(w, `${p}.mlp.gate_proj`, x, false);
    const u = linear(w, `${p}.mlp.up_proj`, x, false);
    const down = linear(
      w,
      `${p}.mlp.down_proj`,
      g.map((gv, i) => silu(gv) * u[i]),
      false,
    );
    return x.map((val, i) => val + down[i]);
  });
}
