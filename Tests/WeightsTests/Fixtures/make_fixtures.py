#!/usr/bin/env python3
"""Writes the small PyTorch-format checkpoints beside this script, emulating torch.save without PyTorch.
Uses only the standard library: pickle (with persistent ids and stand-in torch globals), zipfile and struct.
Run `python3 make_fixtures.py`; the Swift tests in WeightsTests assert the values written here."""
import collections
import io
import os
import pickle
import struct
import sys
import types
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))

# Stand-ins for the names torch.save writes into its pickles: pickle records a global by its module and name,
# so functions and classes living in modules called `torch` and `torch._utils` are written exactly as torch's are.
torch_module = types.ModuleType('torch')
utils_module = types.ModuleType('torch._utils')
torch_module._utils = utils_module
sys.modules['torch'] = torch_module
sys.modules['torch._utils'] = utils_module


def _rebuild_tensor_v2(*arguments):
    raise RuntimeError('stand-in for torch._utils._rebuild_tensor_v2: written into pickles, never called')


_rebuild_tensor_v2.__module__ = 'torch._utils'
utils_module._rebuild_tensor_v2 = _rebuild_tensor_v2

# Storage type name -> how one element is packed (bfloat16 is the upper half of a float32).
ELEMENT_PACKING = {
    'FloatStorage': '<f', 'DoubleStorage': '<d', 'HalfStorage': '<e', 'BFloat16Storage': 'bf16',
    'LongStorage': '<q', 'IntStorage': '<i', 'BoolStorage': '<?',
}
for storage_name in ELEMENT_PACKING:
    setattr(torch_module, storage_name, type(storage_name, (), {'__module__': 'torch'}))


class Storage:
    """A typed storage: what torch.save writes once per storage, however many tensors view it."""

    def __init__(self, type_name, key, values):
        self.type_name, self.key, self.values = type_name, key, values

    def raw_bytes(self):
        packing = ELEMENT_PACKING[self.type_name]
        if packing == 'bf16':
            return b''.join(struct.pack('<f', value)[2:] for value in self.values)
        return b''.join(struct.pack(packing, value) for value in self.values)


class Tensor:
    """Pickles as torch does: _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)."""

    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)

    def __reduce_ex__(self, protocol):
        return (_rebuild_tensor_v2,
                (self.storage, self.offset, self.size, self.stride, False, collections.OrderedDict()))


class Exploit:
    """A hostile object: unpickling it with Python's pickle would call function(argument)."""

    def __init__(self, function, argument):
        self.function, self.argument = function, argument

    def __reduce__(self):
        return (self.function, (self.argument,))


class CheckpointPickler(pickle.Pickler):
    """torch.save's pickler: storages become persistent ids ('storage', type, key, location, numel[, view])."""

    def __init__(self, file, protocol, legacy):
        super().__init__(file, protocol=protocol)
        self.legacy = legacy
        self.storages = {}

    def persistent_id(self, obj):
        if not isinstance(obj, Storage):
            return None
        self.storages[obj.key] = obj
        identity = ('storage', getattr(torch_module, obj.type_name), obj.key, 'cpu', len(obj.values))
        return identity + (None,) if self.legacy else identity


def add_aligned_entry(archive, name, data, compression=zipfile.ZIP_STORED, zip64=False):
    """Adds an entry whose data starts on a 64-byte boundary, as torch's writer does (padding extra field 'FB')."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = compression
    header_length = 30 + len(name.encode()) + 4 + (20 if zip64 else 0)
    padding = -(archive.fp.tell() + header_length) % 64
    info.extra = b'FB' + struct.pack('<H', padding) + b'Z' * padding
    archive.writestr(info, data)


def write_zip_checkpoint(path, state, archive_name, protocol=2, compression=zipfile.ZIP_STORED, zip64=False):
    buffer = io.BytesIO()
    pickler = CheckpointPickler(buffer, protocol, legacy=False)
    pickler.dump(state)
    with zipfile.ZipFile(path, 'w') as archive:
        add_aligned_entry(archive, f'{archive_name}/data.pkl', buffer.getvalue(), compression, zip64)
        add_aligned_entry(archive, f'{archive_name}/byteorder', b'little', compression, zip64)
        for key in sorted(pickler.storages):
            add_aligned_entry(archive, f'{archive_name}/data/{key}', pickler.storages[key].raw_bytes(),
                              compression, zip64)
        add_aligned_entry(archive, f'{archive_name}/version', b'3\n', compression, zip64)
        add_aligned_entry(archive, f'{archive_name}/.data/serialization_id', b'1234567890', compression, zip64)


def write_legacy_checkpoint(path, state):
    output = io.BytesIO()
    pickle.dump(0x1950a86a20f9469cfc6c, output, protocol=2)
    pickle.dump(1001, output, protocol=2)
    pickle.dump({'protocol_version': 1001, 'little_endian': True,
                 'type_sizes': {'short': 2, 'int': 4, 'long': 4}}, output, protocol=2)
    pickler = CheckpointPickler(output, 2, legacy=True)
    pickler.dump(state)
    keys = sorted(pickler.storages)
    pickle.dump(keys, output, protocol=2)
    for key in keys:
        storage = pickler.storages[key]
        output.write(struct.pack('<q', len(storage.values)))
        output.write(storage.raw_bytes())
    with open(path, 'wb') as file:
        file.write(output.getvalue())


def write_zip64_checkpoint(path, state):
    """Python's zipfile writes ZIP64 records only past 4 GiB; lowering its limit makes it write them for every
    entry, and the classic end record then carries the 0xFFFF/0xFFFFFFFF markers that send readers to ZIP64."""
    saved_limit = zipfile.ZIP64_LIMIT
    zipfile.ZIP64_LIMIT = 0
    try:
        write_zip_checkpoint(path, state, 'archive', protocol=4, zip64=True)
    finally:
        zipfile.ZIP64_LIMIT = saved_limit
    with open(path, 'r+b') as file:
        data = file.read()
        end_record = data.rindex(b'PK\x05\x06')
        file.seek(end_record + 8)
        file.write(struct.pack('<HHII', 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF))


def tiny_state_dict(storage_keys):
    """The state_dict every benign fixture holds. Values are exact in their storage types.
    - conv.weight: float32 (4,3,2,2) with stride (1,4,24,12), like EfficientNet-Lite's stem: element [o,i,h,w]
      is storage element o + 4i + 24h + 12w, and storage element s holds s/8 - 3.
    - bn.weight, bn.bias, bn.running_mean: three views of one float32 storage of 14 elements (100 + s) at offsets
      0, 4 and 9 (size 4 each, so element 8 and 13 belong to no tensor).
    - bn.num_batches_tracked: int64 scalar, 7.
    - fc.weight: float64 (2,3) transposed, stride (1,2), over the storage 0.5, 1.5, ..., 5.5.
    - half.weight: float16 (2,3): 1, -2.5, 65504, 2^-24 (subnormal), -0, 0.333251953125.
    - brain.weight: bfloat16 (3,): 1, -2.5, 3.140625.  mask: bool (4,): True, False, False, True.
    - index: int32 (2,) at offset 1 of a 3-element storage [-7, 2147483647, 5]."""
    conv = Storage('FloatStorage', storage_keys[0], [s / 8 - 3 for s in range(48)])
    batch_norm = Storage('FloatStorage', storage_keys[1], [100.0 + s for s in range(14)])
    counter = Storage('LongStorage', storage_keys[2], [7])
    linear = Storage('DoubleStorage', storage_keys[3], [0.5 + s for s in range(6)])
    half = Storage('HalfStorage', storage_keys[4], [1.0, -2.5, 65504.0, 2.0 ** -24, -0.0, 0.333251953125])
    brain = Storage('BFloat16Storage', storage_keys[5], [1.0, -2.5, 3.140625])
    mask = Storage('BoolStorage', storage_keys[6], [True, False, False, True])
    index = Storage('IntStorage', storage_keys[7], [-7, 2147483647, 5])
    state = collections.OrderedDict()
    state['conv.weight'] = Tensor(conv, 0, (4, 3, 2, 2), (1, 4, 24, 12))
    state['bn.weight'] = Tensor(batch_norm, 0, (4,), (1,))
    state['bn.bias'] = Tensor(batch_norm, 4, (4,), (1,))
    state['bn.running_mean'] = Tensor(batch_norm, 9, (4,), (1,))
    state['bn.num_batches_tracked'] = Tensor(counter, 0, (), ())
    state['fc.weight'] = Tensor(linear, 0, (2, 3), (1, 2))
    state['half.weight'] = Tensor(half, 0, (2, 3), (3, 1))
    state['brain.weight'] = Tensor(brain, 0, (3,), (1,))
    state['mask'] = Tensor(mask, 0, (4,), (1,))
    state['index'] = Tensor(index, 1, (2,), (1,))
    state._metadata = collections.OrderedDict([('', {'version': 1}), ('conv', {'version': 1}),
                                               ('bn', {'version': 2})])
    return state


def main():
    zip_keys = [str(index) for index in range(8)]
    legacy_keys = ['94{:07d}'.format(index * 4096) for index in range(8)]
    write_zip_checkpoint(os.path.join(HERE, 'tiny_zip.pt'), tiny_state_dict(zip_keys), 'tiny_zip')
    write_zip64_checkpoint(os.path.join(HERE, 'tiny_zip64.pt'), tiny_state_dict(zip_keys))
    write_legacy_checkpoint(os.path.join(HERE, 'tiny_legacy.pth'), tiny_state_dict(legacy_keys))
    write_zip_checkpoint(os.path.join(HERE, 'tiny_deflated.pt'), tiny_state_dict(zip_keys), 'archive',
                         compression=zipfile.ZIP_DEFLATED)
    wrapped = {'epoch': 3, 'state_dict': tiny_state_dict(zip_keys)}
    write_zip_checkpoint(os.path.join(HERE, 'tiny_wrapped.pt'), wrapped, 'tiny_wrapped')

    hostile = tiny_state_dict(legacy_keys)
    hostile['payload'] = Exploit(os.system, 'touch /tmp/PWNED_FILE')
    write_legacy_checkpoint(os.path.join(HERE, 'hostile_os_system.pth'), hostile)
    hostile = tiny_state_dict(zip_keys)
    hostile['payload'] = Exploit(eval, "__import__('os').system('touch /tmp/PWNED_EVAL')")
    write_zip_checkpoint(os.path.join(HERE, 'hostile_eval.pt'), hostile, 'archive', protocol=4)


if __name__ == '__main__':
    main()
