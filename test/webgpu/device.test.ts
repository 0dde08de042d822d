// Device selection and backend choice: the adapter report, useBackend() and
// MEDNER_BACKEND, and the kernel-interface table against the WGSL files.

import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { cpuBackend, getBackend, setBackend, useBackend, chooseBackendName } from '../../src/backend/registry.js';
import { KERNELS, packUniforms } from '../../src/backend/webgpu/kernels.js';
import { mergeDimensions } from '../../src/backend/webgpu/index.js';
import { webgpu } from './setup.js';

describe('webgpu device', () => {
  it('reports the adapter it chose', async () => {
    const gpu = await webgpu();
    expect(gpu.name).toBe('webgpu');
    expect(typeof gpu.adapter.description).toBe('string');
    expect(['default', 'opengles', 'browser']).toContain(gpu.adapter.backend);
    expect(typeof gpu.adapter.fallback).toBe('boolean');
    if (gpu.adapter.backend === 'opengles') expect(gpu.adapter.fallback).toBe(true);
  });
});

describe('useBackend', () => {
  const saved = process.env.MEDNER_BACKEND;
  afterEach(() => {
    if (saved === undefined) delete process.env.MEDNER_BACKEND;
    else process.env.MEDNER_BACKEND = saved;
    setBackend(cpuBackend);
  });

  it('selects the CPU backend by name', async () => {
    delete process.env.MEDNER_BACKEND;
    expect(await useBackend('cpu')).toBe(cpuBackend);
    expect(getBackend()).toBe(cpuBackend);
  });

  it('takes an explicit name over MEDNER_BACKEND, MEDNER_BACKEND over the default, and creates the WebGPU backend once', async () => {
    process.env.MEDNER_BACKEND = 'webgpu';
    expect(await useBackend('cpu')).toBe(cpuBackend);
    const first = await useBackend();
    expect(first.name).toBe('webgpu');
    expect(getBackend()).toBe(first);
    expect(await useBackend('webgpu')).toBe(first);
    process.env.MEDNER_BACKEND = 'cpu';
    expect(await useBackend()).toBe(cpuBackend);
    delete process.env.MEDNER_BACKEND;
    expect(chooseBackendName()).toBe('cpu');
    expect(() => chooseBackendName('cuda', '--backend')).toThrow("--backend must be cpu or webgpu, got 'cuda'");
  });

  it('rejects an unknown MEDNER_BACKEND with the allowed values', async () => {
    process.env.MEDNER_BACKEND = 'cuda';
    await expect(useBackend()).rejects.toThrow(/MEDNER_BACKEND must be cpu or webgpu/);
  });
});

describe('kernel interface table', () => {
  it('names, for every entry point, bindings and a uniform struct that the WGSL file declares', () => {
    for (const [name, spec] of Object.entries(KERNELS)) {
      const source = readFileSync(new URL(`../../kernels/${spec.file}`, import.meta.url), 'utf8');
      expect(source, `${name}: entry point`).toMatch(new RegExp(`fn ${spec.entryPoint}\\(`));
      spec.bindings.forEach((binding, i) => {
        if (binding === null) return;
        expect(source, `${name}: binding ${i + 1}`).toMatch(new RegExp(`@binding\\(${i + 1}\\) var<storage, [a-z_]+> ${binding}:`));
      });
      for (const [field] of spec.uniforms) expect(source, `${name}: uniform ${field}`).toMatch(new RegExp(`struct Params \\{[^}]*\\b${field}:`));
    }
  });

  it('packs uniforms with WGSL alignment (dims on 16 bytes, size a multiple of 16)', () => {
    const bytes = packUniforms(KERNELS.copyStrided, { shape: [2, 3], srcStrides: [3, 1], dstStrides: [1, 2], rank: 2, size: 6, srcOffset: 4, dstOffset: 5 });
    const words = new Uint32Array(bytes);
    expect(bytes.byteLength).toBe(112);
    expect(Array.from(words.slice(0, 2))).toEqual([2, 3]);
    expect(Array.from(words.slice(24, 28))).toEqual([2, 6, 4, 5]);
  });

  it('merges dimensions that are contiguous in every operand', () => {
    expect(mergeDimensions([2, 3, 4], [[12, 4, 1], [12, 4, 1]])).toEqual({ shape: [24], strides: [[1], [1]] });
    expect(mergeDimensions([2, 3, 4], [[12, 4, 1], [0, 0, 1]])).toEqual({ shape: [6, 4], strides: [[4, 1], [0, 1]] });
    expect(mergeDimensions([1, 1], [[0, 0]])).toEqual({ shape: [1], strides: [[0]] });
  });
});
