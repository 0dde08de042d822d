// What an npm user gets: `npm pack` (which builds dist/ through `prepare`), the tarball
// installed offline into an empty project, CPU only (--omit=optional), and there:
// the README's library examples run as .mjs files and type-checked as .ts (NodeNext and
// bundler resolution), the `medner` binary through npx, the one-line error for a missing
// WebGPU package, and the WebGPU backend once Dawn is linked in, its kernels found
// inside the installed package. Nothing here imports ../../src.
//
// Offline: the dependencies (commander) are packed from this checkout's node_modules and
// installed beside the tarball with an empty npm cache, so no registry is asked anything.

import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; dependencies: Record<string, string> };
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

/** The ```js blocks of the README's "## Library" section, in order. */
export function readmeLibraryExamples(readme: string): string[] {
  const section = readme.slice(readme.indexOf('\n## Library\n'), readme.indexOf('\n## ', readme.indexOf('\n## Library\n') + 1));
  return [...section.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

let work = '';
let project = '';

function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd: options.cwd ?? project, env: options.env ?? process.env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

/** Run and require exit 0; the failure message carries the output. */
function ok(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const result = run(command, args, options);
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status}\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** `npm pack` of a directory into `work`; returns the tarball's path. */
function pack(dir: string): string {
  const out = ok('npm', ['pack', dir, '--json', '--pack-destination', work, '--loglevel=error'], { cwd: ROOT });
  const [info] = JSON.parse(out.slice(out.indexOf('['))) as { filename: string }[];
  return join(work, info!.filename);
}

/** This checkout's installed copies of medner's runtime dependencies and theirs. */
function dependencyClosure(names: string[], seen = new Set<string>()): string[] {
  for (const name of names) {
    if (seen.has(name)) continue;
    seen.add(name);
    const manifest = JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    dependencyClosure(Object.keys(manifest.dependencies ?? {}), seen);
  }
  return [...seen];
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'medner-pack-'));
  project = join(work, 'project');
  mkdirSync(project);
  const tarball = pack(ROOT); // runs `prepare`: a clean build of dist/
  const dependencies = dependencyClosure(Object.keys(pkg.dependencies)).map((name) => pack(join(ROOT, 'node_modules', name)));
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  ok('npm', ['install', '--offline', '--omit=optional', '--no-audit', '--no-fund', '--loglevel=error', '--cache', join(work, 'npm-cache'), ...dependencies, tarball]);
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed tarball, installed CPU-only into an empty project', () => {
  it('holds the built JavaScript, declarations, kernels and sample corpus, and no tests', () => {
    const installed = join(project, 'node_modules', pkg.name);
    const files = ok('find', ['.', '-type', 'f'], { cwd: installed }).split('\n');
    for (const file of ['./dist/index.js', './dist/index.d.ts', './dist/cli/main.js', './kernels/matmul.wgsl', './dist/data/sample/bc5cdr-train.tsv', './dist/browser/medner.js', './package.json']) {
      expect(files).toContain(file);
    }
    expect(files.filter((f) => f.startsWith('./test/') || f.startsWith('./bench/') || f.endsWith('.test.ts'))).toEqual([]);
    expect(files).not.toContain('./src/cli/bin.js');
    expect(ok('ls', ['node_modules'])).not.toMatch(/\b(webgpu|tsx|typescript|vitest)\b/);
  });

  it("runs the README's library examples as written, as plain .mjs files", () => {
    const examples = readmeLibraryExamples(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    expect(examples.length).toBe(2);
    examples.forEach((code, i) => writeFileSync(join(project, `example-${i + 1}.mjs`), code));

    const training = ok(process.execPath, ['example-1.mjs']);
    expect(training).toMatch(/^test F1 0\.\d{3}$/m);
    const micro = Number(/^micro F1 (0\.\d{3})$/m.exec(training)?.[1]);
    expect(micro).toBeCloseTo(Number(/^test F1 (0\.\d{3})$/m.exec(training)?.[1]), 3);

    const autodiff = ok(process.execPath, ['example-2.mjs']);
    // d/dx sum(tanh(x) x) = tanh(x) + x (1 - tanh(x)^2)
    const expected = [1, 2, 3].map((x) => Math.tanh(x) + x * (1 - Math.tanh(x) ** 2));
    const printed = autodiff.match(/-?\d+\.\d+(e-?\d+)?/g)!.map(Number);
    printed.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
  }, 300_000);

  it('type-checks a TypeScript consumer under moduleResolution NodeNext and bundler', () => {
    const examples = readmeLibraryExamples(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    mkdirSync(join(project, 'ts'), { recursive: true });
    examples.forEach((code, i) => writeFileSync(join(project, 'ts', `example-${i + 1}.ts`), code));
    writeFileSync(join(project, 'ts', 'consumer.ts'), CONSUMER);
    // The consumer's own @types/node, as any Node TypeScript project has it.
    mkdirSync(join(project, 'node_modules/@types'), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules/@types/node'), join(project, 'node_modules/@types/node'), 'dir');
    const common = { target: 'ES2022', strict: true, noEmit: true, skipLibCheck: false };
    for (const [name, options] of [
      ['tsconfig.nodenext.json', { module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2023'], types: ['node'] }],
      // A bundler project for the browser: DOM types, no @types/node.
      ['tsconfig.bundler.json', { module: 'ESNext', moduleResolution: 'bundler', lib: ['ES2023', 'DOM'], types: [] }],
    ] as const) {
      writeFileSync(join(project, name), JSON.stringify({ compilerOptions: { ...common, ...options }, include: ['ts'] }));
      const result = run(process.execPath, [TSC, '-p', name]);
      expect(`${result.stdout}${result.stderr}`, name).toBe('');
      expect(result.status, name).toBe(0);
    }
  }, 120_000);

  it('runs `npx medner` with plain node: --version, --help, train --epochs 1 on the bundled sample', () => {
    expect(ok('npx', ['--offline', 'medner', '--version']).trim()).toBe(pkg.version);
    const help = ok('npx', ['--offline', 'medner', '--help']);
    for (const command of ['train', 'eval', 'predict', 'convert']) expect(help).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    // --help loads the command definitions only: no engine module (start-up time, README).
    const hook = `data:text/javascript,${encodeURIComponent(LOAD_LOGGER)}`;
    const loaded = run(process.execPath, ['--import', hook, 'node_modules/medner/dist/cli/main.js', '--help']).stderr.split('\n').filter((l) => l.startsWith('loaded '));
    expect(loaded.length).toBeGreaterThan(0);
    expect(loaded.filter((l) => /\/dist\/(tensor|backend|autograd|ops|nn|models|optim|crf)\/|\/train\/(trainer|checkpoint|evaluate)\.js/.test(l))).toEqual([]);
    const trained = ok('npx', ['--offline', 'medner', 'train', '--epochs', '1', '--no-progress', '--out', 'runs/cli']);
    expect(trained).toMatch(/bundled BC5CDR sample \(.*node_modules\/medner\/dist\/data\/sample\)/);
    expect(trained).toMatch(/^test F1 0\.\d{4}/m);
  }, 300_000);

  it('without the optional webgpu package, --backend webgpu is a one-line error saying how to install it', () => {
    const result = run('npx', ['--offline', 'medner', 'train', '--backend', 'webgpu', '--epochs', '1', '--out', 'runs/gpu']);
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual(["medner: webgpu: the optional package 'webgpu' (Dawn for Node) is not installed; install it with: npm install webgpu"]);
  }, 60_000);

  it('with webgpu added, the WebGPU backend loads its WGSL kernels from the installed package', () => {
    symlinkSync(join(ROOT, 'node_modules/webgpu'), join(project, 'node_modules/webgpu'), 'dir');
    writeFileSync(join(project, 'gpu.mjs'), GPU_SCRIPT);
    const printed = JSON.parse(ok(process.execPath, ['gpu.mjs'])) as { backend: string; product: number[] };
    expect(printed.backend).toBe('webgpu');
    expect(printed.product).toEqual([19, 22, 43, 50]);
  }, 120_000);
});

/** Types a consumer names, and imports the package must refuse. */
const CONSUMER = `
import { Tensor, tensor, ops, nn, optim, models, data, metrics, text, io, CRF, useBackend, cpuBackend, trainTagger, loadTagger, TRAIN_DEFAULTS } from 'medner';
import type { Backend, TrainConfig, TrainResult, PredictedEntity, ModelKind, TrainTaggerOptions } from 'medner';

const config: Partial<TrainConfig> = { ...TRAIN_DEFAULTS, epochs: 1, model: 'bilstm-crf' satisfies ModelKind };
const options: TrainTaggerOptions = { train: 'a.tsv', out: 'runs/x', config };
const backend: Backend = cpuBackend;
const linear = new nn.Linear(4, 2);
const y: Tensor = linear.forward(tensor([1, 2, 3, 4], [1, 4]));
const optimizer = new optim.AdamW(linear.namedParameters(), { lr: 1e-3 });
const crf = new CRF(3);
const sentences: data.Sentence[] = data.parseConll('Aspirin\\tB-Chemical\\n');
const scores: metrics.EntityScores = metrics.entityScores([['B-X']], [['B-X']]);
declare const entity: PredictedEntity;
declare const result: TrainResult;
export const used = [options, backend, y, ops.relu(y), optimizer, crf, sentences, scores, entity.label, result.bestEpoch, models.BiLstmCrf, text.WordPieceTokenizer, io.loadSafetensors, useBackend, trainTagger, loadTagger];

// @ts-expect-error: kernel-level ops that skip autograd are not part of the API
ops.unaryKernel;
// @ts-expect-error: nor is the optimizers' internal tensor copy
optim.cloneTensor;
// @ts-expect-error: nor are host reads
nn.readHost;
// @ts-expect-error: the package's files are reached through its exports only
import('medner/dist/nn/host.js');
`;

/** Registers a resolve hook that prints each module of the package as it is resolved. */
const LOAD_LOGGER = `
import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(
  "export async function resolve(s, c, next) { const r = await next(s, c); if (r.url.includes('/node_modules/medner/')) process.stderr.write('loaded ' + r.url + '\\\\n'); return r; }"));
`;

/** A matmul on the WebGPU backend (Dawn; llvmpipe on a machine without a GPU). */
const GPU_SCRIPT = `
import { useBackend, tensor, ops } from 'medner';
const backend = await useBackend('webgpu');
const product = ops.matmul(tensor([1, 2, 3, 4], [2, 2]), tensor([5, 6, 7, 8], [2, 2]));
console.log(JSON.stringify({ backend: backend.name, product: Array.from(await product.data()) }));
process.exit(0);
`;
