// `predict` over corpus-sized inputs, between the readers and the writers of predict.ts: `--shard I/N`
// keeps the documents of one shard (by position, or by a stable hash of the id) so N processes or cluster
// tasks split one input without a pre-split step; `--out FILE --resume` continues FILE.partial of an
// interrupted run, skipping the documents already there. (Gzip in and out lives in data/stream.ts.)

import { existsSync } from 'node:fs';
import { ResumableOutput } from '../data/stream.js';
import type { PredictOutputFormat } from '../data/formats.js';
import type { Item } from './predict.js';

export interface Shard {
  /** 0-based: shard I of N is I in 0..N-1, as Slurm array indices and Kubernetes completion indices are. */
  index: number;
  count: number;
  by: 'position' | 'id';
}

/** `I/N` with 0 <= I < N. */
export function parseShard(spec: string, by = 'position'): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(spec.trim());
  if (!match) throw new Error(`--shard must look like I/N (shard I of N, counted from 0), got '${spec}'`);
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (count < 1 || index >= count) throw new Error(`--shard ${spec}: I must be in 0..N-1 (shards are counted from 0)`);
  if (by !== 'position' && by !== 'id') throw new Error(`--shard-by must be position or id, got '${by}'`);
  return { index, count, by };
}

/**
 * The shard of a document id: 32-bit FNV-1a of the id's UTF-8 bytes, modulo N. Stable across runs, machines
 * and input orders, so `--shard-by id` keeps a document in the same shard when the input is re-ordered.
 */
export function shardOfId(id: string, count: number): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(id, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % count;
}

const ID_FIELDS = ['id', 'doc_id', 'pmid', 'docId', 'line'] as const;

/**
 * The id a document carries in its JSONL output line: a JSONL record's `id` (or doc_id, pmid, docId), a
 * PubTator PMID, a text line's `line` number. Undefined for a JSONL record without one, CoNLL sentences
 * and the TEXT argument: those cannot be sharded by id or resumed.
 */
export function documentId(fields: Record<string, unknown> | undefined): string | undefined {
  if (!fields) return undefined;
  for (const name of ID_FIELDS) {
    const value = fields[name];
    if (typeof value === 'string' || typeof value === 'number') return String(value);
  }
  return undefined;
}

export interface StreamStats {
  /** Documents in the input (every shard; blank text lines are not documents). */
  read: number;
  /** Documents of this shard already in the output (--resume). */
  skipped: number;
  /** Documents given to the tagger. */
  selected: number;
}

/** How many times each id stands in the output already (--resume): an input may repeat an id. */
export type DoneIds = Map<string, number>;

/** The DoneIds of a list of output ids. */
export function countIds(ids: Iterable<string>): DoneIds {
  const counts: DoneIds = new Map();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

/**
 * The items of this shard that the output does not hold yet. Blank text lines pass through (the brat writer
 * needs them for its offsets) and count as no document. With --resume, an id that the input repeats is
 * skipped as many times as the output holds it, then tagged again: the output keeps one record per input
 * record, duplicates included, in input order (the output is always a prefix of what the run writes).
 */
export async function* selectItems(items: AsyncIterable<Item> | Item[], options: { shard?: Shard; done?: DoneIds }, stats: StreamStats): AsyncGenerator<Item> {
  const { shard, done } = options;
  for await (const item of items) {
    if (item.blank) {
      if (!shard) yield item;
      continue;
    }
    const position = stats.read++;
    if (shard?.by === 'position' && position % shard.count !== shard.index) continue;
    if (shard?.by === 'id' || done) {
      const id = documentId(item.fields);
      if (id === undefined) throw new Error(`${item.where ?? 'input'}: no "id" field; --shard-by id and --resume need an id on every document`);
      if (shard?.by === 'id' && shardOfId(id, shard.count) !== shard.index) continue;
      const written = done?.get(id) ?? 0;
      if (written > 0) {
        done!.set(id, written - 1);
        stats.skipped++;
        continue;
      }
    }
    stats.selected++;
    yield item;
  }
}

/** The ids in complete output records: JSONL lines, or PubTator documents (ended by a blank line). */
function completeRecords(lines: readonly string[], format: PredictOutputFormat, file: string): { keep: number; ids: string[] } {
  if (format === 'pubtator') {
    const keep = lines.lastIndexOf('') + 1;
    const ids = lines.slice(0, keep).flatMap((line) => /^(.+?)\|t\|/.exec(line)?.[1] ?? []);
    return { keep, ids };
  }
  const ids = lines.map((line, i) => {
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch (error) {
      throw new Error(`${file}:${i + 1}: not a JSON line (${(error as Error).message}); --resume continues only an output that predict wrote`);
    }
    const id = documentId(record);
    if (id === undefined) throw new Error(`${file}:${i + 1}: no "id" (or "line") field; --resume needs one on every line`);
    return id;
  });
  return { keep: lines.length, ids };
}

/**
 * The output file of a streamed format (JSONL, PubTator, CoNLL): written under FILE.partial, renamed when
 * complete, gzipped when FILE ends in .gz. With `resume`, the ids already in FILE.partial (or FILE) come back
 * in `done`, and what follows the last complete record is cut off and written again.
 */
export async function openOutputFile(out: string, format: PredictOutputFormat, resume: boolean): Promise<{ file: { write(s: string): Promise<void>; commit(): Promise<void>; abort(): Promise<void> }; done?: DoneIds }> {
  if (resume && format !== 'jsonl' && format !== 'pubtator') throw new Error(`--resume needs JSONL or PubTator output (their records carry the document ids), not ${format}`);
  if (!resume && existsSync(`${out}.partial`)) console.error(`predict: starting over; ${out}.partial of an earlier run is replaced (--resume continues it)`);
  let ids: string[] = [];
  const { output } = await ResumableOutput.open(out, {
    resume,
    keep: (lines) => {
      const complete = completeRecords(lines, format, `${out}.partial`);
      ids = complete.ids;
      return complete.keep;
    },
  });
  return {
    file: {
      write: (s) => (s ? output.write(s) : Promise.resolve()),
      commit: () => output.finish(),
      // A resumed run keeps what it wrote for the next --resume; otherwise nothing half-written stays.
      abort: () => (resume ? output.abandon() : output.discard()),
    },
    done: resume ? countIds(ids) : undefined,
  };
}

export const cpuSeconds = (usage: NodeJS.CpuUsage): number => (usage.user + usage.system) / 1e6;

/**
 * The one-line account printed on standard error when the output goes to a file: wall time and CPU time
 * (user + system, every thread) from the model being loaded to the output being complete.
 */
export function describeRun(stats: StreamStats, sentences: number, time: { wall: number; cpu: number }, shard: Shard | undefined, out: string): string {
  const rate = (n: number) => (time.wall > 0 ? (n / time.wall).toFixed(1) : '0');
  const parts = [
    `${shard ? `shard ${shard.index}/${shard.count} (by ${shard.by}) ` : ''}tagged ${stats.selected} of ${stats.read} documents (${sentences} sentences) in ${time.wall.toFixed(1)} s (CPU ${time.cpu.toFixed(1)} s)`,
    `${rate(stats.selected)} documents/s, ${rate(sentences)} sentences/s`,
  ];
  if (stats.skipped) parts.push(`${stats.skipped} already in ${out}`);
  parts.push(`peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`);
  return `predict: ${parts.join('; ')}`;
}
