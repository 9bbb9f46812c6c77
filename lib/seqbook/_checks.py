"""参数检查的小工具（库内部使用）：类型不对抛出 ``TypeError``，
值不对抛出 ``ValueError``，错误信息是中文，并写明参数名、期望什么、实际得到什么。
"""

import collections.abc
import operator

import torch


def check_index(value, name, size=None):
    """``value`` 应为整数索引，且在 ``[0, size)`` 之内（``size`` 为 None
    时只要求非负）。返回 ``int``。"""
    if isinstance(value, bool) or (torch.is_tensor(value) and value.dim() != 0):
        raise TypeError(f"{name} 应为整数索引，实际得到 {type(value).__name__}")
    try:
        index = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} 应为整数索引，实际得"
                        f"到 {type(value).__name__} {value!r}") from None
    if index < 0:
        raise ValueError(f"{name} 应为非负整数，实际得到 {index}")
    if size is not None and index >= size:
        raise ValueError(f"{name} 应在 [0, {size}) 之内，实际得到 {index}")
    return index


def check_lengths(lengths, name="valid_lens"):
    """``lengths`` 应为整数张量，且没有负数（长度为 0 是允许的）。"""
    if not torch.is_tensor(lengths):
        raise TypeError(f"{name} 应为整数张量，实际得到 {type(lengths).__name__}")
    dtype = lengths.dtype
    if dtype.is_floating_point or dtype.is_complex or dtype == torch.bool:
        raise TypeError(f"{name} 应为整数张量（如 torch.long），实际 dtype "
                        f"为 {lengths.dtype}")
    if lengths.numel() and bool((lengths < 0).any()):
        raise ValueError(f"{name} 是长度，不能为负数，实际最小值"
                         f"为 {int(lengths.min())}")


def check_sized(obj, name, what="列表"):
    """``obj`` 应为有长度、可以多次遍历的序列（列表、元组等），不能是字符串、
    生成器或迭代器。"""
    sequence = isinstance(obj, collections.abc.Sequence)
    if isinstance(obj, (str, bytes)) or not sequence:
        raise TypeError(f"{name} 应为{what}（list 或 tuple），"
                        f"实际得到 {type(obj).__name__}；"
                        f"生成器或迭代器请先用 list(...) 转成列表")


def check_positive_int(value, name):
    """``value`` 应为正整数（``True``/``False`` 不算整数）。返回 ``value``。"""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} 应为正整数，实际得到 {type(value).__name__} "
                        f"类型的 {value!r}")
    if value <= 0:
        raise ValueError(f"{name} 应为正整数，实际得到 {value}")
    return value


def check_tokens(X, name="X"):
    """``X`` 应为 ``(batch_size, num_steps)`` 的整数张量（词元索引）。"""
    if not torch.is_tensor(X):
        raise TypeError(f"{name} 应为 (batch_size, num_steps) "
                        "的整数张量（词元索引），"
                        f"实际得到 {type(X).__name__}")
    if X.is_floating_point() or X.is_complex() or X.dtype == torch.bool:
        raise TypeError(f"{name} 应为整数张量（词元索引），实际 dtype 为 {X.dtype}")
    if X.dim() != 2:
        raise ValueError(f"{name} 的形状应为 (batch_size, num_steps)，"
                         f"实际为 {tuple(X.shape)}")


def check_tensor(t, name, dim=None):
    """``t`` 应为张量；给出 ``dim`` 时还要求维数（整数或整数的元组）相符。"""
    if not torch.is_tensor(t):
        raise TypeError(f"{name} 应为张量，实际得到 {type(t).__name__}")
    dims = (dim,) if isinstance(dim, int) else dim
    if dims is not None and t.dim() not in dims:
        raise ValueError(f"{name} 应为 {' 或 '.join(map(str, dims))} 维张量，"
                         f"实际形状 {tuple(t.shape)}")


def check_probability(p, name, low_open=False, high_open=False):
    """``p`` 应为 [0, 1] 内的实数（``low_open``/``high_open`` 为真时不含端点）。
    返回 ``float``。"""
    if isinstance(p, bool) or not isinstance(p, (int, float)):
        raise TypeError(f"{name} 应为 0 到 1 之间的数，实际得到 {type(p).__name__}")
    lo, hi = ("(" if low_open else "["), (")" if high_open else "]")
    if not ((0 < p if low_open else 0 <= p) and (p < 1 if high_open else p <= 1)):
        raise ValueError(f"{name} 应在 {lo}0, 1{hi} 之内，实际得到 {p}")
    return float(p)


def check_device(device, name="device"):
    """``device`` 应为 ``None``、字符串或 ``torch.device``。返回 ``torch.device``
    或 ``None``。"""
    if device is None or isinstance(device, torch.device):
        return device
    if not isinstance(device, str):
        raise TypeError(f"{name} 应为 torch.device、'cpu'/'cuda' 这样的字符串或 "
                        "None，"
                        f"实际得到 {type(device).__name__}")
    try:
        return torch.device(device)
    except RuntimeError:
        raise ValueError(f"{name} 不是合法的设备名：{device!r}（例如 'cpu'、"
                         "'cuda:0'）") from None


def check_nonnegative_int(value, name):
    """``value`` 应为非负整数（``True``/``False`` 不算整数）。返回 ``value``。"""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} 应为非负整数，实际得到 "
                        f"{type(value).__name__} 类型的 {value!r}")
    if value < 0:
        raise ValueError(f"{name} 应为非负整数，实际得到 {value}")
    return value


def check_positive_number(value, name):
    """``value`` 应为正的实数（整数或浮点数，``True``/``False`` 不算）。
    返回 ``value``。"""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} 应为正数，实际得到 {type(value).__name__} 类型的 "
                        f"{value!r}")
    if not value > 0:
        raise ValueError(f"{name} 应为正数，实际得到 {value!r}")
    return value


def check_indices(values, name, size=None):
    """``values`` 应为整数索引的列表、元组或集合（不能是字符串），每个都经
    :func:`check_index` 检查。返回 ``int`` 的列表。"""
    if isinstance(values, (str, bytes)) or not isinstance(
            values, (list, tuple, set, frozenset, range)):
        raise TypeError(f"{name} 应为词元索引的列表、元组或集合，实际得到 "
                        f"{type(values).__name__}")
    return [check_index(v, f"{name} 中的索引", size) for v in values]


def check_str(value, name):
    """``value`` 应为字符串。返回 ``value``。"""
    if not isinstance(value, str):
        raise TypeError(f"{name} 应为字符串，实际得到 {type(value).__name__}")
    return value


def check_vocab_size(vocab, name):
    """``vocab`` 是词表（有 ``len``）或词表大小（正整数）。返回词表大小。"""
    if hasattr(vocab, "__len__") and not isinstance(vocab, (str, bytes)):
        return check_positive_int(len(vocab), f"len({name})")
    return check_positive_int(vocab, name)
