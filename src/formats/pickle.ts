/**
 * A safe interpreter for Python pickles (protocols 0-5). Nothing in a pickle is ever executed:
 * GLOBAL/STACK_GLOBAL resolve only names the caller allows (`findGlobal`), and REDUCE, NEWOBJ,
 * INST, OBJ and BUILD only ever call the small TypeScript functions those allowed names carry.
 * Every other name is refused with a FormatError naming it.
 *
 * The interpreter is a loop over opcodes with an explicit stack, so a hostile pickle cannot
 * exhaust the JavaScript call stack; the stack, the memo and MARK nesting are bounded as well.
 * So is the total work: every opcode costs one step, and a call to an allowed global costs one
 * step per element of its arguments, since that is what it may copy. The budget grows with the
 * pickle's length, so a small pickle cannot copy a memoised list a million times.
 *
 * The pieces live in ./pickle/: the machine's state and bounded operations (machine.ts), the
 * loop (interpreter.ts) and the opcode handlers by family (*-ops.ts).
 */
import { interpret } from './pickle/interpreter.js';
import { PickleMachine } from './pickle/machine.js';
import type { UnpickleOptions } from './pickle/options.js';
import type { PickleValue } from './pickle/values.js';

export { DEFAULT_PICKLE_LIMITS } from './pickle/options.js';
export type { PickleLimits, UnpickleOptions } from './pickle/options.js';
export { PickleGlobal, pickleTypeName } from './pickle/values.js';
export type { PickleDict, PickleGlobalBehaviour, PickleValue } from './pickle/values.js';

/** Decodes `pickle.loads(bytes)` without executing anything. */
export function unpickle<T = never>(bytes: Uint8Array, options: UnpickleOptions<T>): PickleValue<T> {
  return interpret(new PickleMachine(bytes, options));
}
