/**
 * Exit codes a command asks for when it ran and printed its answer but the answer is a verdict a
 * script must see (`check`: 3 contradicted, 4 unverifiable). Errors keep their own codes (1, 2).
 */
let requested = 0;

export function requestExitCode(code: number): void {
  requested = code;
}

/** The code asked for since the last call, then back to 0 (main runs once per process; tests run it many times). */
export function takeRequestedExitCode(): number {
  const code = requested;
  requested = 0;
  return code;
}
