#!/usr/bin/env python3
"""Check a `medner export --format hf` directory with Hugging Face transformers itself.

Loads the directory with AutoTokenizer and AutoModelForTokenClassification, tags the words of a
CoNLL file (one token per line, first column) with each word's first subword -- plus Viterbi over the
CRF in crf.safetensors when the export has one -- and compares the tags with `medner predict
--format conll --output-format conll` on the same file. Needs transformers (and safetensors) installed:
not part of CI, which checks the export by loading it back through medner's own Hugging Face loader
(test/interop/huggingface-export.test.ts).

    medner export --model runs/medner --format hf --out runs/hf
    medner predict --model runs/hf --format conll --input test.tsv --output-format conll --out medner.tsv
    python3 tools/reference/verify_hf_export.py runs/hf test.tsv medner.tsv
"""
import os
import sys

import torch
from transformers import AutoModelForTokenClassification, AutoTokenizer


def sentences(path, column=0):
    out, words = [], []
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.rstrip('\n')
            if not line.strip():
                if words:
                    out.append(words)
                words = []
            elif not line.startswith('-DOCSTART-'):
                words.append(line.split('\t')[column].split(' ')[0])
    if words:
        out.append(words)
    return out


def viterbi(emissions, trans, start, end):
    score, back = start + emissions[0], []
    for t in range(1, len(emissions)):
        best, index = (score[:, None] + trans).max(0)
        score, back = best + emissions[t], back + [index]
    tag = int((score + end).argmax())
    path = [tag]
    for index in reversed(back):
        tag = int(index[tag])
        path.append(tag)
    return path[::-1]


def main(export_dir, conll, medner_conll):
    tokenizer = AutoTokenizer.from_pretrained(export_dir)
    model = AutoModelForTokenClassification.from_pretrained(export_dir).eval()
    head_path = os.path.join(export_dir, 'crf.safetensors')
    head = None
    if os.path.exists(head_path):
        from safetensors.torch import load_file
        head = load_file(head_path)
    lstm = None
    if head is not None and any(k.startswith('lstm.') for k in head):
        hidden = model.config.hidden_size if hasattr(model.config, 'hidden_size') else model.config.dim
        size = head['lstm.weight_hh_l0'].shape[1]
        lstm = torch.nn.LSTM(hidden, size, batch_first=True, bidirectional=True)
        lstm.load_state_dict({k[len('lstm.'):]: v for k, v in head.items() if k.startswith('lstm.')})
    ours = sentences(medner_conll, column=-1)
    mismatches = total = 0
    for words, theirs_tags in zip(sentences(conll), ours):
        enc = tokenizer(words, is_split_into_words=True, return_tensors='pt')
        ids = enc.word_ids()
        first = [i for i, w in enumerate(ids) if w is not None and (i == 0 or ids[i - 1] != w)]
        with torch.no_grad():
            if lstm is not None:
                states = model.base_model(**enc).last_hidden_state[:, first]
                out, _ = lstm(states)
                emissions = (out @ head['classifier.weight'].T + head['classifier.bias'])[0]
            else:
                emissions = model(**enc).logits[0, first]
        if head is not None:
            trans, start, end = head['crf.transitions'], head['crf.start_transitions'], head['crf.end_transitions']
            if 'crf.allowed_transitions' in head:  # the scheme's hard constraints, as medner decodes
                trans = trans + (1 - head['crf.allowed_transitions']) * -1e4
                start = start + (1 - head['crf.allowed_start']) * -1e4
                end = end + (1 - head['crf.allowed_end']) * -1e4
            path = viterbi(emissions, trans, start, end)
        else:
            path = emissions.argmax(-1).tolist()
        tags = [model.config.id2label[t] for t in path]
        total += len(tags)
        mismatches += sum(a != b for a, b in zip(tags, theirs_tags))
    print('%d words, %d tags differ between transformers and medner' % (total, mismatches))
    return 0 if mismatches == 0 else 1


if __name__ == '__main__':
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
