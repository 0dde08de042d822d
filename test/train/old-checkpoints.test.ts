// Checkpoints an earlier medner wrote (the encoder config in Hugging Face's snake_case under "bert",
// a scratch BERT without model_type) still load, into the same model: emissions and paths equal
// what that medner computed. Saving one again writes a config today's reader takes back unchanged.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cpuBackend } from '../../src/index.js';
import { loadCheckpoint, readCheckpointConfig, saveCheckpoint } from '../../src/train/checkpoint.js';

const FIXTURES = new URL('../fixtures/checkpoints/', import.meta.url).pathname;
const expected = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as {
  sentences: string[][];
} & Record<'bert' | 'roberta', { shape: number[]; emissions: number[]; paths: number[][] }>;
const scratch = mkdtempSync(join(tmpdir(), 'medner-old-checkpoints-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe.each(['bert', 'roberta'] as const)('a v1 %s checkpoint', (arch) => {
  it('loads with its encoder config read from HF names, and computes what the medner that wrote it did', async () => {
    const dir = join(FIXTURES, `v1-${arch}`);
    const loaded = await loadCheckpoint(dir, cpuBackend);
    expect(loaded.config.encoder?.modelType).toBe(arch);
    expect(loaded.config.encoder?.hiddenSize).toBe(arch === 'bert' ? 8 : 16);
    (loaded.model as unknown as { eval(): void }).eval();
    const sentences = expected.sentences.map((tokens) => ({ tokens, tags: [] as string[] }));
    const { batch } = loaded.encoder.encode(sentences, null, cpuBackend);
    const { emissions } = loaded.model.emissions(batch);
    expect(emissions.shape).toEqual(expected[arch].shape);
    const got = emissions.dataSync();
    expected[arch].emissions.forEach((e, i) => expect(Math.abs(got[i]! - e)).toBeLessThanOrEqual(1e-6 + 1e-5 * Math.abs(e)));
    expect(await loaded.model.predict(batch)).toEqual(expected[arch].paths);

    // Saved again, it reads back to the same encoder config (now with model_type and every field).
    const again = join(scratch, arch);
    await saveCheckpoint(again, loaded.config, loaded.model, loaded.vocabulary);
    const written = JSON.parse(readFileSync(join(again, 'config.json'), 'utf8')) as { bert: Record<string, unknown> };
    expect(written.bert.model_type).toBe(arch);
    expect(written.bert.hidden_size).toBe(loaded.config.encoder?.hiddenSize);
    const reread = await readCheckpointConfig(again);
    const strip = ({ raw: _raw, ...rest }: NonNullable<typeof reread.encoder>) => rest;
    expect(strip(reread.encoder!)).toEqual(strip(loaded.config.encoder!));
    loaded.model.dispose();
  });
});
