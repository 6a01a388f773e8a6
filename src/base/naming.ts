/** PyTorch state-dict naming rules that every layer relies on. */

/** BatchNorm bookkeeping buffers: stored in state dicts but not trained parameters. */
export function isBufferName(name: string): boolean {
  return /(^|\.)(running_mean|running_var|num_batches_tracked)$/.test(name);
}

/** BatchNorm's step counter: bookkeeping no forward pass reads (ONNX exports drop it). */
export function isBatchCounterName(name: string): boolean {
  return /(^|\.)num_batches_tracked$/.test(name);
}
