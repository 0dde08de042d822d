#!/usr/bin/python3
"""Tiny Hugging Face model directories for the pretrained-checkpoint tests (test/pretrained).

For each architecture medner loads -- BERT, DistilBERT, RoBERTa, ALBERT -- this script builds a
tiny model with random weights, writes it as a Hugging Face model directory under
test/fixtures/hf/<arch>/ (config.json with HF's field names and model_type, vocab.txt,
model.safetensors with HF's tensor names, a model prefix such as `bert.`, and unused heads such
as `cls.predictions.*` or `pooler.*` so the loader's ignore path is exercised), and records in
expected.json the input ids of a few sentences and the last hidden state the model gives them.

transformers is not installable here, so each forward pass below follows Hugging Face's modeling
code line by line (modeling_bert.BertModel, modeling_distilbert.DistilBertModel,
modeling_roberta.RobertaModel, modeling_albert.AlbertModel) in plain torch. Dropout is off
(eval mode). The `safetensors` package is not installable either: the file bytes follow its
serializer as tools/reference/make_safetensors_fixture.py does.

Run with Debian's PyTorch (python3-torch 1.13, CPU):
    /usr/bin/python3 tools/reference/make_hf_fixtures.py
"""
import json
import math
import os
import shutil
import struct

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, 'test', 'fixtures', 'hf')
MIN = torch.finfo(torch.float32).min  # HF's additive / masked_fill value for padded keys

# ---------------------------------------------------------------- vocabulary and inputs

SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']
# RoBERTa numbers <s>=0, <pad>=1, </s>=2, <unk>=3: a WordPiece vocabulary for it keeps pad at 1,
# so pad_token_id = 1 and the position offset padding_idx + 1 = 2 are RoBERTa's own.
ROBERTA_SPECIALS = ['[CLS]', '[PAD]', '[SEP]', '[UNK]', '[MASK]']
LETTERS = [chr(c) for c in range(ord('a'), ord('z') + 1)]
WORDS = ['the', 'patient', 'was', 'given', 'aspirin', 'for', 'fever', 'no', 'signs', 'of', 'cancer', 'in', 'liver',
         'induced', 'cis', '##platin', 'neph', '##ro', '##tox', '##icity', '.', ',', '(', ')', '-']

SENTENCES = [
    'the patient was given aspirin for fever .'.split(),
    'cisplatin induced nephrotoxicity'.split(),
    'no signs of cancer in the liver , fever ( mild ) .'.split(),
]


def vocabulary(specials):
    return specials + WORDS + LETTERS + ['##' + c for c in LETTERS]


def wordpiece(word, vocab):
    """Greedy longest-match-first, as BERT's WordpieceTokenizer (the words here are lowercase ASCII)."""
    pieces, start = [], 0
    while start < len(word):
        end = len(word)
        while end > start:
            piece = ('##' if start > 0 else '') + word[start:end]
            if piece in vocab:
                break
            end -= 1
        if end == start:
            return [vocab['[UNK]']]
        pieces.append(vocab[piece])
        start = end
    return pieces


def encode(tokens, pad_id, type_rows=None):
    """[CLS] pieces [SEP] per sentence, right-padded with pad_id; mask 1 on real positions."""
    vocab = {t: i for i, t in enumerate(tokens)}
    rows = [[vocab['[CLS]']] + [p for w in s for p in wordpiece(w, vocab)] + [vocab['[SEP]']] for s in SENTENCES]
    S = max(len(r) for r in rows)
    ids = torch.full((len(rows), S), pad_id, dtype=torch.long)
    mask = torch.zeros(len(rows), S)
    for b, r in enumerate(rows):
        ids[b, :len(r)] = torch.tensor(r)
        mask[b, :len(r)] = 1
    types = torch.zeros_like(ids)
    if type_rows:
        # A sentence pair in row 1: its second half is segment B, as BERT's tokenizer marks it.
        n = int(mask[1].sum())
        types[1, n // 2:n] = 1
    return ids, mask, types


# ---------------------------------------------------------------- shared pieces

def linear(x, p, name):
    return F.linear(x, p[name + '.weight'], p[name + '.bias'])


def layer_norm(x, p, name, eps):
    return F.layer_norm(x, (x.shape[-1],), p[name + '.weight'], p[name + '.bias'], eps)


def act(name, x):
    if name == 'gelu':
        return F.gelu(x)  # erf form, HF's GELUActivation
    if name == 'gelu_new':  # HF NewGELUActivation
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))
    if name == 'relu':
        return F.relu(x)
    raise ValueError(name)


def extended_mask(mask):
    # ModuleUtilsMixin.get_extended_attention_mask: (1 - mask) * finfo.min, [B, 1, 1, S]
    return (1.0 - mask)[:, None, None, :] * MIN


def split_heads(t, heads):
    B, S, H = t.shape
    return t.view(B, S, heads, H // heads).permute(0, 2, 1, 3)


def merge_heads(t):
    B, N, S, D = t.shape
    return t.permute(0, 2, 1, 3).reshape(B, S, N * D)


# ---------------------------------------------------------------- BERT and RoBERTa (modeling_bert / modeling_roberta)

def create_position_ids_from_input_ids(input_ids, padding_idx):
    # modeling_roberta: real tokens are numbered from padding_idx + 1; padding keeps padding_idx.
    mask = input_ids.ne(padding_idx).int()
    incremental_indices = torch.cumsum(mask, dim=1).type_as(mask) * mask
    return incremental_indices.long() + padding_idx


def bert_forward(p, cfg, ids, mask, types, roberta=False):
    eps = cfg['layer_norm_eps']
    S = ids.shape[1]
    position_ids = create_position_ids_from_input_ids(ids, cfg['pad_token_id']) if roberta else torch.arange(S)[None]
    # BertEmbeddings: inputs_embeds + token_type_embeddings, then += position_embeddings
    x = p['embeddings.word_embeddings.weight'][ids] + p['embeddings.token_type_embeddings.weight'][types]
    x = x + p['embeddings.position_embeddings.weight'][position_ids]
    x = layer_norm(x, p, 'embeddings.LayerNorm', eps)
    bias = extended_mask(mask)
    heads = cfg['num_attention_heads']
    for i in range(cfg['num_hidden_layers']):
        l = 'encoder.layer.%d.' % i
        q = split_heads(linear(x, p, l + 'attention.self.query'), heads)
        k = split_heads(linear(x, p, l + 'attention.self.key'), heads)
        v = split_heads(linear(x, p, l + 'attention.self.value'), heads)
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(q.shape[-1]) + bias
        context = merge_heads(torch.matmul(torch.softmax(scores, dim=-1), v))
        a = layer_norm(linear(context, p, l + 'attention.output.dense') + x, p, l + 'attention.output.LayerNorm', eps)
        inter = act(cfg['hidden_act'], linear(a, p, l + 'intermediate.dense'))
        x = layer_norm(linear(inter, p, l + 'output.dense') + a, p, l + 'output.LayerNorm', eps)
    return x


def bert_params(cfg):
    H, I, E = cfg['hidden_size'], cfg['intermediate_size'], cfg['hidden_size']
    p = embedding_params(cfg, E, with_types=True)
    for i in range(cfg['num_hidden_layers']):
        l = 'encoder.layer.%d.' % i
        for name, (o, n) in {'attention.self.query': (H, H), 'attention.self.key': (H, H), 'attention.self.value': (H, H),
                             'attention.output.dense': (H, H), 'intermediate.dense': (I, H), 'output.dense': (H, I)}.items():
            linear_params(p, l + name, o, n)
        for name in ('attention.output.LayerNorm', 'output.LayerNorm'):
            norm_params(p, l + name, H)
    return p


# ---------------------------------------------------------------- DistilBERT (modeling_distilbert)

def create_sinusoidal_embeddings(n_pos, dim):
    # modeling_distilbert.create_sinusoidal_embeddings
    position_enc = np.array([[pos / np.power(10000, 2 * (j // 2) / dim) for j in range(dim)] for pos in range(n_pos)])
    out = torch.zeros(n_pos, dim)
    out[:, 0::2] = torch.FloatTensor(np.sin(position_enc[:, 0::2]))
    out[:, 1::2] = torch.FloatTensor(np.cos(position_enc[:, 1::2]))
    return out


def distilbert_forward(p, cfg, ids, mask):
    S = ids.shape[1]
    # Embeddings: word + position, LayerNorm(eps=1e-12)
    x = p['embeddings.word_embeddings.weight'][ids] + p['embeddings.position_embeddings.weight'][torch.arange(S)][None]
    x = layer_norm(x, p, 'embeddings.LayerNorm', 1e-12)
    heads = cfg['n_heads']
    dim_per_head = cfg['dim'] // heads
    masked = (mask == 0)[:, None, None, :]
    for i in range(cfg['n_layers']):
        l = 'transformer.layer.%d.' % i
        # MultiHeadSelfAttention: q scaled before the product; padded keys masked_fill'ed with finfo.min
        q = split_heads(linear(x, p, l + 'attention.q_lin'), heads) / math.sqrt(dim_per_head)
        k = split_heads(linear(x, p, l + 'attention.k_lin'), heads)
        v = split_heads(linear(x, p, l + 'attention.v_lin'), heads)
        scores = torch.matmul(q, k.transpose(2, 3)).masked_fill(masked, MIN)
        context = merge_heads(torch.matmul(torch.softmax(scores, dim=-1), v))
        sa = layer_norm(linear(context, p, l + 'attention.out_lin') + x, p, l + 'sa_layer_norm', 1e-12)
        # FFN: lin2(activation(lin1(x)))
        ffn = linear(act(cfg['activation'], linear(sa, p, l + 'ffn.lin1')), p, l + 'ffn.lin2')
        x = layer_norm(ffn + sa, p, l + 'output_layer_norm', 1e-12)
    return x


def distilbert_params(cfg):
    H, I = cfg['dim'], cfg['hidden_dim']
    p = {}
    p['embeddings.word_embeddings.weight'] = normal(cfg['vocab_size'], H)
    p['embeddings.word_embeddings.weight'][cfg['pad_token_id']] = 0
    p['embeddings.position_embeddings.weight'] = create_sinusoidal_embeddings(cfg['max_position_embeddings'], H) \
        if cfg['sinusoidal_pos_embds'] else normal(cfg['max_position_embeddings'], H)
    norm_params(p, 'embeddings.LayerNorm', H)
    for i in range(cfg['n_layers']):
        l = 'transformer.layer.%d.' % i
        for name in ('q_lin', 'k_lin', 'v_lin', 'out_lin'):
            linear_params(p, l + 'attention.' + name, H, H)
        norm_params(p, l + 'sa_layer_norm', H)
        linear_params(p, l + 'ffn.lin1', I, H)
        linear_params(p, l + 'ffn.lin2', H, I)
        norm_params(p, l + 'output_layer_norm', H)
    return p


# ---------------------------------------------------------------- ALBERT (modeling_albert)

def albert_forward(p, cfg, ids, mask, types):
    eps = cfg['layer_norm_eps']
    S = ids.shape[1]
    # AlbertEmbeddings (copied from BertEmbeddings.forward) at embedding_size
    x = p['embeddings.word_embeddings.weight'][ids] + p['embeddings.token_type_embeddings.weight'][types]
    x = x + p['embeddings.position_embeddings.weight'][torch.arange(S)][None]
    x = layer_norm(x, p, 'embeddings.LayerNorm', eps)
    # AlbertTransformer: E -> H, then num_hidden_layers applications of a shared layer group
    x = linear(x, p, 'encoder.embedding_hidden_mapping_in')
    bias = extended_mask(mask)
    heads = cfg['num_attention_heads']
    L, G = cfg['num_hidden_layers'], cfg['num_hidden_groups']
    for i in range(L):
        group_idx = int(i / (L / G))
        for j in range(cfg['inner_group_num']):
            l = 'encoder.albert_layer_groups.%d.albert_layers.%d.' % (group_idx, j)
            # AlbertAttention
            q = split_heads(linear(x, p, l + 'attention.query'), heads)
            k = split_heads(linear(x, p, l + 'attention.key'), heads)
            v = split_heads(linear(x, p, l + 'attention.value'), heads)
            scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(q.shape[-1]) + bias
            context = torch.matmul(torch.softmax(scores, dim=-1), v).transpose(2, 1).flatten(2)
            a = layer_norm(x + linear(context, p, l + 'attention.dense'), p, l + 'attention.LayerNorm', eps)
            # AlbertLayer.ff_chunk, then full_layer_layer_norm(ffn_output + attention_output)
            ffn = linear(act(cfg['hidden_act'], linear(a, p, l + 'ffn')), p, l + 'ffn_output')
            x = layer_norm(ffn + a, p, l + 'full_layer_layer_norm', eps)
    return x


def albert_params(cfg):
    H, I, E = cfg['hidden_size'], cfg['intermediate_size'], cfg['embedding_size']
    p = embedding_params(cfg, E, with_types=True)
    linear_params(p, 'encoder.embedding_hidden_mapping_in', H, E)
    for g in range(cfg['num_hidden_groups']):
        for j in range(cfg['inner_group_num']):
            l = 'encoder.albert_layer_groups.%d.albert_layers.%d.' % (g, j)
            for name in ('query', 'key', 'value', 'dense'):
                linear_params(p, l + 'attention.' + name, H, H)
            norm_params(p, l + 'attention.LayerNorm', H)
            linear_params(p, l + 'ffn', I, H)
            linear_params(p, l + 'ffn_output', H, I)
            norm_params(p, l + 'full_layer_layer_norm', H)
    return p


# ---------------------------------------------------------------- weights

STD = 0.2  # larger than HF's 0.02 so attention is far from uniform and every weight matters


def normal(*shape, std=STD, mean=0.0):
    return torch.randn(*shape) * std + mean


def linear_params(p, name, out, n):
    p[name + '.weight'] = normal(out, n)
    p[name + '.bias'] = normal(out, std=0.1)


def norm_params(p, name, dim):
    p[name + '.weight'] = normal(dim, std=0.1, mean=1.0)
    p[name + '.bias'] = normal(dim, std=0.1)


def embedding_params(cfg, dim, with_types):
    p = {'embeddings.word_embeddings.weight': normal(cfg['vocab_size'], dim),
         'embeddings.position_embeddings.weight': normal(cfg['max_position_embeddings'], dim)}
    p['embeddings.word_embeddings.weight'][cfg['pad_token_id']] = 0  # padding_idx row, as HF's init
    if with_types:
        p['embeddings.token_type_embeddings.weight'] = normal(cfg['type_vocab_size'], dim)
    norm_params(p, 'embeddings.LayerNorm', dim)
    return p


# ---------------------------------------------------------------- safetensors

DTYPE_ORDER = ['BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64']
TORCH_DTYPES = {'F32': torch.float32, 'F16': torch.float16, 'I64': torch.int64}


def write_safetensors(path, tensors):
    """tensors: name -> (dtype, tensor). Sorted by dtype then name, as safetensors' serializer."""
    order = sorted(tensors, key=lambda n: (-DTYPE_ORDER.index(tensors[n][0]), n))
    header = {'__metadata__': {'format': 'pt'}}
    data = b''
    for name in order:
        dtype, t = tensors[name]
        b = t.to(TORCH_DTYPES[dtype]).contiguous().numpy().tobytes()
        header[name] = {'dtype': dtype, 'shape': list(t.shape), 'data_offsets': [len(data), len(data) + len(b)]}
        data += b
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * ((8 - len(text) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + data)


def rounded(p, dtype):
    """The values the file holds (F16 rounds), so torch computes with exactly what medner reads."""
    return {k: v.to(TORCH_DTYPES[dtype]).to(torch.float32) for k, v in p.items()}


def values(t):
    return [float('%.8g' % v) for v in t.detach().reshape(-1).tolist()]


def write_model(arch, cfg, specials, params, forward, prefix, heads, dtype='F32', rename=None, type_rows=False):
    d = os.path.join(OUT, arch)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    tokens = vocabulary(specials)
    cfg = dict(cfg, vocab_size=len(tokens))
    p = rounded(params(cfg), dtype)
    ids, mask, types = encode(tokens, cfg['pad_token_id'], type_rows)
    with torch.no_grad():
        hidden = forward(p, cfg, ids, mask, types)
    stored = {}
    for name, t in p.items():
        stored[prefix + (rename(name) if rename else name)] = (dtype, t)
    for name, shape in heads.items():
        stored[name] = ('I64', torch.arange(shape[-1])[None]) if name.endswith('position_ids') else (dtype, normal(*shape))
    write_safetensors(os.path.join(d, 'model.safetensors'), stored)
    with open(os.path.join(d, 'config.json'), 'w') as f:
        json.dump(cfg, f, indent=2)
        f.write('\n')
    with open(os.path.join(d, 'vocab.txt'), 'w') as f:
        f.write('\n'.join(tokens) + '\n')
    with open(os.path.join(d, 'tokenizer_config.json'), 'w') as f:
        json.dump({'do_lower_case': True, 'tokenizer_class': 'BertTokenizer'}, f)
        f.write('\n')
    expected = {
        'source': 'tools/reference/make_hf_fixtures.py (torch %s)' % torch.__version__,
        'words': SENTENCES,
        'inputIds': ids.tolist(),
        'attentionMask': mask.long().tolist(),
        'tokenTypeIds': types.tolist() if type_rows else None,
        'lastHiddenState': {'shape': list(hidden.shape), 'data': values(hidden)},
    }
    with open(os.path.join(d, 'expected.json'), 'w') as f:
        json.dump(expected, f, separators=(',', ':'))
    size = sum(os.path.getsize(os.path.join(d, n)) for n in os.listdir(d))
    print('%-28s %7d bytes, %d tensors, hidden %s' % (os.path.relpath(d, ROOT), size, len(stored), list(hidden.shape)))


def old_layer_norm_names(name):
    # Checkpoints converted from TensorFlow (BioBERT v1.1) still call LayerNorm's parameters gamma/beta.
    return name.replace('embeddings.LayerNorm.weight', 'embeddings.LayerNorm.gamma').replace('embeddings.LayerNorm.bias', 'embeddings.LayerNorm.beta')


def main():
    V = len(vocabulary(SPECIALS))  # MLM heads' output size
    torch.manual_seed(20240607)
    bert = {'model_type': 'bert', 'architectures': ['BertForMaskedLM'], 'hidden_size': 16, 'num_hidden_layers': 2,
            'num_attention_heads': 2, 'intermediate_size': 32, 'hidden_act': 'gelu', 'max_position_embeddings': 32,
            'type_vocab_size': 2, 'layer_norm_eps': 1e-12, 'hidden_dropout_prob': 0.1, 'attention_probs_dropout_prob': 0.1,
            'initializer_range': 0.02, 'pad_token_id': 0, 'position_embedding_type': 'absolute'}
    write_model('bert', bert, SPECIALS, bert_params, lambda p, c, i, m, t: bert_forward(p, c, i, m, t), 'bert.',
                {'bert.pooler.dense.weight': (16, 16), 'bert.pooler.dense.bias': (16,), 'cls.predictions.transform.dense.weight': (16, 16),
                 'cls.predictions.bias': (V,), 'bert.embeddings.position_ids': (1, 32)},
                rename=old_layer_norm_names, type_rows=True)

    roberta = {'model_type': 'roberta', 'architectures': ['RobertaForMaskedLM'], 'hidden_size': 16, 'num_hidden_layers': 2,
               'num_attention_heads': 4, 'intermediate_size': 32, 'hidden_act': 'gelu', 'max_position_embeddings': 34,
               'type_vocab_size': 1, 'layer_norm_eps': 1e-5, 'hidden_dropout_prob': 0.1, 'attention_probs_dropout_prob': 0.1,
               'initializer_range': 0.02, 'pad_token_id': 1, 'bos_token_id': 0, 'eos_token_id': 2, 'position_embedding_type': 'absolute'}

    def roberta_params(cfg):
        p = bert_params(cfg)
        p['embeddings.position_embeddings.weight'][cfg['pad_token_id']] = 0  # RobertaEmbeddings' padding_idx
        return p
    write_model('roberta', roberta, ROBERTA_SPECIALS, roberta_params, lambda p, c, i, m, t: bert_forward(p, c, i, m, t, roberta=True), 'roberta.',
                {'roberta.pooler.dense.weight': (16, 16), 'roberta.pooler.dense.bias': (16,), 'lm_head.dense.weight': (16, 16), 'lm_head.bias': (V,)})

    distilbert = {'model_type': 'distilbert', 'architectures': ['DistilBertForMaskedLM'], 'dim': 24, 'n_layers': 2, 'n_heads': 3,
                  'hidden_dim': 48, 'activation': 'gelu', 'max_position_embeddings': 32, 'sinusoidal_pos_embds': True,
                  'dropout': 0.1, 'attention_dropout': 0.1, 'initializer_range': 0.02, 'pad_token_id': 0}
    # F16 weights: a half-precision checkpoint, read into f32 by medner exactly as torch upcasts it.
    write_model('distilbert', distilbert, SPECIALS, distilbert_params, lambda p, c, i, m, t: distilbert_forward(p, c, i, m), 'distilbert.',
                {'vocab_transform.weight': (24, 24), 'vocab_layer_norm.weight': (24,), 'vocab_projector.bias': (V,)}, dtype='F16')

    albert = {'model_type': 'albert', 'architectures': ['AlbertForMaskedLM'], 'embedding_size': 8, 'hidden_size': 16,
              'num_hidden_layers': 4, 'num_hidden_groups': 2, 'inner_group_num': 2, 'num_attention_heads': 2,
              'intermediate_size': 32, 'hidden_act': 'gelu_new', 'max_position_embeddings': 32, 'type_vocab_size': 2,
              'layer_norm_eps': 1e-12, 'hidden_dropout_prob': 0, 'attention_probs_dropout_prob': 0, 'initializer_range': 0.02,
              'pad_token_id': 0, 'position_embedding_type': 'absolute'}
    write_model('albert', albert, SPECIALS, albert_params, albert_forward, 'albert.',
                {'albert.pooler.weight': (16, 16), 'albert.pooler.bias': (16,), 'predictions.dense.weight': (8, 16),
                 'sop_classifier.classifier.weight': (2, 16), 'albert.embeddings.position_ids': (1, 32)})


if __name__ == '__main__':
    main()
