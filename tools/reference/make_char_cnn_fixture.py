#!/usr/bin/env python3
"""PyTorch reference for the char-CNN word features (src/nn/char-cnn.ts, Ma & Hovy 2016):
embed each character, torch.nn.Conv1d with same padding over the word, max over positions,
tanh. Writes test/fixtures/reference/char_cnn.json (weights, char ids, output and every
gradient) for test/nn/parity.test.ts; tests read the JSON only.

medner's padding character (id 0) has an embedding that starts at 0 and is trained like any
other row (no padding_idx freeze), so here it is a plain nn.Embedding with row 0 zeroed.
medner applies the bias and tanh after the max (both monotonic, so the value and gradient are
those of max over positions of tanh(conv + bias), which is what this script computes).

Run with Debian's PyTorch (python3-torch, 1.13, CPU):
    /usr/bin/python3 tools/reference/make_char_cnn_fixture.py
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import OUT, enc, fixed, write  # noqa: E402


def fixture_char_cnn():
    C, E, F, K = 9, 4, 5, 3  # characters, char embedding, filters, kernel width
    B, T, L = 2, 3, 6        # batch, words, characters per word (0 = padding)
    emb = torch.nn.Embedding(C, E)
    conv = torch.nn.Conv1d(E, F, K, padding=(K - 1) // 2)
    with torch.no_grad():
        emb.weight.copy_(fixed(C, E, scale=0.5))
        emb.weight[0].zero_()
        conv.weight.copy_(fixed(F, E, K, scale=0.4))
        conv.bias.copy_(fixed(F, scale=0.2))
    # Words of different lengths, padded with 0; the last word is a single character.
    ids = torch.tensor([[[1, 2, 3, 0, 0, 0], [4, 5, 6, 7, 8, 1], [2, 0, 0, 0, 0, 0]],
                        [[3, 3, 4, 5, 0, 0], [8, 7, 0, 0, 0, 0], [6, 0, 0, 0, 0, 0]]], dtype=torch.int64)
    upstream = fixed(B, T, F)
    chars = emb(ids).reshape(B * T, L, E).transpose(1, 2)          # [BT, E, L]
    # amax: windows made only of padding tie exactly, and ties share the gradient (medner's max, as torch.amax).
    y = torch.amax(torch.tanh(conv(chars)), dim=2).reshape(B, T, F)  # [B, T, F]
    (y * upstream).sum().backward()
    params = {'embedding.weight': emb.weight, 'conv.weight': conv.weight, 'conv.bias': conv.bias}
    write('char_cnn', {'config': {'numChars': C, 'charDim': E, 'filters': F, 'kernelSize': K},
                       'params': {k: enc(v) for k, v in params.items()}, 'charIds': enc(ids.int()), 'upstream': enc(upstream),
                       'output': enc(y), 'grads': {k: enc(v.grad) for k, v in params.items()}})


if __name__ == '__main__':
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(4321)
    fixture_char_cnn()
