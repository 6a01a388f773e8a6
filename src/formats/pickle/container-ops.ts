/** Opcodes that build lists, tuples, dicts and sets. */
import type { PickleMachine } from './machine.js';
import { OP, type OpcodeHandlers } from './opcodes.js';
import { pickleTypeName, type PickleDict, type PickleValue } from './values.js';

function tuple<T>(vm: PickleMachine<T>, items: PickleValue<T>[]): PickleValue<T>[] {
  vm.immutable.add(items);
  return items;
}

/** The list on top of the stack, which `opcode` appends to. */
function list<T>(vm: PickleMachine<T>, opcode: string): PickleValue<T>[] {
  const target = vm.top();
  if (!Array.isArray(target) || vm.immutable.has(target)) vm.fail(`malformed pickle: ${opcode} needs a list, got a ${pickleTypeName(target)}`);
  return target;
}

/** The dict on top of the stack, which `opcode` sets items of. */
function dict<T>(vm: PickleMachine<T>, opcode: string): PickleDict<T> {
  const target = vm.top();
  if (!(target instanceof Map)) vm.fail(`malformed pickle: ${opcode} needs a dict, got a ${pickleTypeName(target)}`);
  return target;
}

/** Sets alternating keys and values. */
function setItems<T>(vm: PickleMachine<T>, target: PickleDict<T>, items: PickleValue<T>[]): void {
  if (items.length % 2 !== 0) vm.fail('malformed pickle: odd number of dict items');
  for (let i = 0; i < items.length; i += 2) target.set(items[i], items[i + 1]);
}

export const LIST_OPS: OpcodeHandlers = {
  [OP.EMPTY_LIST]: (vm) => vm.push([]),
  [OP.LIST]: (vm) => vm.push(vm.popMark()),
  [OP.APPEND]: (vm) => {
    const value = vm.pop();
    list(vm, 'APPEND').push(value);
  },
  [OP.APPENDS]: (vm) => {
    const items = vm.popMark();
    const target = list(vm, 'APPENDS');
    for (const item of items) target.push(item);
  },
};

export const TUPLE_OPS: OpcodeHandlers = {
  [OP.EMPTY_TUPLE]: (vm) => vm.push(tuple(vm, [])),
  [OP.TUPLE]: (vm) => vm.push(tuple(vm, vm.popMark())),
  [OP.TUPLE1]: (vm) => vm.push(tuple(vm, [vm.pop()])),
  [OP.TUPLE2]: (vm) => {
    const b = vm.pop();
    const a = vm.pop();
    vm.push(tuple(vm, [a, b]));
  },
  [OP.TUPLE3]: (vm) => {
    const c = vm.pop();
    const b = vm.pop();
    const a = vm.pop();
    vm.push(tuple(vm, [a, b, c]));
  },
};

export const DICT_OPS: OpcodeHandlers = {
  [OP.EMPTY_DICT]: (vm) => vm.push(new Map()),
  [OP.DICT]: <T>(vm: PickleMachine<T>) => {
    const created: PickleDict<T> = new Map();
    setItems(vm, created, vm.popMark());
    vm.push(created);
  },
  [OP.SETITEM]: (vm) => {
    const value = vm.pop();
    const key = vm.pop();
    dict(vm, 'SETITEM').set(key, value);
  },
  [OP.SETITEMS]: (vm) => {
    const items = vm.popMark();
    setItems(vm, dict(vm, 'SETITEMS'), items);
  },
};

export const SET_OPS: OpcodeHandlers = {
  [OP.EMPTY_SET]: (vm) => vm.push(new Set()),
  [OP.ADDITEMS]: <T>(vm: PickleMachine<T>) => {
    const items = vm.popMark();
    const target = vm.top();
    if (!(target instanceof Set) || vm.immutable.has(target)) vm.fail(`malformed pickle: ADDITEMS needs a set, got a ${pickleTypeName(target)}`);
    for (const item of items) target.add(item);
  },
  [OP.FROZENSET]: (vm) => {
    const frozen = new Set(vm.popMark());
    vm.immutable.add(frozen);
    vm.push(frozen);
  },
};
