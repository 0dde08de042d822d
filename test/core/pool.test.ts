// The CPU backend's buffer pool (src/backend/cpu/pool.ts): a freed output comes back zero-filled
// for the next kernel, and only arrays the pool issued are ever taken back.

import { describe, expect, it } from 'vitest';
import { allocF32, pooledByteCount, releaseF32 } from '../../src/backend/cpu/pool.js';
import { CpuBackend } from '../../src/backend/cpu/index.js';

describe('cpu buffer pool', () => {
  it('reuses a released buffer, zero-filled, at the size asked for', () => {
    const a = allocF32(5000).fill(7);
    const before = pooledByteCount();
    releaseF32(a);
    expect(pooledByteCount()).toBeGreaterThan(before);
    const b = allocF32(4900);
    expect(b.buffer).toBe(a.buffer);
    expect(b.length).toBe(4900);
    expect(b.every((v) => v === 0)).toBe(true);
    releaseF32(b);
  });

  it('ignores arrays it did not issue, subarrays, and a second release', () => {
    const start = pooledByteCount();
    releaseF32(new Float32Array(8192));
    expect(pooledByteCount()).toBe(start);
    const a = allocF32(8192);
    const issued = pooledByteCount();
    releaseF32(a.subarray(0, 4096));
    expect(pooledByteCount()).toBe(issued);
    releaseF32(a);
    const after = pooledByteCount();
    releaseF32(a);
    expect(pooledByteCount()).toBe(after);
  });

  it('a value read from the backend survives the buffer being freed and reused', async () => {
    const backend = new CpuBackend();
    const x = backend.fill(3000, 2);
    const values = await backend.read(x);
    backend.free(x);
    const y = backend.fill(3000, 5);
    expect(values.every((v) => v === 2)).toBe(true);
    expect((await backend.read(y)).every((v) => v === 5)).toBe(true);
    backend.free(y);
  });
});
