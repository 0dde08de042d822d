// Load a Hugging Face BERT checkpoint (BioBERT, BiomedBERT, Bioformer, bert-base-*)
// into a tagger's `bert.` encoder by name: prefixes stripped, unused heads
// skipped with a note, a missing or mis-shaped tensor an error naming it.

import type { Backend } from '../backend/backend.js';
import { SafetensorsReader } from '../io/safetensors.js';
import { checkpointFiles, mapCheckpointNames } from '../io/hf-config.js';
import type { Tensor } from '../tensor/tensor.js';
import { fmt } from '../tensor/shape.js';
import type { Module } from '../nn/module.js';

/** Copies the encoder weights into model.bert.*; returns a one-line summary for the log. */
export function loadPretrainedEncoder(model: Module, dir: string, backend: Backend): string {
  const targets = new Map(model.namedParameters().filter(([n]) => n.startsWith('bert.')).map(([n, t]) => [n.slice('bert.'.length), t] as [string, Tensor]));
  const files = checkpointFiles(dir);
  const readers = files.map((f) => SafetensorsReader.open(f));
  try {
    const owner = new Map<string, SafetensorsReader>();
    for (const r of readers) for (const name of r.names()) owner.set(name, r);
    const { mapping, note } = mapCheckpointNames(owner.keys(), 'bert');
    const missing = [...targets.keys()].filter((n) => !mapping.has(n));
    if (missing.length > 0) throw new Error(`${dir}: checkpoint lacks ${missing.length} encoder tensors, e.g. ${missing.slice(0, 3).join(', ')}`);
    const unused = [...mapping.keys()].filter((n) => !targets.has(n));
    for (const [name, target] of targets) {
      const source = mapping.get(name)!;
      const reader = owner.get(source)!;
      const shape = reader.entry(source).shape;
      if (shape.length !== target.shape.length || shape.some((d, i) => d !== target.shape[i])) {
        throw new Error(`${dir}: tensor ${source} has shape ${fmt(shape)} but the model expects ${fmt(target.shape)} for bert.${name}`);
      }
      const loaded = reader.readTensor(source, backend);
      target.assign(loaded);
      loaded.dispose();
    }
    return `pretrained: loaded ${targets.size} encoder tensors from ${dir}; ${note}${unused.length ? `; ${unused.length} unused: ${unused.slice(0, 3).join(', ')}` : ''}`;
  } finally {
    for (const r of readers) r.close();
  }
}
