/**
 * Opcodes that name Python globals and call them. A name resolves only if the caller's
 * `findGlobal` allows it, and a call only ever runs the TypeScript function it carries.
 */
import { FormatError } from '../errors.js';
import type { PickleMachine } from './machine.js';
import { OP, type OpcodeHandlers } from './opcodes.js';
import { PickleGlobal, pickleTypeName, type PickleValue } from './values.js';

// Python 3's Unpickler maps these Python 2 names the same way (fix_imports).
const PYTHON2_MODULES: Record<string, string> = { __builtin__: 'builtins', copy_reg: 'copyreg' };

function resolveGlobal<T>(vm: PickleMachine<T>, rawModule: string, name: string): PickleGlobal<T> {
  const module = PYTHON2_MODULES[rawModule] ?? rawModule;
  const found = vm.options.findGlobal(module, name);
  if (found) return found;
  const qualifiedName = `${module}.${name}`;
  const problem = vm.options.refusal?.(qualifiedName) ?? `refusing to load: pickle references ${qualifiedName}, which is not on the list of allowed names`;
  throw new FormatError(vm.options.file, problem);
}

function expectGlobal<T>(vm: PickleMachine<T>, value: PickleValue<T>, opcode: string): PickleGlobal<T> {
  if (!(value instanceof PickleGlobal)) vm.fail(`malformed pickle: ${opcode} needs a callable, got a ${pickleTypeName(value)}`);
  return value;
}

function expectArgs<T>(vm: PickleMachine<T>, value: PickleValue<T>, opcode: string): PickleValue<T>[] {
  if (!Array.isArray(value)) vm.fail(`malformed pickle: ${opcode} needs an argument tuple, got a ${pickleTypeName(value)}`);
  return value;
}

/** Remembers which global made `value`, for BUILD. */
function made<T>(vm: PickleMachine<T>, global: PickleGlobal<T>, value: PickleValue<T>): PickleValue<T> {
  if (typeof value === 'object' && value !== null) vm.madeBy.set(value, global);
  return value;
}

function call<T>(vm: PickleMachine<T>, global: PickleGlobal<T>, args: PickleValue<T>[]): PickleValue<T> {
  const run = global.behaviour.call;
  if (!run) vm.fail(`refusing to call ${global.qualifiedName}`);
  vm.spendOnArguments(args);
  return made(vm, global, run(args));
}

function newObject<T>(vm: PickleMachine<T>, global: PickleGlobal<T>, args: PickleValue<T>[]): PickleValue<T> {
  const create = global.behaviour.newObject;
  if (!create) vm.fail(`refusing to create a ${global.qualifiedName} object (NEWOBJ)`);
  vm.spendOnArguments(args);
  return made(vm, global, create(args));
}

function build<T>(vm: PickleMachine<T>): void {
  const state = vm.pop();
  const target = vm.top();
  const maker = typeof target === 'object' && target !== null ? vm.madeBy.get(target) : undefined;
  const setState = maker?.behaviour.setState;
  if (!maker || !setState) vm.fail(`refusing to set the state of a ${pickleTypeName(target)} value (BUILD)`);
  vm.spendOnArguments([state]);
  setState(target, state);
}

function persistent<T>(vm: PickleMachine<T>, pid: PickleValue<T>): PickleValue<T> {
  const load = vm.options.persistentLoad;
  if (!load) vm.fail('refusing to load: pickle uses persistent ids, which this file type does not');
  vm.spendOnArguments([pid]);
  return load(pid);
}

function refuseExtension<T>(vm: PickleMachine<T>): never {
  return vm.fail('refusing to load: pickle uses copyreg extension codes (EXT1/EXT2/EXT4)');
}

function refuseBuffer<T>(vm: PickleMachine<T>): never {
  return vm.fail('refusing to load: pickle uses out-of-band buffers (NEXT_BUFFER/READONLY_BUFFER)');
}

/** Opcodes a model file has no use for, and whose meaning lies outside the pickle. */
export const REFUSED_OPS: OpcodeHandlers = {
  [OP.EXT1]: refuseExtension,
  [OP.EXT2]: refuseExtension,
  [OP.EXT4]: refuseExtension,
  [OP.NEXT_BUFFER]: refuseBuffer,
  [OP.READONLY_BUFFER]: refuseBuffer,
};

export const GLOBAL_OPS: OpcodeHandlers = {
  [OP.GLOBAL]: (vm) => {
    const module = vm.input.line();
    const name = vm.input.line();
    vm.push(resolveGlobal(vm, module, name));
  },
  [OP.STACK_GLOBAL]: <T>(vm: PickleMachine<T>) => {
    const name = vm.pop();
    const module = vm.pop();
    if (typeof module !== 'string' || typeof name !== 'string') vm.fail('malformed pickle: STACK_GLOBAL needs two strings');
    vm.push(resolveGlobal(vm, module, name));
  },
  [OP.PERSID]: (vm) => vm.push(persistent(vm, vm.input.line())),
  [OP.BINPERSID]: (vm) => vm.push(persistent(vm, vm.pop())),
};

export const CALL_OPS: OpcodeHandlers = {
  [OP.REDUCE]: (vm) => {
    const args = expectArgs(vm, vm.pop(), 'REDUCE');
    const callable = expectGlobal(vm, vm.pop(), 'REDUCE');
    vm.push(call(vm, callable, args));
  },
  [OP.NEWOBJ]: (vm) => {
    const args = expectArgs(vm, vm.pop(), 'NEWOBJ');
    const cls = expectGlobal(vm, vm.pop(), 'NEWOBJ');
    vm.push(newObject(vm, cls, args));
  },
  [OP.NEWOBJ_EX]: (vm) => {
    const kwargs = vm.pop();
    const args = expectArgs(vm, vm.pop(), 'NEWOBJ_EX');
    const cls = expectGlobal(vm, vm.pop(), 'NEWOBJ_EX');
    if (!(kwargs instanceof Map) || kwargs.size > 0) vm.fail(`refusing to create a ${cls.qualifiedName} object with keyword arguments`);
    vm.push(newObject(vm, cls, args));
  },
  [OP.INST]: (vm) => {
    const module = vm.input.line();
    const name = vm.input.line();
    const cls = resolveGlobal(vm, module, name);
    vm.push(call(vm, cls, vm.popMark()));
  },
  [OP.OBJ]: (vm) => {
    const [cls, ...args] = vm.popMark();
    vm.push(call(vm, expectGlobal(vm, cls ?? null, 'OBJ'), args));
  },
  [OP.BUILD]: build,
};
