// The machinery under the WebGPU backend: WGSL sources, the pipeline cache,
// uniform packing, dispatch and the one readback path. Kernel calls are
// encoded and submitted at once (one command buffer each): nothing waits on the
// GPU except read(), which maps a staging buffer.

import { BufferPool } from './buffer-pool.js';
import { KERNELS, kernelFiles, packUniforms, type KernelSpec } from './kernels.js';

/** Loads a kernel's source by file name (e.g. 'matmul.wgsl'); browsers pass one that fetches. */
export type KernelLoader = (file: string) => string | Promise<string>;

/** Node: read kernels/ next to src/ (this file is src/backend/webgpu/runtime.ts). */
export const nodeKernelLoader: KernelLoader = async (file) => {
  const { readFile } = await import('node:fs/promises');
  return readFile(new URL(`../../../kernels/${file}`, import.meta.url), 'utf8');
};

export async function loadKernelSources(loader: KernelLoader): Promise<Map<string, string>> {
  const files = kernelFiles();
  const sources = await Promise.all(files.map((f) => loader(f)));
  return new Map(files.map((f, i) => [f, sources[i]!]));
}

/** Largest workgroup count per dimension WebGPU guarantees. */
const MAX_GROUPS_PER_DIMENSION = 65535;

export type Constants = Record<string, number | boolean>;

export class Runtime {
  readonly storagePool: BufferPool;
  private readonly uniformPool: BufferPool;
  private readonly stagingPool: BufferPool;
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly modules = new Map<string, GPUShaderModule>();
  /** The first asynchronous device error (shader compilation, validation), rethrown by the next read(). */
  private deferredError: Error | null = null;
  /** Kernel calls and host readbacks so far: tests check that a training step reads back only its loss. */
  dispatches = 0;
  readbacks = 0;

  constructor(readonly device: GPUDevice, private readonly sources: Map<string, string>) {
    this.storagePool = new BufferPool(device, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, 'medner storage');
    this.uniformPool = new BufferPool(device, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, 'medner uniforms', 16 * 1024 * 1024);
    this.stagingPool = new BufferPool(device, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, 'medner staging', 64 * 1024 * 1024);
    device.addEventListener('uncapturederror', (event) => {
      this.deferredError ??= new Error(`webgpu: ${(event as GPUUncapturedErrorEvent).error.message}`);
    });
  }

  /** Throw the first device error seen so far, naming it where it came from. */
  checkErrors(): void {
    if (this.deferredError) {
      const error = this.deferredError;
      this.deferredError = null;
      throw error;
    }
  }

  private module(file: string): GPUShaderModule {
    let module = this.modules.get(file);
    if (!module) {
      const code = this.sources.get(file);
      if (code === undefined) throw new Error(`webgpu: kernels/${file} was not loaded`);
      module = this.device.createShaderModule({ code, label: file });
      this.modules.set(file, module);
    }
    return module;
  }

  /** The pipeline of (kernel, override constants), compiled once. */
  pipeline(spec: KernelSpec, constants: Constants): GPUComputePipeline {
    const allConstants: Constants =
      spec.dispatch === 'tiles' ? { TILE_COLUMNS: 8, TILE_ROWS: 8, ...constants } : { WORKGROUP_SIZE: spec.workgroupSize, ...constants };
    const key = `${spec.file}#${spec.entryPoint}#${JSON.stringify(allConstants)}`;
    let pipeline = this.pipelines.get(key);
    if (!pipeline) {
      this.device.pushErrorScope('validation');
      const numeric: Record<string, number> = {};
      for (const [name, value] of Object.entries(allConstants)) numeric[name] = Number(value);
      pipeline = this.device.createComputePipeline({
        label: key,
        layout: 'auto',
        compute: { module: this.module(spec.file), entryPoint: spec.entryPoint, constants: numeric },
      });
      void this.device.popErrorScope().then(async (error) => {
        if (!error) return;
        const info = await this.module(spec.file).getCompilationInfo();
        const messages = info.messages.map((m) => `kernels/${spec.file}:${m.lineNum}:${m.linePos}: ${m.message}`).join('\n');
        this.deferredError ??= new Error(`webgpu: pipeline ${key} failed: ${error.message}${messages ? '\n' + messages : ''}`);
      });
      this.pipelines.set(key, pipeline);
    }
    return pipeline;
  }

  /** Workgroup counts for `count` items, spilling into y past 65535 per dimension. */
  static grid(spec: KernelSpec, count: number): [number, number, number] {
    const groups = spec.dispatch === 'invocations' ? Math.ceil(count / spec.workgroupSize) : count;
    if (groups <= MAX_GROUPS_PER_DIMENSION) return [Math.max(groups, 1), 1, 1];
    const rows = Math.ceil(groups / MAX_GROUPS_PER_DIMENSION);
    if (rows > MAX_GROUPS_PER_DIMENSION) throw new Error(`kernels/${spec.file}: ${count} items exceed one dispatch`);
    return [MAX_GROUPS_PER_DIMENSION, rows, 1];
  }

  /**
   * Encode and submit one kernel call. `buffers` names each storage binding as in the
   * spec; `grid` is the workgroup counts (Runtime.grid for counted kernels).
   */
  run(spec: KernelSpec, buffers: Record<string, GPUBuffer>, uniforms: Record<string, number | readonly number[]>, grid: [number, number, number], constants: Constants = {}): void {
    if (grid[0] === 0 || grid[1] === 0 || grid[2] === 0) return;
    const pipeline = this.pipeline(spec, constants);
    const bytes = packUniforms(spec, uniforms);
    const uniformBuffer = this.uniformPool.acquire(bytes.byteLength);
    this.device.queue.writeBuffer(uniformBuffer, 0, bytes);
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: uniformBuffer, size: bytes.byteLength } }];
    spec.bindings.forEach((name, i) => {
      if (name === null) return;
      const buffer = buffers[name];
      if (!buffer) throw new Error(`kernels/${spec.file} (${spec.entryPoint}): no buffer given for binding ${i + 1} '${name}'`);
      entries.push({ binding: i + 1, resource: { buffer } });
    });
    const bindGroup = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries, label: spec.file });
    const encoder = this.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(grid[0], grid[1], grid[2]);
    pass.end();
    this.device.queue.submit([encoder.finish()]);
    this.dispatches++;
    // Later writes to this uniform buffer are queued after this submission, so it can be reused now.
    this.uniformPool.release(uniformBuffer);
  }

  /** Zero the first `byteSize` bytes of a buffer on the GPU timeline. */
  clear(buffer: GPUBuffer, byteSize: number): void {
    const encoder = this.device.createCommandEncoder();
    encoder.clearBuffer(buffer, 0, BufferPool.roundSize(byteSize));
    this.device.queue.submit([encoder.finish()]);
  }

  write(buffer: GPUBuffer, data: ArrayBufferView): void {
    if (data.byteLength > 0) this.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  }

  /** The only readback: copy into a mappable staging buffer and wait for it. */
  async read(buffer: GPUBuffer, byteSize: number): Promise<ArrayBuffer> {
    this.checkErrors();
    this.readbacks++;
    const size = BufferPool.roundSize(byteSize);
    const staging = this.stagingPool.acquire(size);
    const encoder = this.device.createCommandEncoder();
    encoder.copyBufferToBuffer(buffer, 0, staging, 0, size);
    this.device.queue.submit([encoder.finish()]);
    try {
      await staging.mapAsync(GPUMapMode.READ, 0, size);
      const copy = staging.getMappedRange(0, size).slice(0, byteSize);
      staging.unmap();
      return copy;
    } finally {
      this.stagingPool.release(staging);
      this.checkErrors();
    }
  }

  /** Wait until every submitted command has finished (benchmarks). */
  async finish(): Promise<void> {
    await this.device.queue.onSubmittedWorkDone();
    this.checkErrors();
  }

  /** Compile every kernel file now and throw its WGSL errors with file:line, so they show at start-up rather than mid-training. */
  async checkShaders(): Promise<void> {
    const problems: string[] = [];
    for (const file of this.sources.keys()) {
      const info = await this.module(file).getCompilationInfo();
      for (const m of info.messages) if (m.type === 'error') problems.push(`kernels/${file}:${m.lineNum}:${m.linePos}: ${m.message}`);
    }
    if (problems.length > 0) throw new Error(`webgpu: WGSL errors:\n${problems.join('\n')}`);
  }

  /** Compile every kernel's default pipeline now, so shader errors show at start-up rather than mid-training. */
  warmUp(): void {
    for (const spec of Object.values(KERNELS)) this.pipeline(spec, {});
  }
}
