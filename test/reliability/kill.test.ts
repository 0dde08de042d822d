// Kill safety: `medner train` is killed with SIGKILL at 20 seeded random moments (during start-up, inside
// epochs, during checkpoint saves, in the final evaluation) and continued with `--resume`. After every kill
// the best/ and last/ checkpoints present load; every resumed run ends with weights (last/ and best/)
// byte-identical to an uninterrupted run of the same seed. A tiny BiLSTM-CRF on a synthetic corpus keeps it
// within CI time. Also: each crash point of the directory swap that saves a checkpoint is recovered.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cpuBackend } from '../../src/backend/registry.js';
import { completeCheckpoint, loadCheckpoint, writeDirectoryAtomically } from '../../src/train/checkpoint.js';

/** mulberry32: the kill moments are the same on every run of the test. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 40 short sentences with drugs and diseases: a model this small learns them within a few epochs. */
function syntheticCorpus(): string {
  const random = rng(7);
  const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
  const drugs = ['aspirin', 'naloxone', 'clonidine', 'lithium', 'heparin', 'cocaine'];
  const diseases = ['pain', 'fever', 'hypertension', 'seizures', 'nausea'];
  const words = ['the', 'patient', 'had', 'after', 'with', 'severe', 'and', 'was', 'given', 'no'];
  let out = '';
  for (let i = 0; i < 40; i++) {
    for (let j = 4 + Math.floor(random() * 8); j > 0; j--) {
      const x = random();
      if (x < 0.15) out += `${pick(drugs)}\tB-Chemical\n`;
      else if (x < 0.25) out += `chronic\tB-Disease\n${pick(diseases)}\tI-Disease\n`;
      else if (x < 0.35) out += `${pick(diseases)}\tB-Disease\n`;
      else out += `${pick(words)}\tO\n`;
    }
    out += '\n';
  }
  return out;
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** Milliseconds from spawn to the "model:" line (start-up done), and from there to exit. */
  startup: number | null;
  training: number | null;
}

/** Run `medner train`; `killAt` decides when to SIGKILL it: ms after spawn, or ms after training starts. */
function medner(args: string[], killAt?: { after: 'spawn' | 'model'; ms: number }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['src/cli/bin.js', 'train', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let modelAt: number | null = null;
    const kill = () => child.kill('SIGKILL');
    if (killAt?.after === 'spawn') setTimeout(kill, killAt.ms);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (modelAt === null && /^model: /m.test(stdout)) {
        modelAt = performance.now();
        if (killAt?.after === 'model') setTimeout(kill, killAt.ms);
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const ended = performance.now();
      if (code !== 0 && signal === null) return reject(new Error(`medner train exited with ${code}: ${stderr}`));
      resolve({ code, signal, stdout, startup: modelAt === null ? null : modelAt - started, training: modelAt === null ? null : ended - modelAt });
    });
  });
}

const weights = (dir: string, which: string) => readFileSync(join(dir, which, 'model.safetensors'));

describe('kill -9 during training, then --resume', () => {
  it('20 kills at seeded random moments: checkpoints always load, and every run ends with the uninterrupted weights', async () => {
    const root = mkdtempSync(join(tmpdir(), 'medner-kill-'));
    const corpus = join(root, 'corpus.tsv');
    const config = join(root, 'config.json');
    writeFileSync(corpus, syntheticCorpus());
    writeFileSync(config, JSON.stringify({ epochs: 8, batchSize: 8, wordDim: 8, charDim: 4, charFilters: 4, lstmHidden: 8, lr: 0.03, patience: 100, seed: 3 }));
    const args = (out: string) => ['--train', corpus, '--dev', corpus, '--config', config, '--out', out, '--no-progress'];

    const whole = join(root, 'whole');
    const reference = await medner(args(whole));
    expect(reference.code).toBe(0);
    expect(reference.stdout.match(/\(best so far\)/g)!.length).toBeGreaterThan(2); // best/ is rewritten during the run
    const startup = reference.startup!;
    const training = reference.training!;

    const random = rng(19);
    // One kill in five lands in start-up (loading, the corpus, the model), the others while training,
    // checkpoint saves and the final evaluation included. Drawn up front, so the trials can run two at a time.
    const moments = Array.from({ length: 20 }, () => (random() < 0.2 ? ({ after: 'spawn', ms: random() * startup } as const) : ({ after: 'model', ms: random() * training } as const)));
    const trial = async (i: number): Promise<string> => {
      const out = join(root, `trial${i}`);
      mkdirSync(out);
      const run = await medner(args(out), moments[i]);
      const epochs = run.stdout.match(/^epoch \d+/gm)?.length ?? 0;
      const what = run.signal === 'SIGKILL' ? `${moments[i]!.after}+${Math.round(moments[i]!.ms)}ms (${epochs} epochs logged)` : 'finished first';
      // Whatever the moment, the checkpoints on disk are whole: loadable, never half-written.
      for (const which of ['best', 'last']) {
        const dir = await completeCheckpoint(join(out, which));
        if (existsSync(join(dir, 'config.json'))) (await loadCheckpoint(dir, cpuBackend)).model.dispose();
      }
      const final = await medner([...args(out), '--resume', out]);
      expect(final.code).toBe(0);
      for (const which of ['last', 'best']) expect(weights(out, which).equals(weights(whole, which)), `trial ${i} (${what}): ${which}/ differs`).toBe(true);
      return what;
    };
    const killed: string[] = [];
    for (let i = 0; i < moments.length; i += 2) killed.push(...(await Promise.all([trial(i), trial(i + 1)])));
    console.log(`kill moments: ${killed.join('; ')}`);
    expect(killed.filter((k) => k !== 'finished first').length).toBeGreaterThanOrEqual(16);
  }, 600_000);
});

describe('the directory swap that saves a checkpoint', () => {
  const save = (dir: string, content: string) =>
    writeDirectoryAtomically(dir, async (tmp) => {
      await writeFile(join(tmp, 'model.safetensors'), content);
      await writeFile(join(tmp, 'config.json'), '{}');
    });
  const readModel = async (dir: string) => readFileSync(join(await completeCheckpoint(dir), 'model.safetensors'), 'utf8');

  it('a crash at any step leaves a complete checkpoint that the next save keeps until it is replaced', async () => {
    // Each state is what a kill leaves at one step of: rm tmp, mkdir tmp, write tmp, rm old, rename dir -> old,
    // rename tmp -> dir, rm old.
    const crashes: [string, (dir: string) => Promise<void>][] = [
      ['while writing tmp', async (dir) => void (await mkdir(`${dir}.tmp`), await writeFile(`${dir}.tmp/model.safetensors`, 'half'))],
      ['after renaming dir to old', async (dir) => void (await rename(dir, `${dir}.old`), await mkdir(`${dir}.tmp`), await writeFile(`${dir}.tmp/config.json`, '{}'))],
      ['while removing old (config.json left)', async (dir) => void (await mkdir(`${dir}.old`), await writeFile(`${dir}.old/config.json`, '{}'))],
    ];
    for (const [when, crash] of crashes) {
      const dir = join(mkdtempSync(join(tmpdir(), 'medner-swap-')), 'best');
      await save(dir, 'first');
      await crash(dir);
      expect(await readModel(dir), when).toBe('first');
      // The next save, itself killed right after removing old: the previous checkpoint must survive it.
      await expect(
        writeDirectoryAtomically(dir, async (tmp) => {
          await writeFile(join(tmp, 'config.json'), '{}');
          expect(await readModel(dir), when).toBe('first');
          throw new Error('killed');
        }),
      ).rejects.toThrow('killed');
      expect(await readModel(dir), when).toBe('first');
      await save(dir, 'second');
      expect(await readModel(dir), when).toBe('second');
      expect(existsSync(`${dir}.old`) || existsSync(`${dir}.tmp`), when).toBe(false);
      await rm(dir, { recursive: true });
    }
  });
});
