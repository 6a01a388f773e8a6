/**
 * A model source: a lazy, ordered view of one model's tensors, whatever the file format. Opening
 * one reads headers only (safetensors headers, a shard index, GGUF header, zip directory and
 * pickle, ONNX initializer table); tensor data is read on demand, whole or by row range, and
 * decoded to float32 (bf16/f16/f8 widened, GGUF blocks dequantised). Memory then stays bounded by
 * what the caller holds, not by the model's size.
 */

/** One tensor as the file declares it. */
export interface SourceTensor {
  /** The name in the file (state-dict key, GGUF name, ONNX initializer name). */
  name: string;
  /** The stored type: a DType name ('float32', 'bfloat16', 'int64', ...) or a ggml type ('Q4_K'). */
  dtype: string;
  /** Shape in numpy/PyTorch order (rows first). */
  shape: readonly number[];
  /** Bytes the tensor takes in the file. */
  bytes: number;
}

export interface ModelSource {
  /** The path the user gave (file or folder). */
  readonly path: string;
  /** The file that was opened (the index of a sharded checkpoint, the weights file of a folder). */
  readonly file: string;
  /** 'safetensors', 'safetensors-sharded', 'pytorch', 'pytorch-sharded', 'onnx', 'npy', 'gguf', 'peft-lora' (an adapter folder). */
  readonly format: string;
  /** File metadata (safetensors __metadata__, GGUF key-values rendered as text, ...). */
  readonly metadata: Readonly<Record<string, string>>;
  /** Parsed config.json of an HF folder, when there is one (adapter_config.json for 'peft-lora'). */
  readonly config?: Readonly<Record<string, unknown>>;
  /** Every tensor, in file order. */
  readonly tensors: readonly SourceTensor[];
  /** The tensor's values as float32 (row-major). Throws a FormatError naming the file for non-numeric data. */
  readFloat32(name: string): Promise<Float32Array>;
  /**
   * Rows [start, start + count) of the tensor viewed as a matrix [shape[0], product(rest)], as
   * float32. For a 1-d tensor a row is one element. Reads only those rows' bytes where the format
   * stores them contiguously (safetensors, GGUF, npy); others may decode more and slice.
   */
  readRows(name: string, start: number, count: number): Promise<Float32Array>;
  /** Releases open file handles. */
  close(): Promise<void>;
}
