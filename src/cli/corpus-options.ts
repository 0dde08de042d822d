// The corpus options train, eval and convert share: how a JSONL corpus is read (field names, the names
// of integer tags) and how entity types are rewritten (a label map, rare types grouped under one).

import type { Command } from 'commander';
import { readLabelNames, type JsonlReadOptions } from '../data/jsonl.js';
import { readLabelMap, type TypeMapOptions } from '../data/label-maps.js';

export interface CorpusFlags {
  labelMap?: string;
  minTypeCount?: string;
  otherType?: string;
  labels?: string;
  tokensField?: string;
  tagsField?: string;
}

export function addCorpusOptions(command: Command): Command {
  return command
    .option('--label-map <file.json>', 'rewrite entity types: a JSON object {"Type": "NewType", "Dropped": null}')
    .option('--min-type-count <n>', 'group entity types with fewer than n entities (after --label-map) under --other-type')
    .option('--other-type <name>', 'the type rare types are grouped under', 'Other')
    .option('--labels <file>', 'JSONL: names of integer tags (one per line, a JSON list, HF dataset features, or a config.json with id2label)')
    .option('--tokens-field <name>', 'JSONL: field of the token list (default tokens)')
    .option('--tags-field <name>', 'JSONL: field of the tag list (default tags, else ner_tags)');
}

export function corpusOptions(flags: CorpusFlags): { typeMap?: TypeMapOptions; jsonl: JsonlReadOptions } {
  let minTypeCount: number | undefined;
  if (flags.minTypeCount !== undefined) {
    minTypeCount = Number(flags.minTypeCount);
    if (!Number.isInteger(minTypeCount) || minTypeCount < 1) throw new Error(`--min-type-count must be a positive integer, got ${flags.minTypeCount}`);
  }
  if (flags.otherType !== undefined && (!flags.otherType || /\s/.test(flags.otherType))) throw new Error(`--other-type must be a type name without spaces, got '${flags.otherType}'`);
  const labelMap = flags.labelMap ? readLabelMap(flags.labelMap) : undefined;
  const typeMap = labelMap || minTypeCount ? { labelMap, minTypeCount, otherType: flags.otherType } : undefined;
  const jsonl: JsonlReadOptions = {
    tokensField: flags.tokensField,
    tagsField: flags.tagsField,
    labelNames: flags.labels ? readLabelNames(flags.labels, flags.tagsField) : undefined,
  };
  return { typeMap, jsonl };
}
