#!/usr/bin/env python3
"""Prints the reference numbers that WeightsTests hard-codes for the real EfficientNet-Lite0 legacy checkpoint.
An independent standard-library reader (pickle with stand-in torch globals, struct); it never imports torch.
Usage: python3 efficientnet_lite0_reference.py path/to/efficientnet-lite0-57934424.pth"""
import collections
import pickle
import struct
import sys

ELEMENT_FORMATS = {'FloatStorage': 'f', 'LongStorage': 'q'}


class StateDictUnpickler(pickle.Unpickler):
    """Resolves only the names a state_dict needs; a tensor becomes (storage, offset, size, stride)."""

    def find_class(self, module, name):
        if (module, name) == ('collections', 'OrderedDict'):
            return collections.OrderedDict
        if (module, name) == ('torch._utils', '_rebuild_tensor_v2'):
            return lambda storage, offset, size, stride, *rest: (storage, offset, size, stride)
        if module == 'torch' and name in ELEMENT_FORMATS:
            return name
        raise pickle.UnpicklingError(f'unexpected global {module}.{name}')

    def persistent_load(self, identity):
        _, storage_type, key, _, count, _ = identity
        return (storage_type, key, count)


def read_checkpoint(path):
    """Returns {key: (element_format, storage_values, offset, size, stride)}."""
    with open(path, 'rb') as file:
        for _ in range(3):  # magic number, protocol version, sys_info
            pickle.load(file)
        state = StateDictUnpickler(file).load()
        formats = {storage[1]: ELEMENT_FORMATS[storage[0]] for storage, _, _, _ in state.values()}
        values = {}
        for key in pickle.load(file):
            (count,) = struct.unpack('<q', file.read(8))
            element_format = formats[key]
            values[key] = struct.unpack(f'<{count}{element_format}', file.read(count * struct.calcsize(element_format)))
    return {name: (values[storage[1]], offset, size, stride) for name, (storage, offset, size, stride) in state.items()}


def element(tensor, index):
    values, offset, _, stride = tensor
    return values[offset + sum(i * s for i, s in zip(index, stride))]


def row_major_indices(size):
    if not size:
        yield ()
        return
    for first in range(size[0]):
        for rest in row_major_indices(size[1:]):
            yield (first,) + rest


def weighted_sum(tensor):
    """Sum of (row-major position + 1) * value in double precision: catches any permutation of elements."""
    return sum((position + 1) * element(tensor, index)
               for position, index in enumerate(row_major_indices(tensor[2])))


def main(path):
    tensors = read_checkpoint(path)
    print('keys', len(tensors))
    stem = tensors['_conv_stem.weight']
    print('_conv_stem.weight size', stem[2], 'stride', stem[3])
    for index in [(0, 0, 0, 0), (0, 1, 2, 0), (5, 2, 1, 2), (31, 2, 2, 2)]:
        print('_conv_stem.weight', index, repr(element(stem, index)))
    print('_conv_stem.weight weighted sum', repr(weighted_sum(stem)))
    fc = tensors['_fc.weight']
    print('_fc.weight size', fc[2], 'stride', fc[3])
    for index in [(0, 0), (999, 1279), (123, 456)]:
        print('_fc.weight', index, repr(element(fc, index)))
    for name, index in [('_fc.bias', (999,)), ('_bn0.running_var', (7,)), ('_blocks.15._bn2.bias', (191,))]:
        print(name, tensors[name][2], index, repr(element(tensors[name], index)))
    counters = [name for name in tensors if name.endswith('.num_batches_tracked')]
    print('num_batches_tracked keys', len(counters), counters[:1], element(tensors[counters[0]], ()) if counters else None)


if __name__ == '__main__':
    main(sys.argv[1])
