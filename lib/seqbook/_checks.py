"""参数检查的小工具（库内部使用）：类型不对抛出 ``TypeError``，值不对抛出 ``ValueError``，
错误信息是中文，并写明参数名、期望什么、实际得到什么。
"""

import collections.abc
import operator

import torch


def check_index(value, name, size=None):
    """``value`` 应为整数索引，且在 ``[0, size)`` 之内（``size`` 为 None 时只要求非负）。返回 ``int``。"""
    if isinstance(value, bool) or (torch.is_tensor(value) and value.dim() != 0):
        raise TypeError(f"{name} 应为整数索引，实际得到 {type(value).__name__}")
    try:
        index = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} 应为整数索引，实际得到 {type(value).__name__} {value!r}") from None
    if index < 0:
        raise ValueError(f"{name} 应为非负整数，实际得到 {index}")
    if size is not None and index >= size:
        raise ValueError(f"{name} 应在 [0, {size}) 之内，实际得到 {index}")
    return index


def check_lengths(lengths, name="valid_lens"):
    """``lengths`` 应为整数张量，且没有负数（长度为 0 是允许的）。"""
    if not torch.is_tensor(lengths):
        raise TypeError(f"{name} 应为整数张量，实际得到 {type(lengths).__name__}")
    if lengths.is_floating_point() or lengths.is_complex() or lengths.dtype == torch.bool:
        raise TypeError(f"{name} 应为整数张量（如 torch.long），实际 dtype 为 {lengths.dtype}")
    if lengths.numel() and bool((lengths < 0).any()):
        raise ValueError(f"{name} 是长度，不能为负数，实际最小值为 {int(lengths.min())}")


def check_sized(obj, name, what="列表"):
    """``obj`` 应为有长度、可以多次遍历的序列（列表、元组等），不能是字符串、生成器或迭代器。"""
    if isinstance(obj, (str, bytes)) or not isinstance(obj, collections.abc.Sequence):
        raise TypeError(f"{name} 应为{what}（list 或 tuple），实际得到 {type(obj).__name__}；"
                        f"生成器或迭代器请先用 list(...) 转成列表")


def check_positive_int(value, name):
    """``value`` 应为正整数（``True``/``False`` 不算整数）。返回 ``value``。"""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} 应为正整数，实际得到 {type(value).__name__} 类型的 {value!r}")
    if value <= 0:
        raise ValueError(f"{name} 应为正整数，实际得到 {value}")
    return value
