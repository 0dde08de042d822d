// The platform seam: the engine core imports nothing from node:, the browser bundle
// builds with no Node module in it, the browser platform's paths and errors, and
// checkpoints that load from bytes exactly as from a directory.

import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { buildBrowser, nodeImports } from '../../examples/web/build.js';
import { platform as browser } from '../../src/platform/browser.js';
import { cpuBackend, setBackend } from '../../src/backend/registry.js';
import { defaultsFor } from '../../src/train/config.js';
import { createModel } from '../../src/train/model-factory.js';
import { Vocabulary } from '../../src/train/vocab.js';
import { CHECKPOINT_FORMAT, CHECKPOINT_VERSION, checkpointFileContents, loadCheckpoint, loadCheckpointFromFiles, memoryFiles, saveCheckpoint, type CheckpointConfig } from '../../src/train/checkpoint.js';
import { predictText } from '../../src/train/tag.js';
import { manualSeed } from '../../src/tensor/random.js';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('the platform seam', () => {
  /**
   * Node-only by nature, and kept out of the browser bundle (the next test checks that): the platform's
   * Node side, the CLI, gzip-streamed corpus I/O for `medner predict`, the research harness's run folders.
   */
  const NODE_ONLY = [join('src', 'platform', 'node.ts'), join('src', 'cli'), join('src', 'data', 'stream.ts'), join('src', 'research')];

  it('no engine module imports node: (only src/platform/node.ts and the Node-only tools do)', () => {
    const offenders = sourceFiles('src')
      .filter((file) => !NODE_ONLY.some((prefix) => file === prefix || file.startsWith(prefix + '/')))
      .flatMap((file) =>
        readFileSync(file, 'utf8').split('\n').flatMap((line, i) =>
          // Type-only imports vanish from every bundle; anything else that names node: is a leak.
          /(from\s+['"]node:|import\(\s*['"]node:|require\(\s*['"]node:|from\s+['"]webgpu['"]|import\(\s*['"]webgpu['"])/.test(line) && !/^import type /.test(line) ? [`${file}:${i + 1}: ${line.trim()}`] : [],
        ),
      );
    expect(offenders).toEqual([]);
  });

  it('the browser bundle builds with no Node module in it and the kernels inlined', async () => {
    const out = mkdtempSync(join(tmpdir(), 'medner-bundle-'));
    try {
      const built = await buildBrowser(out);
      expect(nodeImports(built.metafile)).toEqual([]);
      const inputs = Object.keys(built.metafile.inputs);
      expect(inputs).toContain('src/platform/browser.ts');
      expect(inputs).not.toContain('src/platform/node.ts');
      expect(inputs.filter((f) => f.includes('node_modules/webgpu'))).toEqual([]);
      const library = readFileSync(join(out, 'medner.js'), 'utf8');
      expect(library).not.toMatch(/["']node:[a-z_/]+["']/);
      expect(library).toContain('fn sequence('); // crf_backward.wgsl, inlined
      expect(relative(out, join(out, 'engine.js'))).toBe('engine.js');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 60_000);

  it('a bundle that pulls in a Node module is refused', () => {
    expect(nodeImports({ inputs: { 'src/x.ts': { bytes: 1, imports: [{ path: 'node:fs', kind: 'import-statement', external: true }] } }, outputs: {} })).toEqual(['node:fs (from src/x.ts)']);
  });

  it('the browser platform: POSIX paths, no file system (a clear error), one thread outside an isolated worker', () => {
    expect(browser.path.join('a', 'b/../c', './d.json')).toBe('a/c/d.json');
    expect(browser.path.join('/run', 'best', '..', 'last')).toBe('/run/last');
    expect(browser.path.resolve('/x/y', '../z')).toBe('/x/z');
    expect(browser.path.basename('/x/model.safetensors', '.safetensors')).toBe('model');
    expect(browser.path.dirname('/x/y/z.txt')).toBe('/x/y');
    expect(() => browser.fsSync.readFileSync('config.json')).toThrow(/in a browser has no file system \(readFileSync\("config.json"\)\).*loadCheckpointFromFiles/);
    expect(browser.startThread({ body: '', data: null })).toBeNull(); // Node has no crossOriginIsolated
    expect(browser.env('MEDNER_THREADS')).toBeUndefined();
  });
});

describe('checkpoints as bytes', () => {
  it('checkpointFileContents -> loadCheckpointFromFiles gives the model saveCheckpoint -> loadCheckpoint gives, file for file', async () => {
    setBackend(cpuBackend);
    manualSeed(3);
    const config = { ...defaultsFor('bilstm-crf'), wordDim: 8, charDim: 4, charFilters: 4, lstmHidden: 6 };
    const labels = ['O', 'B-Chemical', 'I-Chemical', 'B-Disease', 'I-Disease'];
    const vocabulary = { kind: 'words' as const, words: new Vocabulary(['<pad>', '<unk>', 'aspirin', 'caused', 'nausea', '.']), chars: new Vocabulary(['<pad>', '<unk>', ...new Set('aspirincausednausea.')]) };
    const { model } = createModel(config, vocabulary, labels, null);
    const checkpoint: CheckpointConfig = { format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, model: 'bilstm-crf', labels, scheme: 'BIO', train: config, encoder: null, vocabulary: 'words', metrics: {}, data: {} };
    const dir = mkdtempSync(join(tmpdir(), 'medner-ckpt-'));
    try {
      await saveCheckpoint(dir, checkpoint, model, vocabulary);
      const files = await checkpointFileContents(checkpoint, model, vocabulary);
      expect([...files.keys()].sort()).toEqual(readdirSync(dir).sort());
      for (const [name, bytes] of files) expect(Buffer.from(bytes).equals(readFileSync(join(dir, name))), name).toBe(true);
      const fromDisk = await loadCheckpoint(dir, cpuBackend);
      const fromBytes = await loadCheckpointFromFiles(memoryFiles(files), cpuBackend);
      const text = 'Aspirin caused nausea.';
      expect(await predictText(text, fromBytes, cpuBackend)).toEqual(await predictText(text, fromDisk, cpuBackend));
      const a = fromDisk.model.stateDict(), b = fromBytes.model.stateDict();
      for (const [name, t] of a) expect(Array.from(await b.get(name)!.data()), name).toEqual(Array.from(await t.data()));
      files.delete('words.txt');
      await expect(loadCheckpointFromFiles(memoryFiles(files, '(upload)'), cpuBackend)).rejects.toThrow('(upload) words.txt: missing');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
