#!/usr/bin/env python3
"""PyTorch reference fixtures for the layer parity tests (test/nn/*.test.ts), in llm.c's way:
build each module with fixed small weights, run forward and backward on fixed inputs, and
write weights, inputs, outputs and every gradient to test/fixtures/reference/*.json, so the
TypeScript tests replay them with no Python.

Run with Debian's PyTorch (python3-torch, 1.13, CPU):
    /usr/bin/python3 tools/reference/make_fixtures.py

transformers and pytorch-crf are not installed, so BERT's layers follow Hugging Face's
modeling_bert line by line and the CRF follows kmkurn/pytorch-crf's conventions
(transitions[i, j] = score of tag i followed by tag j; start/end transitions; mask a prefix of ones).
Dropout is 0 everywhere: the parity checks compare deterministic functions.
"""
import json
import math
import os

import torch
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, 'test', 'fixtures', 'reference')
MASKED_SCORE = torch.finfo(torch.float32).min  # HF's additive attention mask value


def values(t):
    """A tensor as {shape, data} with 7 significant digits (f32 has ~7.2)."""
    t = t.detach().to(torch.float32).reshape(-1)
    return [float('%.7g' % v) for v in t.tolist()]


def enc(t):
    if t.dtype in (torch.int32, torch.int64):
        return {'shape': list(t.shape), 'dtype': 'i32', 'data': [int(v) for v in t.reshape(-1).tolist()]}
    return {'shape': list(t.shape), 'dtype': 'f32', 'data': values(t)}


def fixed(*shape, scale=1.0, offset=0.0):
    """Fixed random values rounded to 6 decimals, so the JSON holds exactly what torch used."""
    t = torch.randn(*shape) * scale + offset
    return torch.round(t * 1e6) / 1e6


def write(name, payload):
    path = os.path.join(OUT, name + '.json')
    with open(path, 'w') as f:
        json.dump(payload, f, separators=(',', ':'))
    print('%-40s %7d bytes' % (os.path.relpath(path, ROOT), os.path.getsize(path)))


def leaves(params):
    return {k: v.clone().requires_grad_(True) for k, v in params.items()}


def grads(params):
    missing = [k for k, v in params.items() if v.grad is None]
    assert not missing, missing
    return {k: enc(v.grad) for k, v in params.items()}


# ---------------------------------------------------------------- layers (HF modeling_bert)

def linear(x, p, name):
    return F.linear(x, p[name + '.weight'], p.get(name + '.bias'))


def layer_norm(x, p, name, eps):
    return F.layer_norm(x, (x.shape[-1],), p[name + '.weight'], p[name + '.bias'], eps)


def extended_mask(mask):
    # BertModel.get_extended_attention_mask: (1 - mask) * finfo.min, shape [B, 1, 1, S]
    return (1.0 - mask)[:, None, None, :] * MASKED_SCORE


def bert_attention(x, p, prefix, bias, heads, eps):
    """BertSelfAttention + BertSelfOutput."""
    B, S, H = x.shape
    d = H // heads

    def split(t):
        return t.view(B, S, heads, d).permute(0, 2, 1, 3)

    q = split(linear(x, p, prefix + 'self.query'))
    k = split(linear(x, p, prefix + 'self.key'))
    v = split(linear(x, p, prefix + 'self.value'))
    scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d)
    if bias is not None:
        scores = scores + bias
    probs = torch.softmax(scores, dim=-1)
    context = torch.matmul(probs, v).permute(0, 2, 1, 3).reshape(B, S, H)
    return layer_norm(linear(context, p, prefix + 'output.dense') + x, p, prefix + 'output.LayerNorm', eps)


def bert_model(ids, types, mask, p, cfg, prefix=''):
    S = ids.shape[1]
    e = prefix + 'embeddings.'
    positions = torch.arange(S)
    x = p[e + 'word_embeddings.weight'][ids] + p[e + 'position_embeddings.weight'][positions][None] + p[e + 'token_type_embeddings.weight'][types]
    x = layer_norm(x, p, e + 'LayerNorm', cfg['layer_norm_eps'])
    bias = extended_mask(mask)
    for i in range(cfg['num_hidden_layers']):
        l = '%sencoder.layer.%d.' % (prefix, i)
        a = bert_attention(x, p, l + 'attention.', bias, cfg['num_attention_heads'], cfg['layer_norm_eps'])
        inter = F.gelu(linear(a, p, l + 'intermediate.dense'))
        x = layer_norm(linear(inter, p, l + 'output.dense') + a, p, l + 'output.LayerNorm', cfg['layer_norm_eps'])
    return x


def bert_params(cfg, prefix=''):
    H, I = cfg['hidden_size'], cfg['intermediate_size']
    s = 0.3  # larger than BERT's 0.02 so attention is far from uniform and gradients are not tiny
    p = {}
    e = prefix + 'embeddings.'
    p[e + 'word_embeddings.weight'] = fixed(cfg['vocab_size'], H, scale=s)
    p[e + 'position_embeddings.weight'] = fixed(cfg['max_position_embeddings'], H, scale=s)
    p[e + 'token_type_embeddings.weight'] = fixed(cfg['type_vocab_size'], H, scale=s)
    p[e + 'LayerNorm.weight'] = fixed(H, scale=0.1, offset=1.0)
    p[e + 'LayerNorm.bias'] = fixed(H, scale=0.1)
    for i in range(cfg['num_hidden_layers']):
        l = '%sencoder.layer.%d.' % (prefix, i)
        for name, (o, n) in {'attention.self.query': (H, H), 'attention.self.key': (H, H), 'attention.self.value': (H, H),
                             'attention.output.dense': (H, H), 'intermediate.dense': (I, H), 'output.dense': (H, I)}.items():
            p[l + name + '.weight'] = fixed(o, n, scale=s)
            p[l + name + '.bias'] = fixed(o, scale=0.1)
        for name in ('attention.output.LayerNorm', 'output.LayerNorm'):
            p[l + name + '.weight'] = fixed(H, scale=0.1, offset=1.0)
            p[l + name + '.bias'] = fixed(H, scale=0.1)
    return p


def prefix_mask(lengths, steps):
    return (torch.arange(steps)[None, :] < torch.tensor(lengths)[:, None]).float()


# ---------------------------------------------------------------- CRF (pytorch-crf conventions)

def crf_nll(em, tags, mask, trans, start, end):
    """-log p(tags | em) per sequence; em [B,T,C], tags [B,T], mask [B,T] prefix of ones."""
    B, T, C = em.shape
    ar = torch.arange(B)
    score = start[tags[:, 0]] + em[ar, 0, tags[:, 0]]
    for t in range(1, T):
        score = score + (trans[tags[:, t - 1], tags[:, t]] + em[ar, t, tags[:, t]]) * mask[:, t]
    last = tags[ar, mask.sum(1).long() - 1]
    score = score + end[last]
    alpha = start[None] + em[:, 0]
    for t in range(1, T):
        nxt = torch.logsumexp(alpha[:, :, None] + trans[None] + em[:, t, None, :], dim=1)
        alpha = torch.where(mask[:, t, None] > 0, nxt, alpha)
    log_z = torch.logsumexp(alpha + end[None], dim=1)
    return log_z - score


def crf_viterbi(em, mask, trans, start, end):
    B, T, C = em.shape
    paths, scores = [], []
    for b in range(B):
        L = int(mask[b].sum())
        s = start + em[b, 0]
        back = []
        for t in range(1, L):
            cand = s[:, None] + trans + em[b, t][None]
            s, idx = cand.max(0)
            back.append(idx)
        s = s + end
        best, tag = s.max(0)
        path = [int(tag)]
        for idx in reversed(back):
            path.append(int(idx[path[-1]]))
        paths.append(list(reversed(path)))
        scores.append(float(best))
    return paths, scores


# ---------------------------------------------------------------- fixtures

def fixture_linear():
    p = leaves({'weight': fixed(5, 8, scale=0.5), 'bias': fixed(5, scale=0.5)})
    x = fixed(2, 3, 8).requires_grad_(True)
    upstream = fixed(2, 3, 5)
    y = F.linear(x, p['weight'], p['bias'])
    (y * upstream).sum().backward()
    write('linear', {'params': {k: enc(v) for k, v in p.items()}, 'input': enc(x), 'upstream': enc(upstream),
                     'output': enc(y), 'grads': grads(p), 'inputGrad': enc(x.grad)})


def fixture_layer_norm():
    p = leaves({'weight': fixed(8, scale=0.3, offset=1.0), 'bias': fixed(8, scale=0.3)})
    x = fixed(2, 3, 8, scale=3.0, offset=1.0).requires_grad_(True)
    upstream = fixed(2, 3, 8)
    y = F.layer_norm(x, (8,), p['weight'], p['bias'], 1e-5)
    (y * upstream).sum().backward()
    write('layer_norm', {'eps': 1e-5, 'params': {k: enc(v) for k, v in p.items()}, 'input': enc(x), 'upstream': enc(upstream),
                         'output': enc(y), 'grads': grads(p), 'inputGrad': enc(x.grad)})


def fixture_attention():
    H, heads, B, S = 16, 4, 2, 6
    lengths = [6, 4]
    raw = {}
    for name in ('self.query', 'self.key', 'self.value', 'output.dense'):
        raw[name + '.weight'] = fixed(H, H, scale=0.4)
        raw[name + '.bias'] = fixed(H, scale=0.1)
    raw['output.LayerNorm.weight'] = fixed(H, scale=0.1, offset=1.0)
    raw['output.LayerNorm.bias'] = fixed(H, scale=0.1)
    p = leaves(raw)
    x = fixed(B, S, H).requires_grad_(True)
    mask = prefix_mask(lengths, S)
    upstream = fixed(B, S, H)
    y = bert_attention(x, p, '', extended_mask(mask), heads, 1e-12)
    (y * upstream).sum().backward()
    write('attention', {'config': {'hiddenSize': H, 'numHeads': heads, 'layerNormEps': 1e-12}, 'params': {k: enc(v) for k, v in p.items()},
                        'input': enc(x), 'attentionMask': enc(mask), 'upstream': enc(upstream), 'output': enc(y),
                        'grads': grads(p), 'inputGrad': enc(x.grad)})


SMALL_BERT = {'vocab_size': 30, 'hidden_size': 16, 'num_hidden_layers': 2, 'num_attention_heads': 4, 'intermediate_size': 32,
              'hidden_act': 'gelu', 'max_position_embeddings': 16, 'type_vocab_size': 2, 'layer_norm_eps': 1e-12,
              'hidden_dropout_prob': 0.0, 'attention_probs_dropout_prob': 0.0, 'initializer_range': 0.02}


def fixture_bert_encoder():
    cfg = SMALL_BERT
    p = leaves(bert_params(cfg))
    B, S = 2, 7
    ids = torch.randint(1, cfg['vocab_size'], (B, S))
    ids[1, 5:] = 0  # padding id
    types = torch.zeros(B, S, dtype=torch.long)
    types[0, 4:] = 1
    mask = prefix_mask([7, 5], S)
    upstream = fixed(B, S, cfg['hidden_size'])
    y = bert_model(ids, types, mask, p, cfg)
    (y * upstream).sum().backward()
    write('bert_encoder', {'config': cfg, 'params': {k: enc(v) for k, v in p.items()}, 'inputIds': enc(ids.int()),
                           'tokenTypeIds': enc(types.int()), 'attentionMask': enc(mask), 'upstream': enc(upstream),
                           'output': enc(y), 'grads': grads(p)})


def fixture_bilstm():
    I, H, B, T = 6, 5, 3, 5
    lengths = [5, 3, 1]
    lstm = torch.nn.LSTM(I, H, num_layers=2, bidirectional=True, batch_first=True)
    with torch.no_grad():
        for _, w in lstm.named_parameters():
            w.copy_(fixed(*w.shape, scale=0.4))
    x = fixed(B, T, I).requires_grad_(True)
    upstream = fixed(B, T, 2 * H)
    packed = pack_padded_sequence(x, torch.tensor(lengths), batch_first=True, enforce_sorted=False)
    y, _ = pad_packed_sequence(lstm(packed)[0], batch_first=True, total_length=T)
    (y * upstream).sum().backward()
    write('bilstm', {'config': {'inputSize': I, 'hiddenSize': H, 'numLayers': 2, 'bidirectional': True}, 'lengths': lengths,
                     'params': {k: enc(v) for k, v in lstm.named_parameters()}, 'input': enc(x), 'upstream': enc(upstream),
                     'output': enc(y), 'grads': {k: enc(v.grad) for k, v in lstm.named_parameters()}, 'inputGrad': enc(x.grad)})


def fixture_bert_bilstm_crf():
    """BERT -> first-subword pooling -> BiLSTM -> Linear -> CRF: loss, all step-0 gradients, 10 AdamW steps."""
    cfg = SMALL_BERT
    C, LH = 5, 8
    raw = bert_params(cfg, 'bert.')
    lstm = torch.nn.LSTM(cfg['hidden_size'], LH, bidirectional=True, batch_first=True)
    for k, w in lstm.named_parameters():
        raw['lstm.' + k] = fixed(*w.shape, scale=0.3)
    raw['classifier.weight'] = fixed(C, 2 * LH, scale=0.4)
    raw['classifier.bias'] = fixed(C, scale=0.1)
    raw['crf.transitions'] = fixed(C, C, scale=0.3)
    raw['crf.start_transitions'] = fixed(C, scale=0.3)
    raw['crf.end_transitions'] = fixed(C, scale=0.3)
    p = leaves(raw)
    # The LSTM runs as torch.nn.LSTM itself (cuDNN-style flat weights), so its own Parameters
    # stand in for the copies: functional_call does not reach an LSTM's flat weights in 1.13.
    with torch.no_grad():
        for k, w in lstm.named_parameters():
            w.copy_(raw['lstm.' + k])
            p['lstm.' + k] = w

    # Two sentences: [CLS] w0 w1 w1' w2 w3 w4 [SEP] and [CLS] w0 w1 w1' w2 [SEP] + padding.
    B, S, T = 2, 8, 5
    ids = torch.randint(1, cfg['vocab_size'], (B, S))
    ids[1, 6:] = 0
    sub_mask = prefix_mask([8, 6], S)
    word_starts = torch.tensor([[1, 2, 4, 5, 6], [1, 2, 4, 0, 0]])
    word_lengths = [5, 3]
    word_mask = prefix_mask(word_lengths, T)
    tags = torch.tensor([[0, 1, 2, 0, 3], [1, 2, 4, 0, 0]])

    def loss_fn():
        hidden = bert_model(ids, torch.zeros_like(ids), sub_mask, p, cfg, 'bert.')
        words = hidden[torch.arange(B)[:, None], word_starts]  # first-subword pooling [B, T, H]
        packed = pack_padded_sequence(words, torch.tensor(word_lengths), batch_first=True, enforce_sorted=False)
        out = lstm(packed)[0]
        seq, _ = pad_packed_sequence(out, batch_first=True, total_length=T)
        em = linear(seq, p, 'classifier')
        nll = crf_nll(em, tags, word_mask, p['crf.transitions'], p['crf.start_transitions'], p['crf.end_transitions'])
        return nll.mean(), em

    loss, em = loss_fn()
    loss.backward()
    step0 = {'loss': float(loss), 'emissions': enc(em), 'grads': grads(p)}
    paths, scores = crf_viterbi(em.detach(), word_mask, p['crf.transitions'].detach(), p['crf.start_transitions'].detach(), p['crf.end_transitions'].detach())
    step0['viterbi'] = {'paths': paths, 'scores': scores}

    # AdamW as commonly configured for BERT: no weight decay on biases and LayerNorm weights.
    lr, wd = 1e-2, 0.01
    no_decay = lambda name: 'bias' in name or 'LayerNorm.weight' in name
    groups = [{'params': [v for k, v in p.items() if not no_decay(k)], 'weight_decay': wd},
              {'params': [v for k, v in p.items() if no_decay(k)], 'weight_decay': 0.0}]
    opt = torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.999), eps=1e-8)
    for v in p.values():
        v.grad = None
    losses = []
    for _ in range(10):
        opt.zero_grad()
        loss, _ = loss_fn()
        losses.append(float(loss))
        loss.backward()
        opt.step()
    with torch.no_grad():
        losses.append(float(loss_fn()[0]))

    write('bert_bilstm_crf', {'config': {'bert': cfg, 'numTags': C, 'lstmHidden': LH, 'pooling': 'first'},
                              'params': {k: enc(v) for k, v in raw.items()},
                              'batch': {'subwordIds': enc(ids.int()), 'attentionMask': enc(sub_mask), 'wordStarts': enc(word_starts.int()),
                                        'wordMask': enc(word_mask), 'tags': enc(tags.int())},
                              'step0': step0,
                              'adamw': {'lr': lr, 'betas': [0.9, 0.999], 'eps': 1e-8, 'weightDecay': wd,
                                        'noDecay': [k for k in p if no_decay(k)], 'losses': losses}})


if __name__ == '__main__':
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(1234)
    fixture_linear()
    fixture_layer_norm()
    fixture_attention()
    fixture_bert_encoder()
    fixture_bilstm()
    fixture_bert_bilstm_crf()
