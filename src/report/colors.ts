/** Colour scales for the report (fixed lists: no runtime dependency, same colours everywhere). */

// Viridis at 9 evenly spaced stops.
const SEQUENTIAL = ['#440154', '#472d7b', '#3b528b', '#2c728e', '#21918c', '#28ae80', '#5ec962', '#addc30', '#fde725'];

function hexToRgb(hex: string): [number, number, number] {
  const v = parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

/** t in [0, 1] (clamped) to a colour on the sequential scale. */
export function sequentialColor(t: number): string {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (SEQUENTIAL.length - 1);
  const i = Math.min(SEQUENTIAL.length - 2, Math.floor(x));
  const f = x - i;
  const a = hexToRgb(SEQUENTIAL[i]);
  const b = hexToRgb(SEQUENTIAL[i + 1]);
  const mix = a.map((v, k) => Math.round(v + (b[k] - v) * f));
  return `rgb(${mix[0]},${mix[1]},${mix[2]})`;
}

// Okabe-Ito, readable by colour-blind readers; beyond it, evenly spaced hues.
const CATEGORICAL = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00', '#f0e442', '#000000'];

export function categoricalColor(i: number): string {
  return i < CATEGORICAL.length ? CATEGORICAL[i] : `hsl(${Math.round((i * 137.508) % 360)},60%,50%)`;
}
