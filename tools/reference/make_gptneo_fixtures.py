#!/usr/bin/python3
"""GPT-Neo reference fixtures: a tiny Hugging Face directory and its forward values and gradients.

Writes
  test/fixtures/hf/gpt_neo/            config.json (model_type gpt_neo, HF field names), vocab.txt,
                                       tokenizer_config.json, model.safetensors (the `transformer.`
                                       prefix, plus lm_head.weight and the attn.attention.bias /
                                       masked_bias buffers old checkpoints carry, which the loader
                                       must skip), expected.json (ids, mask, last hidden state)
  test/fixtures/reference/gpt_neo_gradients.safetensors
                                       the same batch's input_ids, attention_mask, an upstream
                                       gradient, the output, and grad.<name> for every parameter of
                                       sum(output * upstream)

The model: hidden 32, 2 heads, 3 layers (global, local, global: attention_types
[[["global", "local"], 1], [["global"], 1]]), window_size 3, shorter than every sentence, so the
local layer really cuts; a right-padded batch whose padding runs past the window, so some padded
rows see only hidden keys (HF's degenerate rows, which medner must reproduce too).

transformers is not installable here, so the forward pass below follows Hugging Face's
modeling_gpt_neo (v4.2x-v4.3x eager path) line by line in plain torch:
  GPTNeoModel:         hidden = drop(wte(ids) + wpe(arange(S))); attention_mask -> (1 - m)[:, None, None, :] * finfo.min
  GPTNeoBlock:         h = x + attn(ln_1(x)); h + mlp(ln_2(h))
  GPTNeoSelfAttention: bias = tril(ones(P, P)); local: bias ^ tril(bias, -window_size);
                       q, k, v = q_proj(x), k_proj(x), v_proj(x) (no bias); scores = q @ k^T in float32,
                       NOT scaled by 1/sqrt(head_dim); where(causal, scores, finfo.min) + attention_mask;
                       softmax; @ v; out_proj (with bias)
  GPTNeoMLP:           c_proj(act(c_fc(x))), act = ACT2FN[activation_function] = gelu_new
Dropout is off (eval mode).

Run with Debian's PyTorch (python3-torch 1.13, CPU):
    /usr/bin/python3 tools/reference/make_gptneo_fixtures.py
"""
import json
import os
import shutil
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_hf_fixtures as hf  # noqa: E402  (vocabulary, sentences, weights and the safetensors writer)

ROOT = hf.ROOT
HF_DIR = os.path.join(ROOT, 'test', 'fixtures', 'hf', 'gpt_neo')
GRADIENTS = os.path.join(ROOT, 'test', 'fixtures', 'reference', 'gpt_neo_gradients.safetensors')
MIN = torch.finfo(torch.float32).min
hf.TORCH_DTYPES.update({'BOOL': torch.bool, 'I32': torch.int32})


def expand_attention_types(attention_types):
    # GPTNeoConfig.expand_attention_types_params
    layers = []
    for kinds, repeat in attention_types:
        for _ in range(repeat):
            layers.extend(kinds)
    return layers


def causal_buffer(cfg, kind):
    # GPTNeoSelfAttention.__init__: the registered `bias` buffer
    P = cfg['max_position_embeddings']
    bias = torch.tril(torch.ones((P, P), dtype=torch.bool)).view(1, 1, P, P)
    if kind == 'local':
        bias = torch.bitwise_xor(bias, torch.tril(bias, -cfg['window_size']))
    return bias


def gelu_new(x):
    return hf.act('gelu_new', x)


def gptneo_forward(p, cfg, ids, mask):
    B, S = ids.shape
    eps = cfg['layer_norm_epsilon']
    heads = cfg['num_heads']
    position_ids = torch.arange(0, S, dtype=torch.long).unsqueeze(0).view(-1, S)
    attention_mask = mask.view(B, -1)[:, None, None, :].to(torch.float32)
    attention_mask = (1.0 - attention_mask) * MIN
    attention_mask = attention_mask.to(p['wte.weight'].dtype)
    hidden = p['wte.weight'][ids] + p['wpe.weight'][position_ids]
    for i, kind in enumerate(expand_attention_types(cfg['attention_types'])):
        l = 'h.%d.' % i
        residual = hidden
        x = hf.layer_norm(hidden, p, l + 'ln_1', eps)
        a = l + 'attn.attention.'
        q = hf.split_heads(F.linear(x, p[a + 'q_proj.weight']), heads)
        k = hf.split_heads(F.linear(x, p[a + 'k_proj.weight']), heads)
        v = hf.split_heads(F.linear(x, p[a + 'v_proj.weight']), heads)
        # _attn
        # HF: q, k = q.to(torch.float32), k.to(torch.float32) -- a no-op for a float32 model; the
        # reference runs in float64 (see main), finfo.min still float32's.
        w = torch.matmul(q, k.transpose(-1, -2))
        query_length, key_length = q.size(-2), k.size(-2)
        causal_mask = causal_buffer(cfg, kind)[:, :, key_length - query_length:key_length, :key_length]
        mask_value = torch.tensor(MIN, dtype=w.dtype)
        w = torch.where(causal_mask, w, mask_value)
        w = w + attention_mask
        w = F.softmax(w, dim=-1).to(v.dtype)
        context = hf.merge_heads(torch.matmul(w, v))
        hidden = hf.linear(context, p, a + 'out_proj') + residual
        residual = hidden
        x = hf.layer_norm(hidden, p, l + 'ln_2', eps)
        hidden = residual + hf.linear(gelu_new(hf.linear(x, p, l + 'mlp.c_fc')), p, l + 'mlp.c_proj')
    return hf.layer_norm(hidden, p, 'ln_f', eps)


def gptneo_params(cfg):
    H, I = cfg['hidden_size'], cfg['intermediate_size'] or 4 * cfg['hidden_size']
    p = {'wte.weight': hf.normal(cfg['vocab_size'], H), 'wpe.weight': hf.normal(cfg['max_position_embeddings'], H)}
    for i in range(cfg['num_layers']):
        l = 'h.%d.' % i
        hf.norm_params(p, l + 'ln_1', H)
        # GPT-Neo does not scale q.k by 1/sqrt(head_dim); its weights are drawn so that q.k is as
        # large as BERT's fixtures' scaled scores: q and k at std / head_dim ** 0.25 (with std 0.2
        # unscaled, even PyTorch's float32 misses its own float64 gradients by 2.6e-3 per element).
        qk_std = hf.STD / (H // cfg['num_heads']) ** 0.25
        p[l + 'attn.attention.k_proj.weight'] = hf.normal(H, H, std=qk_std)
        p[l + 'attn.attention.v_proj.weight'] = hf.normal(H, H)
        p[l + 'attn.attention.q_proj.weight'] = hf.normal(H, H, std=qk_std)
        hf.linear_params(p, l + 'attn.attention.out_proj', H, H)
        hf.norm_params(p, l + 'ln_2', H)
        hf.linear_params(p, l + 'mlp.c_fc', I, H)
        hf.linear_params(p, l + 'mlp.c_proj', H, I)
    hf.norm_params(p, 'ln_f', H)
    return p


def main():
    torch.manual_seed(20261129)
    tokens = hf.vocabulary(hf.SPECIALS)
    vocab = {t: i for i, t in enumerate(tokens)}
    cfg = {'model_type': 'gpt_neo', 'architectures': ['GPTNeoForCausalLM'], 'vocab_size': len(tokens), 'max_position_embeddings': 32,
           'hidden_size': 32, 'num_layers': 3, 'attention_types': [[['global', 'local'], 1], [['global'], 1]],
           'attention_layers': ['global', 'local', 'global'], 'num_heads': 2, 'intermediate_size': 64, 'window_size': 3,
           'activation_function': 'gelu_new', 'resid_dropout': 0.0, 'embed_dropout': 0.0, 'attention_dropout': 0.0,
           'classifier_dropout': 0.1, 'layer_norm_epsilon': 1e-5, 'initializer_range': 0.02,
           # GPT-Neo has no pad token; token classification pads with eos (here [SEP], as the vocabulary is WordPiece).
           'bos_token_id': vocab['[CLS]'], 'eos_token_id': vocab['[SEP]']}
    p = gptneo_params(cfg)
    ids, mask, _ = hf.encode(tokens, cfg['eos_token_id'])
    B, S = ids.shape

    # The reference values are computed in float64 from the float32 weights the checkpoint holds, so
    # the fixture is the exact result of HF's computation and the tests measure medner's float32
    # rounding alone (float32 on both sides disagrees by ~1e-3 on the gradients of the sharp,
    # unscaled attention, more than the criterion allows, with neither side wrong).
    leaves = {k: v.double().requires_grad_(True) for k, v in p.items()}
    out = gptneo_forward(leaves, cfg, ids, mask)
    upstream = torch.round(torch.randn(B, S, cfg['hidden_size']) * 1e6) / 1e6
    (out * upstream.double()).sum().backward()
    out = out.float()
    missing = [k for k, v in leaves.items() if v.grad is None]
    assert not missing, missing

    shutil.rmtree(HF_DIR, ignore_errors=True)
    os.makedirs(HF_DIR)
    stored = {'transformer.' + k: ('F32', v) for k, v in p.items()}
    stored['lm_head.weight'] = ('F32', p['wte.weight'])  # tied to wte, as GPTNeoForCausalLM saves it
    for i, kind in enumerate(cfg['attention_layers']):
        stored['transformer.h.%d.attn.attention.bias' % i] = ('BOOL', causal_buffer(cfg, kind))
        stored['transformer.h.%d.attn.attention.masked_bias' % i] = ('F32', torch.tensor(-1e9))
    hf.write_safetensors(os.path.join(HF_DIR, 'model.safetensors'), stored)
    with open(os.path.join(HF_DIR, 'config.json'), 'w') as f:
        json.dump(cfg, f, indent=2)
        f.write('\n')
    with open(os.path.join(HF_DIR, 'vocab.txt'), 'w') as f:
        f.write('\n'.join(tokens) + '\n')
    with open(os.path.join(HF_DIR, 'tokenizer_config.json'), 'w') as f:
        json.dump({'do_lower_case': True, 'tokenizer_class': 'BertTokenizer'}, f)
        f.write('\n')
    expected = {
        'source': 'tools/reference/make_gptneo_fixtures.py (torch %s)' % torch.__version__,
        'words': hf.SENTENCES,
        'inputIds': ids.tolist(),
        'attentionMask': mask.long().tolist(),
        'tokenTypeIds': None,
        'lastHiddenState': {'shape': list(out.shape), 'data': hf.values(out)},
    }
    with open(os.path.join(HF_DIR, 'expected.json'), 'w') as f:
        json.dump(expected, f, separators=(',', ':'))

    gradients = {'input_ids': ('I32', ids.int()), 'attention_mask': ('F32', mask), 'upstream': ('F32', upstream), 'output': ('F32', out.detach())}
    for k, v in leaves.items():
        gradients['grad.' + k] = ('F32', v.grad.float())
    hf.write_safetensors(GRADIENTS, gradients)
    lengths = mask.sum(1).long().tolist()
    print('%s: hidden %s, lengths %s, window %d' % (os.path.relpath(HF_DIR, ROOT), list(out.shape), lengths, cfg['window_size']))
    print('%s: %d gradients, %d bytes' % (os.path.relpath(GRADIENTS, ROOT), len(leaves), os.path.getsize(GRADIENTS)))


if __name__ == '__main__':
    main()
