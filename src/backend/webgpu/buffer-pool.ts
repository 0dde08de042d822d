// Reusing GPU buffers: creating one costs a driver call and, on Dawn's GL
// backend, a GL allocation, while a training step allocates and frees the same
// sizes again and again. Buffers are pooled by byte size; a freed buffer goes
// back to its size's list and the next request of that size takes it.
// Order makes reuse safe: work that used a buffer is recorded (runtime.ts batches
// kernel calls) before any later kernel writes it, a queue write first submits what
// was recorded, and WebGPU runs submissions in order.

export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private pooledBytes = 0;
  /** Buffers handed out and not yet released. */
  live = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly usage: GPUBufferUsageFlags,
    private readonly label: string,
    /** Beyond this many idle bytes, released buffers are destroyed instead of kept. */
    private readonly maxPooledBytes = 512 * 1024 * 1024,
    /** Called before any buffer is destroyed (the runtime submits work that may still use it). */
    private readonly beforeDestroy: () => void = () => {},
  ) {}

  /** A buffer of at least 4 bytes (WebGPU storage bindings must be non-empty and 4-aligned). */
  acquire(byteSize: number): GPUBuffer {
    const size = BufferPool.roundSize(byteSize);
    this.live++;
    const reused = this.free.get(size)?.pop();
    if (reused) {
      this.pooledBytes -= size;
      return reused;
    }
    return this.device.createBuffer({ size, usage: this.usage, label: `${this.label} ${size}B` });
  }

  release(buffer: GPUBuffer): void {
    this.live--;
    if (this.pooledBytes + buffer.size > this.maxPooledBytes) {
      this.beforeDestroy();
      buffer.destroy();
      return;
    }
    let list = this.free.get(buffer.size);
    if (!list) this.free.set(buffer.size, (list = []));
    list.push(buffer);
    this.pooledBytes += buffer.size;
  }

  /** Destroy every idle buffer (between experiments, or before the device goes away). */
  trim(): void {
    this.beforeDestroy();
    for (const list of this.free.values()) for (const buffer of list) buffer.destroy();
    this.free.clear();
    this.pooledBytes = 0;
  }

  static roundSize(byteSize: number): number {
    return Math.max(4, Math.ceil(byteSize / 4) * 4);
  }
}
