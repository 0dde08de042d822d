#!/usr/bin/python3
"""Tiny Hugging Face ModernBERT directories and their PyTorch reference values (test/fixtures/hf/modernbert*).

The model: hidden 32, 2 heads (head size 16), 3 layers with global attention every 2nd layer (layers 0
and 2 global with rope theta 160000, layer 1 local with theta 10000 and a window of +-2 tokens, far
narrower than the 17-subword batch), GeGLU MLP of width 48, no biases in linears or LayerNorms
(ModernBERT-base's settings), random weights. modernbert-bias/: every bias on (norm_bias,
attention_bias, mlp_bias, classifier_bias), the newer config format (layer_types, rope_parameters
with thetas 80000 / 500), hidden 24 in 3 heads, 4 layers (global, local, local, global), window +-3. Written as ModernBertForMaskedLM saves itself:
`model.`-prefixed encoder tensors, the prediction head `head.dense` / `head.norm` (what
ModernBertForTokenClassification's classifier reads too) and the decoder's bias, which token
tagging ignores. The tokenizer is the WordPiece vocab.txt of the other fixtures (ModernBERT ships a
BPE tokenizer.json; the model does not care which tokenizer made its ids).

expected.json (the schema of make_hf_fixtures.py's) holds the sentences, their ids, the attention
mask and the last hidden state; it also holds `tokenFeatures` (the head on it). gradients.json
holds the upstream weights U (zero on padded positions) and the gradient of sum(tokenFeatures * U)
for every parameter, under medner's names (no `model.` prefix).

transformers is not installable here, so the forward pass follows transformers'
models/modernbert/modeling_modernbert.py (ModernBertModel with the eager/sdpa attention on a padded
batch, run in float64: _update_attention_mask, ModernBertRotaryEmbedding, apply_rotary_pos_emb,
eager_attention_forward, ModernBertMLP, ModernBertEncoderLayer, ModernBertPredictionHead) line by
line in plain torch, in eval mode (every dropout is 0 here anyway).

Run with Debian's PyTorch (python3-torch 1.13, CPU):
    /usr/bin/python3 tools/reference/make_modernbert_fixtures.py
"""
import json
import os
import shutil
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_hf_fixtures as hf  # noqa: E402  (vocabulary, inputs, safetensors writer)

OUT = os.path.join(hf.ROOT, 'test', 'fixtures', 'hf', 'modernbert')
MIN = torch.finfo(torch.float32).min
STD = 0.1  # weights; 0.2 (the other fixtures') makes softmax so sharp that float32 PyTorch itself misses float64 by 2.5e-3 on some gradients


def config(vocab_size):
    # ModernBERT-base's config.json, shrunk; the legacy rope fields (global_rope_theta, ...) as the Hub's checkpoints have them.
    return {
        'model_type': 'modernbert', 'architectures': ['ModernBertForMaskedLM'], 'vocab_size': vocab_size,
        'hidden_size': 32, 'intermediate_size': 48, 'num_hidden_layers': 3, 'num_attention_heads': 2,
        'hidden_activation': 'gelu', 'max_position_embeddings': 64, 'initializer_range': 0.02, 'initializer_cutoff_factor': 2.0,
        'norm_eps': 1e-5, 'norm_bias': False, 'pad_token_id': 0, 'cls_token_id': 2, 'sep_token_id': 3, 'bos_token_id': 2,
        'eos_token_id': 3, 'attention_bias': False, 'attention_dropout': 0.0, 'global_attn_every_n_layers': 2,
        'global_rope_theta': 160000.0, 'local_attention': 4, 'local_rope_theta': 10000.0, 'embedding_dropout': 0.0,
        'mlp_bias': False, 'mlp_dropout': 0.0, 'decoder_bias': True, 'classifier_pooling': 'mean', 'classifier_dropout': 0.0,
        'classifier_bias': False, 'classifier_activation': 'gelu', 'deterministic_flash_attn': False, 'sparse_prediction': False,
        'sparse_pred_ignore_index': -100, 'tie_word_embeddings': True,
    }


# ---------------------------------------------------------------- modeling_modernbert, line by line

def prepare_4d_attention_mask(mask, dtype, tgt_len):
    # modeling_attn_mask_utils._prepare_4d_attention_mask (_expand_mask)
    B, S = mask.shape
    expanded = mask[:, None, None, :].expand(B, 1, tgt_len, S).to(dtype)
    inverted = 1.0 - expanded
    return inverted.masked_fill(inverted.to(torch.bool), torch.finfo(dtype).min)


def update_attention_mask(cfg, mask):
    # ModernBertModel._update_attention_mask (self.dtype is the model's: float64 here)
    dtype = mask.dtype
    global_attention_mask = prepare_4d_attention_mask(mask, dtype, mask.shape[1])
    rows = torch.arange(global_attention_mask.shape[2]).unsqueeze(0)
    distance = torch.abs(rows - rows.T)
    window_mask = (distance <= cfg['local_attention'] // 2).unsqueeze(0).unsqueeze(0)
    sliding_window_mask = global_attention_mask.masked_fill(window_mask.logical_not(), torch.finfo(dtype).min)
    return global_attention_mask, sliding_window_mask


def rotary_embedding(theta, dim, position_ids, dtype):
    # ModernBertRotaryEmbedding.compute_default_rope_parameters + forward
    inv_freq = 1.0 / (theta ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    inv_freq_expanded = inv_freq[None, :, None].float().expand(position_ids.shape[0], -1, 1)
    position_ids_expanded = position_ids[:, None, :].float()
    freqs = (inv_freq_expanded.float() @ position_ids_expanded.float()).transpose(1, 2)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos().to(dtype), emb.sin().to(dtype)  # float32 tables, cast to the model's dtype


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def apply_rotary_pos_emb(q, k, cos, sin, unsqueeze_dim=1):
    cos = cos.unsqueeze(unsqueeze_dim)
    sin = sin.unsqueeze(unsqueeze_dim)
    return (q * cos) + (rotate_half(q) * sin), (k * cos) + (rotate_half(k) * sin)


def layer_norm(x, p, name, eps):
    return F.layer_norm(x, (x.shape[-1],), p[name + '.weight'], p.get(name + '.bias'), eps)


def linear(x, p, name):
    return F.linear(x, p[name + '.weight'], p.get(name + '.bias'))


def modernbert_forward(p, cfg, ids, mask):
    """ModernBertModel.forward (sdpa/eager path) -> last_hidden_state, and ModernBertPredictionHead on it."""
    H, N, L = cfg['hidden_size'], cfg['num_attention_heads'], cfg['num_hidden_layers']
    D = H // N
    eps = cfg['norm_eps']
    B, S = ids.shape
    position_ids = torch.arange(S).unsqueeze(0)
    attention_mask, sliding_window_mask = update_attention_mask(cfg, mask)
    # ModernBertEmbeddings: drop(norm(tok_embeddings(ids)))
    hidden = layer_norm(F.embedding(ids, p['embeddings.tok_embeddings.weight'], padding_idx=cfg['pad_token_id']), p, 'embeddings.norm', eps)
    # ModernBertConfig: rope_parameters[layer_type]['rope_theta'], else global_rope_theta / local_rope_theta.
    rope = cfg.get('rope_parameters') or {}
    theta = {'full_attention': rope.get('full_attention', {}).get('rope_theta', cfg.get('global_rope_theta', 160000.0)),
             'sliding_attention': rope.get('sliding_attention', {}).get('rope_theta', cfg.get('local_rope_theta', 10000.0))}
    embeddings = {kind: rotary_embedding(theta[kind], D, position_ids, mask.dtype) for kind in theta}
    every = cfg.get('global_attn_every_n_layers', 3)
    layer_types = cfg.get('layer_types') or ['sliding_attention' if i % every else 'full_attention' for i in range(L)]
    for layer_id in range(L):
        pre = 'layers.%d' % layer_id
        local = layer_id % every != 0  # ModernBertAttention: the window
        layer_type = layer_types[layer_id]  # ModernBertEncoderLayer.attention_type: the rope theta
        # ModernBertEncoderLayer: attn_norm is nn.Identity() in layer 0
        attn_in = hidden if layer_id == 0 else layer_norm(hidden, p, pre + '.attn_norm', eps)
        # ModernBertAttention.forward
        qkv = linear(attn_in, p, pre + '.attn.Wqkv').view(B, -1, 3, N, D)
        # eager_attention_forward
        cos, sin = embeddings[layer_type]
        query, key, value = qkv.transpose(3, 1).unbind(dim=2)
        query, key = apply_rotary_pos_emb(query, key, cos, sin)
        scale = D ** -0.5
        attn_weights = torch.matmul(query, key.transpose(2, 3)) * scale
        attn_weights = attn_weights + (sliding_window_mask if local else attention_mask)
        attn_weights = F.softmax(attn_weights, dim=-1, dtype=torch.float32 if query.dtype != torch.float64 else torch.float64).to(query.dtype)
        attn_output = torch.matmul(attn_weights, value).transpose(1, 2).contiguous().view(B, -1, H)
        hidden = hidden + linear(attn_output, p, pre + '.attn.Wo')
        # ModernBertMLP: Wo(drop(act(input) * gate))
        inp, gate = linear(layer_norm(hidden, p, pre + '.mlp_norm', eps), p, pre + '.mlp.Wi').chunk(2, dim=-1)
        hidden = hidden + linear(F.gelu(inp) * gate, p, pre + '.mlp.Wo')
    last = layer_norm(hidden, p, 'final_norm', eps)
    # ModernBertPredictionHead: norm(act(dense(h)))
    features = layer_norm(F.gelu(linear(last, p, 'head.dense')), p, 'head.norm', eps)
    return last, features


def modernbert_params(cfg, std=STD):
    H, I, L = cfg['hidden_size'], cfg['intermediate_size'], cfg['num_hidden_layers']
    p = {'embeddings.tok_embeddings.weight': hf.normal(cfg['vocab_size'], H, std=std)}
    p['embeddings.tok_embeddings.weight'][cfg['pad_token_id']] = 0  # padding_idx row

    def norm(name):
        p[name + '.weight'] = hf.normal(H, std=0.1, mean=1.0)
        if cfg['norm_bias']:
            p[name + '.bias'] = hf.normal(H, std=0.1)

    def lin(name, out, n, bias):
        p[name + '.weight'] = hf.normal(out, n, std=std)
        if bias:
            p[name + '.bias'] = hf.normal(out, std=0.1)

    norm('embeddings.norm')
    for layer_id in range(L):
        pre = 'layers.%d' % layer_id
        if layer_id > 0:
            norm(pre + '.attn_norm')
        lin(pre + '.attn.Wqkv', 3 * H, H, cfg['attention_bias'])
        lin(pre + '.attn.Wo', H, H, cfg['attention_bias'])
        norm(pre + '.mlp_norm')
        lin(pre + '.mlp.Wi', 2 * I, H, cfg['mlp_bias'])
        lin(pre + '.mlp.Wo', H, I, cfg['mlp_bias'])
    norm('final_norm')
    lin('head.dense', H, H, cfg['classifier_bias'])
    norm('head.norm')
    return p


def write_fixture(out, cfg, seed):
    torch.manual_seed(seed)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    tokens = hf.vocabulary(hf.SPECIALS)
    p = modernbert_params(cfg)
    ids, mask, _ = hf.encode(tokens, cfg['pad_token_id'])
    # The reference is HF's model in float64 (model.double()) on the float32 weights the file holds: the exact
    # answer medner's float32 is held to (float32 PyTorch is within 1.1e-4 of it on every gradient here).
    p64 = {name: t.double().requires_grad_(True) for name, t in p.items()}
    last, features = modernbert_forward(p64, cfg, ids, mask.double())
    upstream = torch.randn(features.shape, dtype=torch.float64) * mask[:, :, None]
    (features * upstream).sum().backward()

    stored = {('' if name.startswith('head.') else 'model.') + name: ('F32', t) for name, t in p.items()}
    stored['decoder.bias'] = ('F32', hf.normal(cfg['vocab_size']))  # the masked-LM decoder (its weight is tied to tok_embeddings)
    hf.write_safetensors(os.path.join(out, 'model.safetensors'), stored)
    with open(os.path.join(out, 'config.json'), 'w') as f:
        json.dump(cfg, f, indent=2)
        f.write('\n')
    with open(os.path.join(out, 'vocab.txt'), 'w') as f:
        f.write('\n'.join(tokens) + '\n')
    with open(os.path.join(out, 'tokenizer_config.json'), 'w') as f:
        json.dump({'do_lower_case': True, 'tokenizer_class': 'BertTokenizer'}, f)
        f.write('\n')
    source = 'tools/reference/make_modernbert_fixtures.py (torch %s)' % torch.__version__
    expected = {
        'source': source,
        'words': hf.SENTENCES,
        'inputIds': ids.tolist(),
        'attentionMask': mask.long().tolist(),
        'tokenTypeIds': None,
        'lastHiddenState': {'shape': list(last.shape), 'data': hf.values(last)},
        'tokenFeatures': {'shape': list(features.shape), 'data': hf.values(features)},
    }
    with open(os.path.join(out, 'expected.json'), 'w') as f:
        json.dump(expected, f, separators=(',', ':'))
    gradients = {
        'source': source,
        'upstream': {'shape': list(upstream.shape), 'data': hf.values(upstream)},
        'grads': {name: {'shape': list(t.shape), 'data': hf.values(t.grad)} for name, t in p64.items()},
    }
    with open(os.path.join(out, 'gradients.json'), 'w') as f:
        json.dump(gradients, f, separators=(',', ':'))
    size = sum(os.path.getsize(os.path.join(out, n)) for n in os.listdir(out))
    every = cfg.get('global_attn_every_n_layers', 3)
    print('%s: %d bytes, %d tensors, hidden %s, layers %s' % (os.path.relpath(out, hf.ROOT), size, len(stored), list(last.shape),
          ['local' if i % every else 'global' for i in range(cfg['num_hidden_layers'])]))


def main():
    V = len(hf.vocabulary(hf.SPECIALS))
    write_fixture(OUT, config(V), 20261129)
    # The other settings: every bias on, the newer config format (layer_types, rope_parameters), head size 8,
    # 4 layers (global, local, local, global), a window of +-3.
    with_biases = dict(config(V), hidden_size=24, num_attention_heads=3, intermediate_size=40, num_hidden_layers=4,
                       global_attn_every_n_layers=3, local_attention=6, norm_bias=True, attention_bias=True, mlp_bias=True,
                       classifier_bias=True, layer_types=['full_attention', 'sliding_attention', 'sliding_attention', 'full_attention'],
                       rope_parameters={'full_attention': {'rope_type': 'default', 'rope_theta': 80000.0},
                                        'sliding_attention': {'rope_type': 'default', 'rope_theta': 500.0}})
    del with_biases['global_rope_theta'], with_biases['local_rope_theta']
    write_fixture(OUT + '-bias', with_biases, 20261130)


if __name__ == '__main__':
    main()
