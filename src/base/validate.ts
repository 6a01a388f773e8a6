/**
 * Shape checks for values parsed from untrusted JSON (manifests, specs, file headers, detector
 * configurations). They are type guards and nothing more: each reader words its own error, so the
 * message names its own file and field path.
 */

/** A parsed JSON object; keys are untrusted, values unchecked. */
export type JsonObject = Record<string, unknown>;

/** An object that is neither null nor a list (JSON's `{...}`). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A safe integer no smaller than `min` (a float, NaN or 2^53 is not). */
export function isIntegerAtLeast(value: unknown, min: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min;
}

/** A number other than NaN and the infinities. */
export function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

export function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

/** A list whose every item is a string (an empty list is one). */
export function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}
