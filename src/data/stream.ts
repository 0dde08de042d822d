// Streams for corpus-scale files: the bytes of a file, standard input or a gzip file (`.gz`, through Node's
// zlib); and a line-oriented output file that is written under `FILE.partial`,
// renamed into place when complete, and can be resumed after a crash (kill -9, preemption): the complete
// lines already written are kept, a half-written last line is dropped and written again.

import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { readFile, rename, stat, truncate, unlink } from 'node:fs/promises';
import { createGunzip, createGzip, gunzipSync, constants as zlib, type Gzip } from 'node:zlib';
import { firstInvalidUtf8Offset } from './files.js';

export const isGzipPath = (path: string): boolean => path.toLowerCase().endsWith('.gz');

/** The bytes of a file (`-`: standard input), gunzipped when the name ends in `.gz`. */
export function openInputBytes(path: string): NodeJS.ReadableStream {
  const raw = path === '-' ? process.stdin : createReadStream(path);
  if (!isGzipPath(path)) return raw;
  const gunzip = createGunzip();
  raw.on('error', (error: Error) => gunzip.destroy(error));
  return raw.pipe(gunzip);
}

/** A zlib error of a damaged or truncated .gz input, as a one-line message naming the file. */
export function gzipInputError(error: unknown, name: string): Error | null {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'Z_BUF_ERROR' || code === 'Z_DATA_ERROR' ? new Error(`${name}: not a complete gzip file (${(error as Error).message})`) : null;
}

/**
 * The complete lines of an output left by an interrupted run: for a plain file, everything up to its last
 * newline; for a `.gz` file, what a truncated gzip stream still decodes to, up to its last newline.
 */
async function recoverCompleteText(path: string, gzip: boolean): Promise<{ text: string; bytes: number }> {
  let bytes: Buffer = await readFile(path);
  if (gzip) {
    // Z_SYNC_FLUSH as the final flush: a stream cut by a kill decodes as far as it goes instead of failing.
    try {
      bytes = gunzipSync(bytes, { finishFlush: zlib.Z_SYNC_FLUSH });
    } catch (error) {
      throw new Error(`${path}: not a gzip stream (${(error as Error).message}); --resume continues only an output that predict wrote`);
    }
  }
  const end = bytes.lastIndexOf(0x0a) + 1;
  const complete = bytes.subarray(0, end);
  const bad = firstInvalidUtf8Offset(complete);
  if (bad >= 0) throw new Error(`${path}: invalid UTF-8 at byte offset ${bad}; not an output this command wrote`);
  return { text: complete.toString('utf8'), bytes: bytes.length };
}

export interface OutputFileOptions {
  /** Continue `FILE.partial` (or a finished FILE) instead of starting over. */
  resume?: boolean;
  /** How many of the complete lines form complete records (default: all); the rest is written again. */
  keep?: (lines: string[]) => number;
}

/**
 * A line-oriented output file written under `FILE.partial` and renamed to FILE by `finish()`, so FILE
 * exists only when complete. Gzip-compressed when FILE ends in `.gz`; each `write()` is flushed to the file
 * (a gzip sync flush), so a killed run loses at most the write in progress. With `resume`, the complete
 * lines of the previous run are kept and returned by `open()`; a half-written last line is discarded.
 */
export class ResumableOutput {
  readonly partialPath: string;
  private sink: WriteStream | null = null;
  private gzip: Gzip | null = null;
  private failure: Error | null = null;

  private constructor(readonly path: string) {
    this.partialPath = `${path}.partial`;
  }

  /** Opens the output; returns the complete lines already there (empty unless resuming). */
  static async open(path: string, options: OutputFileOptions = {}): Promise<{ output: ResumableOutput; previousLines: string[]; droppedBytes: number }> {
    const output = new ResumableOutput(path);
    let previousLines: string[] = [];
    let droppedBytes = 0;
    if (options.resume) {
      // A finished FILE is resumed too (the input may have grown): it becomes the partial file again.
      if (!(await exists(output.partialPath)) && (await exists(path))) await rename(path, output.partialPath);
      if (await exists(output.partialPath)) {
        const { text, bytes } = await recoverCompleteText(output.partialPath, isGzipPath(path));
        previousLines = text === '' ? [] : text.slice(0, -1).split('\n');
        previousLines = previousLines.slice(0, options.keep ? options.keep(previousLines) : previousLines.length);
        droppedBytes = bytes - Buffer.byteLength(previousLines.join('\n')) - (previousLines.length ? 1 : 0);
      }
    }
    await output.start(previousLines.length ? previousLines.join('\n') + '\n' : '');
    return { output, previousLines, droppedBytes };
  }

  private async start(previous: string): Promise<void> {
    const gz = isGzipPath(this.path);
    if (!gz) {
      // Plain text: cut the partial file back to its last complete line and append from there.
      if (previous !== '') await truncate(this.partialPath, Buffer.byteLength(previous));
      this.sink = createWriteStream(this.partialPath, { flags: previous !== '' ? 'a' : 'w' });
    } else if (previous === '') {
      this.sink = createWriteStream(this.partialPath, { flags: 'w' });
    } else {
      // Gzip cannot be cut at a line: write the kept lines into a fresh stream under another name, then let it
      // replace the old partial file (an interruption in between leaves one or the other, both resumable).
      const fresh = `${this.partialPath}.new`;
      this.sink = createWriteStream(fresh, { flags: 'w' });
      this.attachGzip();
      await this.write(previous);
      await rename(fresh, this.partialPath);
      return;
    }
    if (gz) this.attachGzip();
    this.sink.on('error', (error) => (this.failure ??= error));
  }

  private attachGzip(): void {
    this.gzip = createGzip();
    this.gzip.pipe(this.sink!);
    this.gzip.on('error', (error) => (this.failure ??= error));
    this.sink!.on('error', (error) => (this.failure ??= error));
  }

  /** Writes text (whole lines) and waits until it has reached the file. */
  async write(text: string): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.gzip) {
      const gzip = this.gzip;
      await new Promise<void>((resolve, reject) => gzip.write(text, (error) => (error ? reject(error) : resolve())));
      await new Promise<void>((resolve) => gzip.flush(zlib.Z_SYNC_FLUSH, () => resolve()));
      // The compressed bytes are in the pipe to the file; wait for the file stream to take them.
      await new Promise<void>((resolve) => (this.sink!.writableNeedDrain ? this.sink!.once('drain', resolve) : setImmediate(resolve)));
    } else {
      const sink = this.sink!;
      await new Promise<void>((resolve, reject) => sink.write(text, (error) => (error ? reject(error) : resolve())));
    }
    if (this.failure) throw this.failure;
  }

  /** Closes the partial file and renames it to FILE. */
  async finish(): Promise<void> {
    await this.close();
    if (this.failure) throw this.failure;
    await rename(this.partialPath, this.path);
  }

  /** Closes the partial file and leaves it (for --resume), e.g. after an error. */
  async abandon(): Promise<void> {
    await this.close().catch(() => undefined);
  }

  /** Closes and deletes the partial file (nothing half-written is left behind). */
  async discard(): Promise<void> {
    await this.close().catch(() => undefined);
    await unlink(this.partialPath).catch(() => undefined);
  }

  private async close(): Promise<void> {
    const sink = this.sink;
    if (!sink || sink.closed) return;
    const closed = new Promise<void>((resolve) => sink.once('close', () => resolve()));
    if (this.gzip) this.gzip.end();
    else sink.end();
    await closed;
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
