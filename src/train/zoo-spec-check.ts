/**
 * Validation of a parsed zoo spec (the JSON of zoos/*.json). Every field is checked and every
 * problem collected before anything is reported, so a user fixes a spec in one round instead of
 * one error per run, and nothing is trained or written for a spec with any problem.
 */
import { type JsonObject, isIntegerAtLeast, isJsonObject } from '../base/validate.js';
import { KNOWN_BASE_DATASETS, isKnownBaseDataset } from '../data/base-datasets.js';
import { parseTaskSpec } from '../data/task-spec.js';
import { parseSetting } from './settings.js';
import type { ZooSpec } from './zoo-spec.js';
import { InputError } from '../base/errors.js';

/** All problems of one spec; each line of the message reads `<file>: <field path>: <problem>`. */
export class ZooSpecError extends InputError {
  /** `<field path>: <problem>`, in the order of the spec. */
  readonly problems: readonly string[];

  constructor(file: string, problems: readonly string[]) {
    super(file, problems.join(`\n${file}: `));
    this.name = 'ZooSpecError';
    this.problems = problems;
  }
}

const ARCHES = ['mlp', 'convnet', 'resnet18', 'resnet34', 'resnet50'];
const RESNETS = ['resnet18', 'resnet34', 'resnet50'];
const TOP_KEYS = ['name', 'description', 'seed', 'probes', 'evalLimit', 'roots', 'generations', '$schema', 'comment'];
const ROOT_KEYS = ['name', 'count', 'arch', 'hyper', 'task', 'seed', 'train', 'comment'];
const GENERATION_KEYS = ['children', 'tasks', 'settings', 'pairs', 'train', 'head', 'comment'];
const TRAIN_KEYS = ['optimizer', 'lr', 'momentum', 'nesterov', 'betas', 'eps', 'weightDecay', 'steps', 'epochs', 'batch', 'lrStep', 'lrGamma'];
/** Which architectures read each hyper field; a field another arch would silently ignore is an error. */
const HYPER_ARCHES: Record<string, readonly string[]> = { sizes: ['mlp'], hidden: ['mlp'], widths: ['convnet'], stem: RESNETS, baseWidth: RESNETS };

/** Collects `path: problem` lines; every check returns whether its value was acceptable. */
class Problems {
  readonly list: string[] = [];

  add(path: string, problem: string): false {
    this.list.push(`${path}: ${problem}`);
    return false;
  }

  unknownKeys(v: JsonObject, allowed: readonly string[], path: string): void {
    for (const k of Object.keys(v)) if (!allowed.includes(k)) this.add(path, `unknown field '${k}' (expected ${allowed.join(', ')})`);
  }

  integer(v: unknown, path: string, min = 1): boolean {
    if (isIntegerAtLeast(v, min)) return true;
    return this.add(path, `must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  }

  optionalInteger(v: unknown, path: string, min = 1): boolean {
    return v === undefined || this.integer(v, path, min);
  }

  intList(v: unknown, path: string, minLength = 1): boolean {
    if (!Array.isArray(v) || v.length < minLength) {
      return this.add(path, `must be a list of at least ${minLength} positive integer${minLength === 1 ? '' : 's'}`);
    }
    return v.map((x, i) => this.integer(x, `${path}[${i}]`)).every(Boolean);
  }

  string(v: unknown, path: string): boolean {
    return v === undefined || typeof v === 'string' || this.add(path, `must be a string, got ${JSON.stringify(v)}`);
  }

  task(v: unknown, path: string): boolean {
    if (typeof v !== 'string') return this.add(path, `must be a task id string such as "mnist" or "fashion:subset=0-4", got ${JSON.stringify(v)}`);
    let base: string;
    try {
      base = parseTaskSpec(v).base;
    } catch (err) {
      // the first line names the problem; the rest lists every task form, too long per field
      return this.add(path, (err as Error).message.split('\n')[0]);
    }
    if (!isKnownBaseDataset(base)) return this.add(path, `unknown base dataset '${base}' (known: ${KNOWN_BASE_DATASETS.join(', ')})`);
    return true;
  }

  setting(v: unknown, path: string): boolean {
    if (typeof v !== 'string') return this.add(path, `must be a string such as "full" or "lora:4", got ${JSON.stringify(v)}`);
    try {
      parseSetting(v);
      return true;
    } catch (err) {
      return this.add(path, (err as Error).message);
    }
  }

  train(v: unknown, path: string): void {
    if (!isJsonObject(v)) {
      this.add(path, 'must be an object such as {"optimizer": "sgd", "lr": 0.05, "steps": 300, "batch": 64}');
      return;
    }
    this.unknownKeys(v, TRAIN_KEYS, path);
    const num = (k: string, min: number, strict = false) => {
      const x = v[k];
      if (x === undefined) return;
      if (typeof x !== 'number' || !Number.isFinite(x) || x < min || (strict && x === min)) {
        this.add(`${path}.${k}`, `must be a number ${strict ? '>' : '>='} ${min}, got ${JSON.stringify(x)}`);
      }
    };
    if (v.optimizer !== undefined && v.optimizer !== 'sgd' && v.optimizer !== 'adam')
      this.add(`${path}.optimizer`, `must be "sgd" or "adam", got ${JSON.stringify(v.optimizer)}`);
    num('lr', 0, true);
    num('momentum', 0);
    num('weightDecay', 0);
    num('eps', 0, true);
    num('epochs', 0, true);
    num('lrGamma', 0, true);
    if (typeof v.momentum === 'number' && v.momentum >= 1) this.add(`${path}.momentum`, `must be below 1, got ${v.momentum}`);
    this.optionalInteger(v.steps, `${path}.steps`);
    this.optionalInteger(v.batch, `${path}.batch`);
    this.optionalInteger(v.lrStep, `${path}.lrStep`, 0);
    if (v.nesterov !== undefined && typeof v.nesterov !== 'boolean') this.add(`${path}.nesterov`, 'must be true or false');
    if (v.betas !== undefined && !(Array.isArray(v.betas) && v.betas.length === 2 && v.betas.every((b) => typeof b === 'number' && b >= 0 && b < 1))) {
      this.add(`${path}.betas`, 'must be two numbers in [0, 1)');
    }
    if ((v.steps === undefined) === (v.epochs === undefined)) this.add(path, 'give exactly one of steps and epochs');
  }

  hyper(v: unknown, arch: unknown, path: string): void {
    if (v === undefined) return;
    if (!isJsonObject(v)) {
      this.add(path, 'must be an object');
      return;
    }
    this.unknownKeys(v, Object.keys(HYPER_ARCHES), path);
    for (const [field, arches] of Object.entries(HYPER_ARCHES)) {
      if (v[field] !== undefined && typeof arch === 'string' && ARCHES.includes(arch) && !arches.includes(arch)) {
        this.add(`${path}.${field}`, `applies to ${arches.join(', ')}, not ${arch}`);
      }
    }
    if (v.sizes !== undefined && v.hidden !== undefined) this.add(path, 'give sizes (all layers) or hidden (hidden layers only), not both');
    if (v.sizes !== undefined) this.intList(v.sizes, `${path}.sizes`, 2);
    if (v.hidden !== undefined) this.intList(v.hidden, `${path}.hidden`);
    if (v.widths !== undefined) this.intList(v.widths, `${path}.widths`);
    this.optionalInteger(v.baseWidth, `${path}.baseWidth`);
    if (v.stem !== undefined && v.stem !== 'cifar' && v.stem !== 'imagenet')
      this.add(`${path}.stem`, `must be "cifar" or "imagenet", got ${JSON.stringify(v.stem)}`);
  }
}

function checkRoots(roots: unknown, p: Problems): void {
  if (!Array.isArray(roots) || roots.length === 0) {
    p.add('roots', 'must be a non-empty list');
    return;
  }
  const names = new Map<string, number>();
  roots.forEach((r, i) => {
    const path = `roots[${i}]`;
    if (!isJsonObject(r)) {
      p.add(path, 'must be an object');
      return;
    }
    p.unknownKeys(r, ROOT_KEYS, path);
    if (typeof r.arch !== 'string' || !ARCHES.includes(r.arch)) p.add(`${path}.arch`, `must be one of ${ARCHES.join(', ')}, got ${JSON.stringify(r.arch)}`);
    const name = r.name ?? r.arch;
    if (typeof name !== 'string' || !/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) {
      p.add(`${path}.name`, `must be letters, digits and _ (it prefixes model ids), got ${JSON.stringify(name)}`);
    } else if (names.has(name)) {
      p.add(`${path}.name`, `'${name}' is used by roots[${names.get(name)}] too`);
    } else {
      names.set(name, i);
    }
    p.optionalInteger(r.count, `${path}.count`);
    p.optionalInteger(r.seed, `${path}.seed`, 0);
    p.task(r.task, `${path}.task`);
    p.train(r.train, `${path}.train`);
    p.hyper(r.hyper, r.arch, `${path}.hyper`);
  });
}

function checkGeneration(g: unknown, path: string, p: Problems): void {
  if (!isJsonObject(g)) {
    p.add(path, 'must be an object');
    return;
  }
  p.unknownKeys(g, GENERATION_KEYS, path);
  p.integer(g.children, `${path}.children`);
  if ((g.pairs === undefined) === (g.tasks === undefined)) p.add(path, 'give either "tasks" (with optional "settings") or "pairs"');
  if (g.pairs !== undefined) {
    if (g.settings !== undefined) p.add(`${path}.settings`, 'not allowed with "pairs" (each pair names its setting)');
    if (!Array.isArray(g.pairs) || g.pairs.length === 0) {
      p.add(`${path}.pairs`, 'must be a non-empty list of {"task", "setting"}');
    } else {
      g.pairs.forEach((pair: unknown, j) => {
        const at = `${path}.pairs[${j}]`;
        if (!isJsonObject(pair)) {
          p.add(at, 'must be an object {"task": ..., "setting": ...}');
          return;
        }
        p.unknownKeys(pair, ['task', 'setting'], at);
        p.task(pair.task, `${at}.task`);
        if (pair.setting !== undefined) p.setting(pair.setting, `${at}.setting`);
      });
    }
  }
  if (g.tasks !== undefined) {
    if (!Array.isArray(g.tasks) || g.tasks.length === 0) p.add(`${path}.tasks`, 'must be a non-empty list of task ids');
    else g.tasks.forEach((t: unknown, j) => p.task(t, `${path}.tasks[${j}]`));
    if (g.settings !== undefined && g.pairs === undefined) {
      if (!Array.isArray(g.settings) || g.settings.length === 0) p.add(`${path}.settings`, 'must be a non-empty list of settings');
      else g.settings.forEach((s: unknown, j) => p.setting(s, `${path}.settings[${j}]`));
    }
  }
  if (g.head !== undefined && !['auto', 'replace', 'keep'].includes(g.head as string))
    p.add(`${path}.head`, `must be "auto", "replace" or "keep", got ${JSON.stringify(g.head)}`);
  p.train(g.train, `${path}.train`);
}

/** Validates parsed JSON as a zoo spec; `file` names it in errors. Throws a ZooSpecError listing every problem. */
export function checkZooSpec(value: unknown, file: string): ZooSpec {
  const p = new Problems();
  if (!isJsonObject(value)) {
    p.add('spec', 'must be a JSON object with "roots" (and usually "generations")');
  } else {
    p.unknownKeys(value, TOP_KEYS, 'spec');
    p.string(value.name, 'name');
    p.string(value.description, 'description');
    p.optionalInteger(value.seed, 'seed', 0);
    p.optionalInteger(value.probes, 'probes');
    p.optionalInteger(value.evalLimit, 'evalLimit');
    checkRoots(value.roots, p);
    if (value.generations !== undefined && !Array.isArray(value.generations)) p.add('generations', 'must be a list');
    else (value.generations ?? []).forEach((g: unknown, i: number) => checkGeneration(g, `generations[${i}]`, p));
  }
  if (p.list.length > 0) throw new ZooSpecError(file, p.list);
  return value as ZooSpec;
}
