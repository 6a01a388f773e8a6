/**
 * Row ranges of a tensor viewed as a matrix [shape[0], product(rest)]: a 1-d tensor has one
 * element per row, and a 0-d tensor is one row of one element.
 */

/** Rows of the matrix view. */
export function rowCount(shape: readonly number[]): number {
  return shape.length === 0 ? 1 : shape[0];
}

/** Elements per row of the matrix view. */
export function rowLength(shape: readonly number[]): number {
  let n = 1;
  for (let d = 1; d < shape.length; d++) n *= shape[d];
  return n;
}

/** Throws a RangeError (a caller's mistake, not the file's) unless [start, start + count) are rows of the tensor. */
export function checkRowRange(file: string, name: string, shape: readonly number[], start: number, count: number): void {
  const rows = rowCount(shape);
  if (Number.isSafeInteger(start) && Number.isSafeInteger(count) && start >= 0 && count >= 0 && start + count <= rows) return;
  throw new RangeError(`${file}: rows [${start}, ${start}+${count}) are outside tensor "${name}", which has ${rows} rows`);
}
