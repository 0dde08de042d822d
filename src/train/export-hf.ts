// medner export --format hf: a BERT-family tagger written as a Hugging Face token-classification
// directory that AutoModelForTokenClassification and AutoTokenizer load (see huggingface.ts for the
// layout, and for reading such a directory back).

import { platform } from '../platform/index.js';
import type { Backend } from '../backend/backend.js';
import { cpuBackend } from '../backend/registry.js';
import { saveSafetensors } from '../io/safetensors.js';
import { tensor, type Tensor } from '../tensor/tensor.js';
import { allowedTransitions } from '../crf/constraints.js';
import { snakeKeys } from './config.js';
import { loadCheckpoint, writeDirectoryAtomically, type CheckpointConfig } from './checkpoint.js';
import { toHfConfigJson } from '../io/hf-config.js';
import { ARCHITECTURE, HEAD_FILE, hfName, type MednerEntry } from './huggingface.js';

const { writeFile } = platform.fs;
const { join } = platform.path;

export interface ExportSummary {
  architecture: string;
  labels: number;
  /** Tensors in model.safetensors and in crf.safetensors. */
  tensors: number;
  headTensors: number;
}

/**
 * Write a medner model as a Hugging Face token-classification directory. Only the BERT-family
 * taggers have a transformers class; the BiLSTM-CRF on word embeddings is refused.
 */
export async function exportHf(modelDir: string, out: string, backend: Backend = cpuBackend): Promise<ExportSummary> {
  const loaded = await loadCheckpoint(modelDir, backend);
  try {
    const { config, model, vocabulary } = loaded;
    if (config.quantization) throw new Error(`${modelDir}: an int8 checkpoint (medner quantize) has no Hugging Face format here; export the float checkpoint it was made from`);
    if (vocabulary.kind !== 'subwords' || !config.encoder) {
      throw new Error(`${modelDir}: a ${config.model} has no Hugging Face architecture (transformers' token classifiers sit on a BERT-family encoder); export --format hf takes bert-softmax, bert-crf and bert-bilstm-crf models`);
    }
    const modelType = config.encoder.modelType;
    const architecture = ARCHITECTURE[modelType];
    const hasLstm = config.model === 'bert-bilstm-crf';
    const main = new Map<string, Tensor>();
    const head = new Map<string, Tensor>();
    for (const [name, t] of model.namedParameters()) {
      if (name.startsWith('bert.')) main.set(hfName(name, modelType), t);
      else if (name.startsWith('classifier.') && !hasLstm) main.set(name, t);
      else head.set(name, t);
    }
    // The scheme's hard constraints, which medner adds at decoding (-1e4 on a forbidden move), as 0/1 masks.
    const masks: Tensor[] = [];
    if (model.crf && config.train.constraints !== 'off' && config.train.crf !== 'semi-markov') {
      const allowed = allowedTransitions(config.labels, config.scheme);
      const C = config.labels.length;
      const add = (name: string, values: number[], shape: number[]) => {
        const t = tensor(Float32Array.from(values), shape, { backend });
        masks.push(t);
        head.set(name, t);
      };
      add('crf.allowed_start', allowed.start, [C]);
      add('crf.allowed_transitions', allowed.transitions.flat(), [C, C]);
      add('crf.allowed_end', allowed.end, [C]);
    }
    const tokenizer = vocabulary.tokenizer;
    const entry: MednerEntry = {
      model: config.model,
      scheme: config.scheme,
      pooling: config.train.pooling,
      constraints: config.train.constraints,
      max_length: config.train.maxLength,
      ...(hasLstm ? { lstm_hidden: config.train.lstmHidden } : {}),
      ...(config.train.crf === 'semi-markov' ? { crf: 'semi-markov' as const } : {}),
    };
    const hfConfig = {
      ...toHfConfigJson(config.encoder),
      architectures: [architecture],
      id2label: Object.fromEntries(config.labels.map((l, i) => [String(i), l])),
      label2id: Object.fromEntries(config.labels.map((l, i) => [l, i])),
      pad_token_id: tokenizer.padId,
      torch_dtype: 'float32',
      medner: entry,
    };
    // The tokenizer's own files (vocab.txt or tokenizer.json, with its tokenizer_config.json), plus the
    // length limit and the special-token map transformers reads.
    const tokenizerFiles = tokenizer.files();
    const tokenizerConfig: Record<string, unknown> = { ...(JSON.parse(String(tokenizerFiles.get('tokenizer_config.json') ?? '{}')) as Record<string, unknown>), model_max_length: config.train.maxLength };
    tokenizerFiles.set('tokenizer_config.json', JSON.stringify(tokenizerConfig, null, 2) + '\n');
    const specialTokensMap = Object.fromEntries(['unk_token', 'cls_token', 'sep_token', 'pad_token', 'mask_token'].filter((k) => typeof tokenizerConfig[k] === 'string').map((k) => [k, tokenizerConfig[k]]));
    await writeDirectoryAtomically(out, async (tmp) => {
      await writeFile(join(tmp, 'config.json'), JSON.stringify(hfConfig, null, 2) + '\n');
      await saveSafetensors(join(tmp, 'model.safetensors'), main, { metadata: { format: 'pt' } });
      if (head.size) await saveSafetensors(join(tmp, HEAD_FILE), head, { metadata: { format: 'pt', producer: 'medner' } });
      for (const [name, content] of tokenizerFiles) await writeFile(join(tmp, name), content);
      await writeFile(join(tmp, 'special_tokens_map.json'), JSON.stringify(specialTokensMap, null, 2) + '\n');
      await writeFile(join(tmp, 'README.md'), exportCard(config, architecture, [...head.keys()], hasLstm));
    });
    for (const t of masks) t.dispose();
    return { architecture, labels: config.labels.length, tensors: main.size, headTensors: head.size };
  } finally {
    loaded.model.dispose();
  }
}

function exportCard(config: CheckpointConfig, architecture: string, headNames: string[], hasLstm: boolean): string {
  const types = [...new Set(config.labels.filter((l) => l !== 'O').map((l) => l.slice(2)))];
  const metrics = Object.entries(config.metrics).map(([k, v]) => `| ${k} | ${v.toFixed(4)} |`).join('\n');
  const load = `from transformers import AutoModelForTokenClassification, AutoTokenizer

tokenizer = AutoTokenizer.from_pretrained("path/to/this/directory")
model = AutoModelForTokenClassification.from_pretrained("path/to/this/directory").eval()`;
  const crfDecode = `import torch
from safetensors.torch import load_file

head = load_file("path/to/this/directory/${HEAD_FILE}")
words = ["Aspirin", "causes", "bleeding", "."]
enc = tokenizer(words, is_split_into_words=True, return_tensors="pt")
with torch.no_grad():
${hasLstm
    ? `    hidden = model.base_model(**enc).last_hidden_state              # [1, S, H]
    first = [i for i, w in enumerate(enc.word_ids()) if w is not None and (i == 0 or enc.word_ids()[i - 1] != w)]
    lstm = torch.nn.LSTM(hidden.shape[-1], ${config.train.lstmHidden}, batch_first=True, bidirectional=True)
    lstm.load_state_dict({k[len("lstm."):]: v for k, v in head.items() if k.startswith("lstm.")})
    out, _ = lstm(hidden[:, first])                                   # [1, T, 2K]
    emissions = (out @ head["classifier.weight"].T + head["classifier.bias"])[0]`
    : `    logits = model(**enc).logits[0]                                   # [S, C]
    first = [i for i, w in enumerate(enc.word_ids()) if w is not None and (i == 0 or enc.word_ids()[i - 1] != w)]
    emissions = logits[first]                                         # [T, C]: one row per word (first subword)`}
trans, start, end = head["crf.transitions"], head["crf.start_transitions"], head["crf.end_transitions"]
if "crf.allowed_transitions" in head:  # the label scheme's hard constraints, as medner decodes
    trans = trans + (1 - head["crf.allowed_transitions"]) * -1e4
    start = start + (1 - head["crf.allowed_start"]) * -1e4
    end = end + (1 - head["crf.allowed_end"]) * -1e4
# Viterbi: transitions[i, j] scores tag i followed by tag j (pytorch-crf's layout).
score, back = start + emissions[0], []
for t in range(1, len(emissions)):
    best, index = (score[:, None] + trans).max(0)
    score, back = best + emissions[t], back + [index]
tag = int((score + end).argmax())
path = [tag]
for index in reversed(back):
    tag = int(index[tag]); path.append(tag)
print([model.config.id2label[t] for t in reversed(path)])`;
  return `# ${architecture} exported by medner (${config.model})

A named-entity tagger trained with medner, in Hugging Face transformers' layout. Labels (${config.scheme}):
${config.labels.map((l) => `\`${l}\``).join(', ')}; entity types: ${types.join(', ') || '(none)'}.

| metric | value |
| --- | --- |
${metrics || '| (none recorded) | |'}

## Load it with transformers

\`\`\`python
${load}
\`\`\`

medner tags each word by its **first subword** (${config.train.pooling === 'first' ? 'as this model was trained' : `this model was trained with ${config.train.pooling} pooling, which transformers does not do: expect small differences`}); with a
\`pipeline("token-classification", model=..., aggregation_strategy="first")\` transformers does the same.
${headNames.length ? `
## Decoding with the CRF
${config.train.crf === 'semi-markov' ? '\nThis model ends in a **semi-Markov** CRF (segment scores): the linear-chain Viterbi below does not decode it; use medner (`medner predict --model <this directory>`).\n' : ''}
transformers has no CRF layer, so the ${hasLstm ? 'BiLSTM, its classifier and the CRF' : 'CRF'} are in \`${HEAD_FILE}\`
(${headNames.map((n) => `\`${n}\``).join(', ')}). ${hasLstm ? 'model.safetensors holds the encoder only: AutoModelForTokenClassification loads it and warns that `classifier.*` is newly initialized -- use the classifier in ' + HEAD_FILE + ' instead, after the BiLSTM.' : 'Argmax over the logits is the softmax reading of this model; the Viterbi path below is what medner predicts.'}

\`\`\`python
${crfDecode}
\`\`\`
` : ''}
## With medner

\`\`\`
medner predict --model path/to/this/directory "Aspirin causes bleeding."
medner eval --model path/to/this/directory --data test.tsv
\`\`\`

Training settings: \`\`\`${JSON.stringify(snakeKeys(config.train))}\`\`\`
`;
}
