#!/usr/bin/python3
# A tiny .safetensors file in the reference layout, plus the values torch holds for
# each tensor, for test/io. The `safetensors` package is not installable here, so the
# bytes follow its serializer (safetensors/src/tensor.rs, `prepare` + `serialize`):
# tensors sorted by dtype (descending, enum order) then name, compact JSON header
# with __metadata__ first, padded with spaces to a multiple of 8.
# Run: /usr/bin/python3 tools/reference/make_safetensors_fixture.py

import json
import os
import struct

import torch

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'fixtures', 'io')
DTYPE_ORDER = ['BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64']
TORCH_DTYPES = {'F32': torch.float32, 'F16': torch.float16, 'BF16': torch.bfloat16, 'I32': torch.int32, 'I64': torch.int64, 'F64': torch.float64, 'U8': torch.uint8}

torch.manual_seed(7)
tensors = {
    'bert.embeddings.word_embeddings.weight': ('F32', torch.randn(5, 4)),
    'bert.embeddings.LayerNorm.gamma': ('F16', torch.tensor([1.0, -2.5, 65504.0, 6e-8])),  # f16 max and a subnormal
    'bert.encoder.layer.0.output.dense.weight': ('BF16', torch.randn(2, 3) * 100),
    'bert.embeddings.position_ids': ('I64', torch.arange(6).unsqueeze(0)),
    'labels': ('I32', torch.tensor([[-100, 0, 3], [2, 1, -100]])),
    'scalar': ('F64', torch.tensor(3.141592653589793)),
    'mask': ('U8', torch.tensor([1, 1, 0])),
    'empty': ('F32', torch.zeros(0, 3)),
}


def to_bytes(dtype, t):
    t = t.to(TORCH_DTYPES[dtype]).contiguous()
    if dtype == 'BF16':  # numpy has no bfloat16: write its 16 bits
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


order = sorted(tensors, key=lambda n: (-DTYPE_ORDER.index(tensors[n][0]), n))
header = {'__metadata__': {'format': 'pt', 'source': 'tools/reference/make_safetensors_fixture.py'}}
data = b''
for name in order:
    dtype, t = tensors[name]
    b = to_bytes(dtype, t)
    header[name] = {'dtype': dtype, 'shape': list(t.shape), 'data_offsets': [len(data), len(data) + len(b)]}
    data += b
text = json.dumps(header, separators=(',', ':')).encode()
text += b' ' * ((8 - len(text) % 8) % 8)
os.makedirs(OUT, exist_ok=True)
with open(os.path.join(OUT, 'reference.safetensors'), 'wb') as f:
    f.write(struct.pack('<Q', len(text)) + text + data)
expected = {}
for name, (dtype, t) in tensors.items():
    value = t.to(TORCH_DTYPES[dtype])
    expected[name] = {'dtype': dtype, 'shape': list(t.shape), 'values': (value.float() if value.is_floating_point() else value).flatten().tolist()}
with open(os.path.join(OUT, 'reference.expected.json'), 'w') as f:
    json.dump({'metadata': header['__metadata__'], 'tensors': expected}, f, indent=1)
    f.write('\n')
# What our writer must reproduce byte for byte: F32 and I32 tensors, one metadata key.
small = {'b.weight': ('F32', torch.randn(3, 2)), 'a.bias': ('F32', torch.randn(3)), 'ids': ('I32', torch.tensor([5, -1, 7])), 'c': ('F32', torch.tensor(2.5))}
header = {'__metadata__': {'format': 'pt'}}
data = b''
for name in sorted(small, key=lambda n: (-DTYPE_ORDER.index(small[n][0]), n)):
    dtype, t = small[name]
    b = to_bytes(dtype, t)
    header[name] = {'dtype': dtype, 'shape': list(t.shape), 'data_offsets': [len(data), len(data) + len(b)]}
    data += b
text = json.dumps(header, separators=(',', ':')).encode()
text += b' ' * ((8 - len(text) % 8) % 8)
with open(os.path.join(OUT, 'writer-reference.safetensors'), 'wb') as f:
    f.write(struct.pack('<Q', len(text)) + text + data)

print('wrote', os.path.normpath(OUT), 'header', len(text), 'data', len(data))
