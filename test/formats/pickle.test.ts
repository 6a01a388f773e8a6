import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PickleGlobal, unpickle, type PickleValue, type UnpickleOptions } from '../../src/formats/pickle.js';
import { torchGlobals } from '../../src/formats/torch/globals.js';
import { FormatError } from '../../src/formats/errors.js';

/** Bytes from a latin-1 string, so opcodes can be written as in pickletools listings. */
function bytes(...parts: (string | number[])[]): Uint8Array {
  const out: number[] = [];
  for (const part of parts) {
    if (typeof part === 'string') for (const c of part) out.push(c.charCodeAt(0));
    else for (const b of part) out.push(b);
  }
  return Uint8Array.from(out);
}

const noGlobals: UnpickleOptions<never> = { file: 'test.pkl', findGlobal: () => undefined };
const load = (data: Uint8Array, options: UnpickleOptions<never> = noGlobals): PickleValue => unpickle(data, options);

function failure(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FormatError);
    return (err as Error).message;
  }
  throw new Error('expected a FormatError');
}

describe('safe unpickler on hand-built pickles', () => {
  it('decodes protocol 2 integers, floats, strings, containers and the memo', () => {
    const data = bytes(
      '\x80\x02}q\x00(', // PROTO 2, EMPTY_DICT, BINPUT 0, MARK
      'X\x01\x00\x00\x00a',
      'K\xff', // 'a': 255 (BININT1)
      'X\x01\x00\x00\x00b',
      'M\x34\x12', // 'b': 0x1234 (BININT2)
      'X\x01\x00\x00\x00c',
      'J\xfe\xff\xff\xff', // 'c': -2 (BININT)
      'X\x01\x00\x00\x00d',
      '\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01', // 'd': 2**64 (LONG1)
      'X\x01\x00\x00\x00e',
      '\x8a\x01\x80', // 'e': -128 (LONG1)
      'X\x01\x00\x00\x00f',
      'G\x3f\xf8\x00\x00\x00\x00\x00\x00', // 'f': 1.5 (BINFLOAT, big-endian)
      'X\x01\x00\x00\x00g',
      ']q\x01(K\x01N\x88\x89e', // 'g': [1, None, True, False], BINPUT 1
      'X\x01\x00\x00\x00h',
      'h\x01', // 'h': the same list (BINGET 1)
      'X\x01\x00\x00\x00i',
      'K\x01K\x02\x86', // 'i': (1, 2)
      'X\x02\x00\x00\x00\xc3\xa9',
      'X\x00\x00\x00\x00', // 'é': ''
      'u.', // SETITEMS, STOP
    );
    const value = load(data) as Map<string, PickleValue>;
    expect([...value.keys()]).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'é']);
    expect(value.get('a')).toBe(255);
    expect(value.get('b')).toBe(0x1234);
    expect(value.get('c')).toBe(-2);
    expect(value.get('d')).toBe(2n ** 64n);
    expect(value.get('e')).toBe(-128);
    expect(value.get('f')).toBe(1.5);
    expect(value.get('g')).toEqual([1, null, true, false]);
    expect(value.get('h')).toBe(value.get('g'));
    expect(value.get('i')).toEqual([1, 2]);
    expect(value.get('é')).toBe('');
  });

  it('decodes protocol 0 text opcodes', () => {
    const data = bytes("(S'it\\'s'\np1\n", 'I42\n', 'Vcaf\\u00e9\n', 'F-0.25\n', 'L-12345678901234567890L\n', '(I01\nI00\nlp2\n', 'g2\n', 'F1e3\n', 'd.');
    const value = load(data) as Map<PickleValue, PickleValue>;
    expect([...value.entries()]).toEqual([
      ["it's", 42],
      ['café', -0.25],
      [-12345678901234567890n, [true, false]],
      [[true, false], 1000],
    ]);
    expect([...value.keys()][3]).toBe([...value.values()][2]); // PUT/GET kept the same list
    expect(load(bytes('Fnan\n.'))).toBeNaN();
    expect(load(bytes('F-inf\n.'))).toBe(-Infinity);
  });

  it('decodes protocol 4 frames, short strings, MEMOIZE, sets and frozensets', () => {
    const body = bytes('\x8c\x03abc\x94', '\x8f\x94(K\x01K\x02\x90', '(\x8c\x01x\x91', 'h\x00', '\x87.');
    const data = bytes('\x80\x04\x95', [body.length, 0, 0, 0, 0, 0, 0, 0], Array.from(body));
    expect(load(data)).toEqual([new Set([1, 2]), new Set(['x']), 'abc']);
  });

  it('decodes protocol 3 and 5 bytes opcodes', () => {
    expect(load(bytes('\x80\x03C\x02\x00\xffB\x01\x00\x00\x00a\x86.'))).toEqual([new Uint8Array([0, 255]), new Uint8Array([97])]);
    expect(load(bytes('\x80\x05\x96', [2, 0, 0, 0, 0, 0, 0, 0], 'hi.'))).toEqual(new Uint8Array([104, 105]));
  });

  it('keeps memo entries at any index, and MEMOIZE numbers them by how many there are', () => {
    // Python's MEMOIZE is memo[len(memo)] = top: after an entry at 5, the next one is entry 1.
    expect(load(bytes('\x80\x04Nq\x05K\x07\x94h\x01h\x05\x86.'))).toEqual([7, null]);
    // Indices past 2**32 - 2 (not JavaScript array indices) and up to 2**53 - 1 (PUT's text).
    expect(load(bytes('\x80\x02K\x01r\xff\xff\xff\xff0j\xff\xff\xff\xff.'))).toBe(1);
    expect(load(bytes('K\x02p9007199254740991\n0g9007199254740991\n.'))).toBe(2);
    // Overwriting an entry does not count against the memo limit.
    expect(load(bytes('Nq\x00q\x00K\x03q\x000h\x00.'), { ...noGlobals, limits: { maxMemo: 1 } })).toBe(3);
    // An allowed global may return undefined, and that is still a defined memo entry.
    const nothing = new PickleGlobal<undefined>('m', 'nothing', { call: () => undefined });
    const options: UnpickleOptions<undefined> = { file: 'test.pkl', findGlobal: () => nothing };
    expect(unpickle(bytes('\x80\x02cm\nnothing\n)Rq\x000h\x00.'), options)).toBeUndefined();
  });

  it('calls only the functions an allowed global carries', () => {
    const calls: PickleValue[][] = [];
    const pair = new PickleGlobal<never>('m', 'pair', {
      call: (args) => {
        calls.push(args);
        return [args[1], args[0]];
      },
    });
    const options: UnpickleOptions<never> = { file: 'test.pkl', findGlobal: (module, name) => (module === 'm' && name === 'pair' ? pair : undefined) };
    expect(load(bytes('\x80\x02cm\npair\nK\x01K\x02\x86R.'), options)).toEqual([2, 1]);
    expect(calls).toEqual([[1, 2]]);
    // STACK_GLOBAL and INST reach the same function.
    expect(load(bytes('\x80\x04\x8c\x01m\x8c\x04pair\x93K\x03K\x04\x86R.'), options)).toEqual([4, 3]);
    expect(load(bytes('(K\x05K\x06im\npair\n.'), options)).toEqual([6, 5]);
    expect(failure(() => load(bytes('\x80\x02cm\npair\n)\x81.'), options))).toContain('refusing to create a m.pair object (NEWOBJ)');
    expect(failure(() => load(bytes('\x80\x02cm\npair\nK\x01K\x02\x86R}b.'), options))).toContain('refusing to set the state of a list/tuple value (BUILD)');
  });
});

describe('safe unpickler on hostile pickles', () => {
  it('refuses globals that are not allowed, naming them', () => {
    expect(failure(() => load(bytes('cos\nsystem\n.')))).toBe(
      'test.pkl: refusing to load: pickle references os.system, which is not on the list of allowed names',
    );
    // Python 2 module names are mapped before the check, as Python's own Unpickler does.
    expect(failure(() => load(bytes('\x80\x02c__builtin__\neval\n.')))).toContain('builtins.eval');
    expect(failure(() => load(bytes('\x80\x04\x8c\x08builtins\x8c\x04exec\x93.')))).toContain('builtins.exec');
    expect(failure(() => load(bytes('(iposix\nsystem\n.')))).toContain('posix.system');
    expect(failure(() => load(bytes('\x80\x02cos\nsystem\n.'), { ...noGlobals, refusal: (name) => `no ${name} here` }))).toBe('test.pkl: no os.system here');
  });

  it('refuses REDUCE, BUILD and friends on values that are not allowed callables', () => {
    expect(failure(() => load(bytes('\x80\x02X\x02\x00\x00\x00osK\x01\x85R.')))).toContain('REDUCE needs a callable, got a str');
    expect(failure(() => load(bytes('\x80\x02}}b.')))).toContain('refusing to set the state of a dict value (BUILD)');
    expect(failure(() => load(bytes('\x80\x02K\x01)\x81.')))).toContain('NEWOBJ needs a callable');
    expect(failure(() => load(bytes('(K\x01K\x02o.')))).toContain('OBJ needs a callable');
    expect(failure(() => load(bytes('\x80\x02\x82\x01.')))).toContain('extension codes');
    expect(failure(() => load(bytes('\x80\x05\x97.')))).toContain('out-of-band buffers');
    expect(failure(() => load(bytes('\x80\x02K\x01Q.')))).toContain('persistent ids');
    expect(failure(() => load(bytes('\x80\x02)K\x01a.')))).toContain('APPEND needs a list, got a list/tuple');
  });

  it('reports truncated and malformed pickles clearly', () => {
    expect(failure(() => load(bytes('\x80\x02K\x01')))).toBe('test.pkl: truncated pickle: it ends without a STOP opcode (pickle byte 4)');
    expect(failure(() => load(bytes('\x80\x02X\x10\x00\x00\x00abc')))).toContain('truncated pickle: needs 16 more bytes, only 3 left');
    expect(failure(() => load(bytes('\x80\x02J\x01\x00')))).toBe('test.pkl: truncated pickle: needs 4 more bytes, only 2 left (pickle byte 2)');
    expect(failure(() => load(bytes('\x80')))).toBe('test.pkl: truncated pickle: needs 1 more bytes, only 0 left (pickle byte 0)');
    expect(failure(() => load(bytes('M\x01')))).toContain('needs 2 more bytes, only 1 left (pickle byte 0)');
    expect(failure(() => load(bytes('j\x01\x02\x03')))).toContain('needs 4 more bytes, only 3 left (pickle byte 0)');
    expect(failure(() => load(bytes('G\x3f\xf8')))).toContain('needs 8 more bytes, only 2 left (pickle byte 0)');
    expect(failure(() => load(bytes('\x80\x04\x95\x01\x00')))).toContain('needs 8 more bytes, only 2 left (pickle byte 2)');
    expect(failure(() => load(bytes('cos\nsys')))).toContain('truncated pickle: text argument without a newline');
    expect(failure(() => load(new Uint8Array(0)))).toContain('pickle is empty');
    expect(failure(() => load(bytes('\x80\x06.')))).toContain('unsupported pickle protocol 6');
    expect(failure(() => load(bytes('\x80\x02.')))).toContain('stack underflow');
    expect(failure(() => load(bytes('\x80\x02K\x01(.')))).toContain('stack underflow'); // items below a MARK are out of reach
    expect(failure(() => load(bytes('\x80\x02h\x07.')))).toContain('memo entry 7 is not defined');
    expect(failure(() => load(bytes('\x80\x02\xff.')))).toContain('unknown opcode 0xff');
    expect(failure(() => load(bytes('\x80\x02X\x01\x00\x00\x00\xff.')))).toContain('invalid UTF-8');
    expect(failure(() => load(bytes('\x80\x02(K\x01d.')))).toContain('odd number of dict items');
  });

  it('knows every opcode of protocols 0 to 5, and no other byte', () => {
    // pickletools.opcodes of CPython 3.12, by code.
    const python = new Set(Array.from('().012BCFGIJKLMNPQRSTUVX]abcdeghijlopqrstu}', (c) => c.charCodeAt(0)));
    for (let op = 0x80; op <= 0x98; op++) python.add(op);
    expect(python.size).toBe(68);
    for (let op = 0; op < 256; op++) {
      const message = failure(() => load(Uint8Array.of(op)));
      if (python.has(op)) expect(message, `opcode 0x${op.toString(16)}`).not.toContain('unknown opcode');
      else expect(message).toBe(`test.pkl: malformed pickle: unknown opcode 0x${op.toString(16).padStart(2, '0')} (pickle byte 0)`);
    }
  });

  it('bounds MARK nesting, the stack and the memo', () => {
    expect(failure(() => load(bytes('('.repeat(1001), '.')))).toContain('pickle nests MARKs deeper than 1000');
    const limited = (limits: UnpickleOptions<never>['limits']): UnpickleOptions<never> => ({ ...noGlobals, limits });
    expect(failure(() => load(bytes('N'.repeat(11), '.'), limited({ maxStack: 10 })))).toContain('pickle stack grows past 10 items');
    expect(failure(() => load(bytes('Nq\x00q\x01q\x02.'), limited({ maxMemo: 2 })))).toContain('pickle memo grows past 2 entries');
    expect(failure(() => load(bytes('\x8a\xff', 'A'.repeat(255), '.'), limited({ maxLongBytes: 64 })))).toContain('integer of 255 bytes is too long');
  });

  it('bounds the work of copying a memoised list again and again', () => {
    const file = 'copies.pkl';
    const run = (data: Uint8Array, limits: UnpickleOptions<never>['limits']) => unpickle(data, { file, findGlobal: torchGlobals(file), limits });
    // x = [None] * 100; then list(x) 50 times, each result popped: 7 bytes of pickle copy 100 items.
    const data = bytes('\x80\x02]q\x00(', 'N'.repeat(100), 'e', 'cbuiltins\nlist\nq\x01', 'h\x01h\x00\x85R0'.repeat(50), 'N.');
    expect(run(data, {})).toBeNull();
    const oneStepPerByte = { workPerByte: 1, workAllowance: 0 };
    expect(failure(() => run(data, oneStepPerByte))).toContain(
      `copies.pkl: pickle takes more than ${data.length} steps (opcodes plus elements copied) to decode its ${data.length} bytes`,
    );
    // Without the copies the same budget is enough: every opcode is a byte or more.
    const plain = bytes('\x80\x02]q\x00(', 'N'.repeat(100), 'e', 'h\x00h\x00\x860'.repeat(50), 'N.');
    expect(run(plain, oneStepPerByte)).toBeNull();
  });

  it('never spreads 200,000 items into a call', () => {
    const n = 200_000;
    const int = (i: number): string => `J${String.fromCharCode(i & 0xff, (i >> 8) & 0xff, (i >> 16) & 0xff, 0)}`;
    const ints = Array.from({ length: n }, (_, i) => int(i)).join('');
    const pairs = Array.from({ length: n }, (_, i) => `${int(i)}N`).join('');
    const counted = new PickleGlobal<never>('m', 'count', { call: (args) => args.length });
    const options: UnpickleOptions<never> = { file: 'big.pkl', findGlobal: (module, name) => (module === 'm' && name === 'count' ? counted : undefined) };
    const lengthOf = (value: PickleValue): number => (value instanceof Map || value instanceof Set ? value.size : (value as PickleValue[]).length);
    expect(lengthOf(load(bytes('(', 'N'.repeat(n), 'l.')))).toBe(n); // LIST
    expect(lengthOf(load(bytes('(', 'N'.repeat(n), 't.')))).toBe(n); // TUPLE
    expect(lengthOf(load(bytes(']', '(', 'N'.repeat(n), 'e.')))).toBe(n); // APPENDS
    expect(lengthOf(load(bytes('}', '(', pairs, 'u.')))).toBe(n); // SETITEMS
    expect(lengthOf(load(bytes('(', ints, '\x91.')))).toBe(n); // FROZENSET
    expect(load(bytes('(cm\ncount\n', 'N'.repeat(n), 'o.'), options)).toBe(n); // OBJ
    expect(load(bytes('cm\ncount\n(', 'N'.repeat(n), 'tR.'), options)).toBe(n); // REDUCE
  });
});

describe('pickles written by Python with protocols 2 to 5', () => {
  // The value scripts/make_format_fixtures.py pickles, written out here by hand.
  const expected = new Map<PickleValue, PickleValue>([
    ['int', -7],
    ['big', 2n ** 70n + 3n],
    ['negative_big', -(2n ** 64n)],
    ['float', 1.25e-3],
    ['text', 'héllo ✓'],
    ['bytes', new Uint8Array([0, 255, 97, 98])],
    ['list', [1, 2, [3, null]]],
    ['tuple', [true, false]],
    ['set', new Set([4, 5])],
    ['frozenset', new Set(['x'])],
    [
      'dict',
      new Map<PickleValue, PickleValue>([
        ['a', 1],
        [2, 'b'],
      ]),
    ],
  ]);
  for (const protocol of [2, 3, 4, 5]) {
    it(`protocol ${protocol}`, () => {
      const file = `pickle_protocol${protocol}.pkl`;
      const data = readFileSync(join('fixtures/formats', file));
      const value = unpickle(data, { file, findGlobal: torchGlobals(file) });
      expect(value).toEqual(expected);
      expect([...(value as Map<PickleValue, PickleValue>).keys()]).toEqual([...expected.keys()]);
    });
  }
});
