/**
 * A hostile model file: small on disk, built to make a careless reader spend unbounded time or
 * memory, or crash. Tests assert each one is refused quickly with the file named; bench/hostile.mjs
 * measures what each one costs (`npm run bench:hostile`).
 */
export interface HostileCase {
  /** Short id, e.g. 'pickle-reduce-amplification'. */
  name: string;
  /** The reader it targets, e.g. 'pytorch', 'safetensors', 'onnx', 'npy', 'folder'. */
  reader: string;
  /** What a careless reader would do with it. */
  threat: string;
  /** Writes the file (or folder) under `dir` and returns the path to give `lineage inspect`. */
  build(dir: string): Promise<string>;
  /** A word or phrase the error message must contain besides the file's name. */
  expect: RegExp;
  /** The lineage command that opens it, when not `inspect <path>` (model sources: `compare <path> <path>`). */
  command?: 'inspect' | 'compare';
}
