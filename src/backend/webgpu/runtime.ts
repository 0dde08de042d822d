// The machinery under the WebGPU backend: WGSL sources, the pipeline cache,
// uniform packing, dispatch and the one readback path. Kernel calls are recorded
// into one open compute pass and submitted together (up to MAX_BATCH at a time, or
// sooner when something needs the queue: a write, a read, a clear, a buffer
// destroyed): a submit costs as much as a small kernel on Dawn's GL backend, and a
// BiLSTM step is over a thousand kernels. Their uniforms go into one buffer at
// 256-byte offsets, written just before the submit that reads them. Nothing waits on
// the GPU except read(), which maps a staging buffer.

import { platform } from '../../platform/index.js';
import { BufferPool } from './buffer-pool.js';
import { kernelFiles, packUniforms, type KernelSpec } from './kernels.js';
import { spliceOpTables } from './op-tables.js';

/** Loads a kernel's source by file name (e.g. 'matmul.wgsl'); browsers pass one that fetches. */
export type KernelLoader = (file: string) => string | Promise<string>;

/** The platform's loader: kernels/ read from disk in Node, inlined or fetched in a browser. */
export const platformKernelLoader: KernelLoader = (file) => platform.loadKernel(file);

/** Every kernel file the specs name, with the op tables spliced in (./op-tables.ts). */
export async function loadKernelSources(loader: KernelLoader): Promise<Map<string, string>> {
  const files = kernelFiles();
  const sources = await Promise.all(files.map((f) => loader(f)));
  return new Map(files.map((f, i) => [f, spliceOpTables(f, sources[i]!)]));
}

/** Kernel calls per submit at most; their uniforms fill UNIFORM_SLOT bytes each. */
const MAX_BATCH = 1024;
/** minUniformBufferOffsetAlignment, WebGPU's default limit: each call's uniforms start on it. */
const UNIFORM_SLOT = 256;

/** Largest workgroup count per dimension WebGPU guarantees. */
const MAX_GROUPS_PER_DIMENSION = 65535;

export type Constants = Record<string, number | boolean>;

export class Runtime {
  readonly storagePool: BufferPool;
  private readonly stagingPool: BufferPool;
  /** The open batch: its encoder and pass, and its calls' uniforms (host copy, then one buffer). */
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private readonly uniformHost = new Uint8Array(MAX_BATCH * UNIFORM_SLOT);
  private readonly uniformBuffer: GPUBuffer;
  private batched = 0;
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly modules = new Map<string, GPUShaderModule>();
  /** The first asynchronous device error (shader compilation, validation), rethrown by the next read(). */
  private deferredError: Error | null = null;
  /** Kernel calls and host readbacks so far: tests check that a training step reads back only its loss. */
  dispatches = 0;
  readbacks = 0;

  constructor(readonly device: GPUDevice, private readonly sources: Map<string, string>) {
    // A pooled buffer destroyed while a pending call uses it would fail the submit: submit first.
    this.storagePool = new BufferPool(device, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, 'medner storage', undefined, () => this.flush());
    this.uniformBuffer = device.createBuffer({ size: this.uniformHost.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label: 'medner uniforms' });
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
      spec.dispatch === 'tiles' ? { TILE_COLUMNS: 8, TILE_ROWS: 8, ...constants }
      : spec.dispatch === 'grid' ? { ...constants }
      : { WORKGROUP_SIZE: spec.workgroupSize, ...constants };
    const key = `${spec.file}#${spec.entryPoint}#${JSON.stringify(allConstants)}`;
    let pipeline = this.pipelines.get(key);
    if (!pipeline) {
      const storage = (spec.bindings as readonly (string | null)[]).filter((b) => b !== null).length;
      const allowed = this.device.limits.maxStorageBuffersPerShaderStage;
      if (storage > allowed) throw new Error(`webgpu: kernels/${spec.file} (${spec.entryPoint}) binds ${storage} storage buffers; this device allows ${allowed} per stage`);
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
   * Record one kernel call into the open batch. `buffers` names each storage binding as in
   * the spec; `grid` is the workgroup counts (Runtime.grid for counted kernels). Calls run in
   * the order recorded; a call sees what the calls before it wrote.
   */
  run(spec: KernelSpec, buffers: Record<string, GPUBuffer>, uniforms: Record<string, number | readonly number[]>, grid: [number, number, number], constants: Constants = {}): void {
    if (grid[0] === 0 || grid[1] === 0 || grid[2] === 0) return;
    const pipeline = this.pipeline(spec, constants);
    const bytes = packUniforms(spec, uniforms);
    if (bytes.byteLength > UNIFORM_SLOT) throw new Error(`kernels/${spec.file}: ${bytes.byteLength} bytes of uniforms, more than the ${UNIFORM_SLOT} a call has`);
    if (this.batched === MAX_BATCH) this.flush();
    const offset = this.batched * UNIFORM_SLOT;
    this.uniformHost.set(new Uint8Array(bytes), offset);
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.uniformBuffer, offset, size: bytes.byteLength } }];
    spec.bindings.forEach((name, i) => {
      if (name === null) return;
      const buffer = buffers[name];
      if (!buffer) throw new Error(`kernels/${spec.file} (${spec.entryPoint}): no buffer given for binding ${i + 1} '${name}'`);
      entries.push({ binding: i + 1, resource: { buffer } });
    });
    const bindGroup = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries, label: spec.file });
    if (!this.pass) {
      this.encoder = this.device.createCommandEncoder();
      this.pass = this.encoder.beginComputePass();
    }
    this.pass.setPipeline(pipeline);
    this.pass.setBindGroup(0, bindGroup);
    this.pass.dispatchWorkgroups(grid[0], grid[1], grid[2]);
    this.batched++;
    this.dispatches++;
  }

  /**
   * Submit the open batch. Its uniforms are written first: queue operations run in order, so
   * the write lands after every earlier batch has read the buffer and before this one does.
   */
  flush(): void {
    if (!this.encoder || !this.pass) return;
    this.pass.end();
    this.device.queue.writeBuffer(this.uniformBuffer, 0, this.uniformHost.buffer, 0, this.batched * UNIFORM_SLOT);
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    this.pass = null;
    this.batched = 0;
  }

  /** Zero the first `byteSize` bytes of a buffer on the GPU timeline. */
  clear(buffer: GPUBuffer, byteSize: number): void {
    this.flush();
    const encoder = this.device.createCommandEncoder();
    encoder.clearBuffer(buffer, 0, BufferPool.roundSize(byteSize));
    this.device.queue.submit([encoder.finish()]);
  }

  write(buffer: GPUBuffer, data: ArrayBufferView): void {
    // A queue write runs before commands not yet submitted: submit the calls that came before it.
    this.flush();
    if (data.byteLength > 0) this.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  }

  /** The only readback: copy into a mappable staging buffer and wait for it. */
  async read(buffer: GPUBuffer, byteSize: number): Promise<ArrayBuffer> {
    this.flush();
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
    this.flush();
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
}
