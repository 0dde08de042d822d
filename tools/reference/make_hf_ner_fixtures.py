#!/usr/bin/python3
"""Tiny Hugging Face token-classification directories (test/fixtures/hf-ner/<arch>/) for predict/eval.

Each is one of the encoder fixtures of make_hf_fixtures.py (test/fixtures/hf/<arch>/: BERT, RoBERTa,
DistilBERT, ALBERT; GPT-Neo from make_gptneo_fixtures.py; ModernBERT from make_modernbert_fixtures.py) turned into what transformers' XxxForTokenClassification saves after fine-tuning:
config.json with architectures ["XxxForTokenClassification"], id2label and label2id; model.safetensors
with the encoder under its model prefix (no pooler: the token classifiers build their encoder with
add_pooling_layer=False; no pretraining heads) plus `classifier.weight` [C, H] and `classifier.bias` [C]
with random values; vocab.txt and tokenizer_config.json as they were.

expected.json holds the logits of HF's forward, `classifier(dropout(last_hidden_state))` in eval mode,
computed from the encoder fixture's recorded last hidden state (itself HF's forward, replayed in torch
by make_hf_fixtures.py), for the same sentences and input ids.

Run with Debian's PyTorch (python3-torch, CPU), after make_hf_fixtures.py:
    /usr/bin/python3 tools/reference/make_hf_ner_fixtures.py
"""
import json
import os
import shutil
import struct

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SRC = os.path.join(ROOT, 'test', 'fixtures', 'hf')
OUT = os.path.join(ROOT, 'test', 'fixtures', 'hf-ner')
LABELS = ['O', 'B-Chemical', 'I-Chemical', 'B-Disease', 'I-Disease']
ARCHS = {'bert': ('bert.', 'BertForTokenClassification'), 'roberta': ('roberta.', 'RobertaForTokenClassification'),
         'distilbert': ('distilbert.', 'DistilBertForTokenClassification'), 'albert': ('albert.', 'AlbertForTokenClassification'),
         'gpt_neo': ('transformer.', 'GPTNeoForTokenClassification'),
         # Last, so the random classifiers of the others stay as they were.
         'modernbert': ('model.', 'ModernBertForTokenClassification')}
DTYPES = {'F32': (torch.float32, 4), 'F16': (torch.float16, 2), 'I64': (torch.int64, 8), 'BOOL': (torch.bool, 1)}
DTYPE_ORDER = ['BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64']


def read_safetensors(path):
    """name -> (dtype, tensor): the format is an 8-byte header length, a JSON header, then raw bytes."""
    with open(path, 'rb') as f:
        data = f.read()
    n = struct.unpack('<Q', data[:8])[0]
    header = json.loads(data[8:8 + n])
    out = {}
    for name, e in header.items():
        if name == '__metadata__':
            continue
        start, end = e['data_offsets']
        dtype, _ = DTYPES[e['dtype']]
        buf = bytearray(data[8 + n + start:8 + n + end])
        out[name] = (e['dtype'], torch.frombuffer(buf, dtype=dtype).reshape(e['shape']).clone())
    return out


def write_safetensors(path, tensors):
    """As make_hf_fixtures.py: sorted by dtype then name, as safetensors' serializer."""
    order = sorted(tensors, key=lambda n: (-DTYPE_ORDER.index(tensors[n][0]), n))
    header = {'__metadata__': {'format': 'pt'}}
    data = b''
    for name in order:
        dtype, t = tensors[name]
        b = t.to(DTYPES[dtype][0]).contiguous().numpy().tobytes()
        header[name] = {'dtype': dtype, 'shape': list(t.shape), 'data_offsets': [len(data), len(data) + len(b)]}
        data += b
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * ((8 - len(text) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + data)


def main():
    torch.manual_seed(20261129)
    for arch, (prefix, architecture) in ARCHS.items():
        src, d = os.path.join(SRC, arch), os.path.join(OUT, arch)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        with open(os.path.join(src, 'config.json')) as f:
            cfg = json.load(f)
        with open(os.path.join(src, 'expected.json')) as f:
            encoder = json.load(f)
        # ModernBertForTokenClassification keeps its prediction head (head.dense, head.norm) beside model.*.
        tensors = {k: v for k, v in read_safetensors(os.path.join(src, 'model.safetensors')).items()
                   if (k.startswith(prefix) or (arch == 'modernbert' and k.startswith('head.'))) and '.pooler' not in k and not k.endswith('position_ids')
                   and not k.endswith(('attn.attention.bias', 'attn.attention.masked_bias'))}  # GPT-Neo's mask buffers: not saved (persistent=False)
        dtype = next(iter(tensors.values()))[0]
        H = cfg.get('hidden_size', cfg.get('dim'))
        C = len(LABELS)
        # Large enough to give every label a chance on a random encoder.
        weight = torch.randn(C, H) * 2.0
        bias = torch.randn(C) * 0.5
        weight, bias = weight.to(DTYPES[dtype][0]).float(), bias.to(DTYPES[dtype][0]).float()
        tensors['classifier.weight'] = (dtype, weight)
        tensors['classifier.bias'] = (dtype, bias)
        write_safetensors(os.path.join(d, 'model.safetensors'), tensors)
        cfg = dict(cfg, architectures=[architecture], id2label={str(i): l for i, l in enumerate(LABELS)},
                   label2id={l: i for i, l in enumerate(LABELS)})
        with open(os.path.join(d, 'config.json'), 'w') as f:
            json.dump(cfg, f, indent=2)
            f.write('\n')
        for name in ['vocab.txt', 'tokenizer_config.json']:
            shutil.copy(os.path.join(src, name), os.path.join(d, name))
        # HF's token classifier: dropout (identity in eval) then a Linear over every position.
        # (ModernBERT: classifier(drop(head(last_hidden_state))), the head's output recorded as tokenFeatures.)
        features = encoder.get('tokenFeatures', encoder['lastHiddenState'])
        hidden = torch.tensor(features['data']).reshape(features['shape'])
        logits = hidden @ weight.T + bias
        expected = {
            'source': 'tools/reference/make_hf_ner_fixtures.py (torch %s)' % torch.__version__,
            'words': encoder['words'],
            'inputIds': encoder['inputIds'],
            'attentionMask': encoder['attentionMask'],
            'labels': LABELS,
            'logits': {'shape': list(logits.shape), 'data': [float('%.8g' % v) for v in logits.reshape(-1).tolist()]},
        }
        with open(os.path.join(d, 'expected.json'), 'w') as f:
            json.dump(expected, f, separators=(',', ':'))
        size = sum(os.path.getsize(os.path.join(d, n)) for n in os.listdir(d))
        print('%-28s %7d bytes, %d tensors, logits %s' % (os.path.relpath(d, ROOT), size, len(tensors), list(logits.shape)))


if __name__ == '__main__':
    main()
