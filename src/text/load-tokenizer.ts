// The tokenizer of a Hugging Face model directory, picked from the files present as transformers' fast
// tokenizers do: tokenizer.json first, then vocab.json + merges.txt (byte-level BPE: GPT-2, RoBERTa, GPT-Neo),
// spiece.model (SentencePiece unigram: ALBERT), vocab.txt (WordPiece: BERT). tokenizer_config.json and
// special_tokens_map.json name the special tokens and settings (do_lower_case, add_prefix_space, ...).
// Files come through a reader, so a directory on disk and files in memory (a browser) load alike.

import { platform } from '../platform/index.js';
import { byteLevelBpeJson, parseMergesText } from './bpe.js';
import { HfTokenizer, type SpecialTokenNames, type TokenizerJson } from './hf-tokenizer.js';
import { readSentencePieceModel } from './sentencepiece-model.js';
import type { SubwordTokenizer } from './subword-tokenizer.js';
import { albertTokenizerJson } from './unigram.js';
import { WordPieceTokenizer, type WordPieceOptions } from './wordpiece.js';

export interface TokenizerFileReader {
  /** The file's bytes, or null when the directory has no such file. */
  read(name: string): Promise<Uint8Array | null>;
  /** How to name the file in an error (its path). */
  where(name: string): string;
}

/** The tokenizer files medner reads, in the order it looks for them. */
export const TOKENIZER_FILES = ['tokenizer.json', 'vocab.json', 'merges.txt', 'spiece.model', 'vocab.txt'] as const;

const utf8 = new TextDecoder();

/** A special token's text in tokenizer_config.json: a string or an AddedToken object's content. */
function tokenText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') return (value as { content: string }).content;
  return undefined;
}

async function readJson(files: TokenizerFileReader, name: string): Promise<Record<string, unknown> | null> {
  const bytes = await files.read(name);
  if (bytes === null) return null;
  try {
    return JSON.parse(utf8.decode(bytes)) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${files.where(name)}: not valid JSON (${(e as Error).message})`);
  }
}

function specialNames(config: Record<string, unknown>): SpecialTokenNames {
  const names: SpecialTokenNames = {};
  for (const key of ['unk', 'pad', 'cls', 'sep', 'mask', 'bos', 'eos'] as const) {
    const text = tokenText(config[`${key}_token`]);
    if (text !== undefined) names[key] = text;
  }
  return names;
}

export async function loadTokenizerFiles(files: TokenizerFileReader): Promise<SubwordTokenizer> {
  // special_tokens_map.json first, tokenizer_config.json over it (transformers reads both; the config wins).
  const config = { ...((await readJson(files, 'special_tokens_map.json')) ?? {}), ...((await readJson(files, 'tokenizer_config.json')) ?? {}) };
  const names = specialNames(config);
  const flag = (key: string) => (typeof config[key] === 'boolean' ? (config[key] as boolean) : undefined);

  const tokenizerJson = await readJson(files, 'tokenizer.json');
  if (tokenizerJson) {
    const where = files.where('tokenizer.json');
    const model = (tokenizerJson as { model?: { type?: unknown } }).model;
    if (model?.type !== 'WordPiece') return wrap(where, () => new HfTokenizer(withConfig(tokenizerJson as TokenizerJson, flag('add_prefix_space')), names, where));
    // A WordPiece tokenizer.json: the WordPiece tokenizer, from vocab.txt when present (as before).
    const vocabText = await files.read('vocab.txt');
    const options = wordPieceOptions(config, names);
    if (vocabText) return wrap(files.where('vocab.txt'), () => WordPieceTokenizer.fromVocabText(utf8.decode(vocabText), { lowercase: true, ...options }));
    return wrap(where, () => WordPieceTokenizer.fromTokenizerJson(tokenizerJson, options));
  }

  const vocabJson = await readJson(files, 'vocab.json');
  const merges = await files.read('merges.txt');
  if (vocabJson || merges) {
    if (!vocabJson || !merges) throw new Error(`${files.where(vocabJson ? 'merges.txt' : 'vocab.json')}: missing; a byte-level BPE tokenizer needs both vocab.json and merges.txt`);
    const where = files.where('vocab.json');
    const tokenizerClass = String(config.tokenizer_class ?? '');
    const roberta = /roberta|bart|longformer|camembert/i.test(tokenizerClass) || (!/gpt/i.test(tokenizerClass) && '<s>' in vocabJson && '</s>' in vocabJson);
    return wrap(where, () => {
      const json = byteLevelBpeJson(vocabJson as Record<string, number>, parseMergesText(utf8.decode(merges), files.where('merges.txt')), { template: roberta ? 'roberta' : 'gpt2', addPrefixSpace: flag('add_prefix_space'), ...names }, where);
      return new HfTokenizer(json, names, where);
    });
  }

  const spiece = await files.read('spiece.model');
  if (spiece) {
    const where = files.where('spiece.model');
    return wrap(where, () => {
      const model = readSentencePieceModel(spiece, where);
      if (model.modelType !== 1) throw new Error(`the SentencePiece model type is ${model.modelType}; medner reads unigram models (type 1), as ALBERT's`);
      const json = albertTokenizerJson(model, { lowercase: flag('do_lower_case'), keepAccents: flag('keep_accents'), cls: names.cls, sep: names.sep, mask: names.mask });
      return new HfTokenizer(json, names, where);
    });
  }

  const vocabText = await files.read('vocab.txt');
  if (vocabText) return wrap(files.where('vocab.txt'), () => WordPieceTokenizer.fromVocabText(utf8.decode(vocabText), { lowercase: true, ...wordPieceOptions(config, names) }));
  throw new Error(`${files.where('')}: no tokenizer found (looked for ${TOKENIZER_FILES.join(', ')})`);
}

/** The tokenizer of a model directory on disk. */
export function loadTokenizer(dir: string): Promise<SubwordTokenizer> {
  const join = platform.path.join;
  return loadTokenizerFiles({
    read: (name) =>
      platform.fs.readFile(join(dir, name)).then(
        (b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength),
        (error: NodeJS.ErrnoException) => {
          if (error.code === 'ENOENT' || error.code === 'EISDIR') return null;
          throw new Error(`${join(dir, name)}: ${error.message}`);
        },
      ),
    where: (name) => (name ? join(dir, name) : dir),
  });
}

/** tokenizer_config.json's add_prefix_space overrides the file's, as transformers' fast tokenizers apply it. */
function withConfig(json: TokenizerJson, addPrefixSpace: boolean | undefined): TokenizerJson {
  if (addPrefixSpace === undefined) return json;
  const visit = (node: unknown) => {
    if (!node || typeof node !== 'object') return;
    const record = node as Record<string, unknown>;
    if ((record.type === 'ByteLevel' || record.type === 'RobertaProcessing') && 'add_prefix_space' in record) record.add_prefix_space = addPrefixSpace;
    for (const key of ['pretokenizers', 'processors']) if (Array.isArray(record[key])) (record[key] as unknown[]).forEach(visit);
  };
  const copy = { ...json, pre_tokenizer: structuredClone(json.pre_tokenizer), post_processor: structuredClone(json.post_processor) };
  visit(copy.pre_tokenizer);
  visit(copy.post_processor);
  return copy;
}

function wordPieceOptions(config: Record<string, unknown>, names: SpecialTokenNames): WordPieceOptions {
  const options: WordPieceOptions = WordPieceTokenizer.optionsFromConfig(config);
  if (names.unk) options.unkToken = names.unk;
  if (names.cls) options.clsToken = names.cls;
  if (names.sep) options.sepToken = names.sep;
  if (names.pad) options.padToken = names.pad;
  if (names.mask) options.maskToken = names.mask;
  return options;
}

function wrap<T>(where: string, build: () => T): T {
  try {
    return build();
  } catch (e) {
    const message = (e as Error).message;
    throw new Error(message.startsWith(where) ? message : `${where}: ${message}`);
  }
}
