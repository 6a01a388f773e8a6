/** Text and attribute escaping for HTML/SVG built from untrusted names (file paths, model ids). */
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function esc(text: string | number): string {
  return String(text).replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

/** A short label for a model: the file name without folders and extension, at most `max` characters. */
export function shortLabel(id: string, max = 18): string {
  const base = id.split(/[\\/]/).pop() || id;
  const stem = base.replace(/\.(safetensors|onnx|pt|pth|bin|npy)$/i, '');
  return stem.length > max ? `${stem.slice(0, max - 1)}…` : stem;
}
