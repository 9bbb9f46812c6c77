"""学习率调度：线性预热，之后保持、按余弦曲线或直线降到 0，或按步数的平方根倒数
衰减。"""

import functools
import math

import torch

from .._checks import check_nonnegative_int, check_positive_int

DECAYS = (None, "cosine", "linear", "inverse_sqrt")


def lr_factor(step, warmup_steps=0, decay=None, total_steps=None):
    """第 ``step`` 个优化步（从 0 开始）的学习率倍率 = 衰减 × 预热。

    预热：前 ``warmup_steps`` 步从接近 0 线性升到 1（0 为不预热）。衰减：``None``
    保持 1；``"cosine"`` / ``"linear"`` 在 ``total_steps`` 步内按余弦曲线 / 直线
    降到 0；
    ``"inverse_sqrt"`` 预热之后按 ``sqrt(warmup_steps / step)`` 衰减（Transformer
    论文 5.3 节）。
    """
    if decay == "cosine":
        factor = 0.5 * (1 + math.cos(math.pi * step / total_steps))
    elif decay == "linear":
        factor = max(0.0, 1 - step / total_steps)
    elif decay == "inverse_sqrt":
        factor = min(1.0, math.sqrt(warmup_steps / (step + 1)))
    else:
        factor = 1.0
    return factor * min(1.0, (step + 1) / warmup_steps) if warmup_steps else factor


def lr_scheduler(optimizer, warmup_steps=0, decay=None, total_steps=None):
    """:func:`lr_factor` 包装成 ``LambdaLR``（每个优化步之后 ``step()`` 一次）；
    不预热也不衰减时返回 None。"""
    check_nonnegative_int(warmup_steps, "warmup_steps")
    if decay not in DECAYS:
        raise ValueError("lr_decay 应为 None、'cosine'、'linear' 或 "
                         "'inverse_sqrt'，"
                         f"实际得到 {decay!r}")
    if decay == "inverse_sqrt":
        check_positive_int(warmup_steps, "warmup_steps")
    if decay is None and warmup_steps == 0:
        return None
    f = functools.partial(lr_factor, warmup_steps=warmup_steps, decay=decay,
                          total_steps=total_steps)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, f)


def warmup_lr_lambda(warmup_steps):
    """Transformer 论文的预热倍率 ``f(step)``：前 ``warmup_steps`` 步线性升到 1，
    之后按 ``sqrt(warmup_steps / step)`` 衰减（即 :func:`lr_factor` 的
    ``decay="inverse_sqrt"``）。"""
    check_positive_int(warmup_steps, "warmup_steps")
    return functools.partial(lr_factor, warmup_steps=warmup_steps,
                             decay="inverse_sqrt")


def warmup_scheduler(optimizer, warmup_steps):
    """:func:`warmup_lr_lambda` 包装成 ``LambdaLR``（每步之后 ``step()``）。"""
    return torch.optim.lr_scheduler.LambdaLR(optimizer,
                                             warmup_lr_lambda(warmup_steps))
