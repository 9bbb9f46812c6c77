"""学习率调度：线性预热。"""

import math

import torch


def warmup_lr_lambda(warmup_steps):
    """学习率预热的倍率函数 ``f(step)``：前 ``warmup_steps`` 步从接近 0 线性升到 1，之后按
    ``sqrt(warmup_steps / step)`` 衰减（论文 5.3 节的形状，峰值由优化器的 lr 决定）。"""
    if not isinstance(warmup_steps, int) or isinstance(warmup_steps, bool) or warmup_steps <= 0:
        raise ValueError(f"warmup_steps 应为正整数，实际得到 {warmup_steps!r}")

    def f(step):  # LambdaLR 从 step = 0 开始调用
        step = step + 1
        return min(step / warmup_steps, math.sqrt(warmup_steps / step))
    return f


def warmup_scheduler(optimizer, warmup_steps):
    """返回 ``torch.optim.lr_scheduler.LambdaLR``：每个优化步之后调用一次 ``step()``。"""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, warmup_lr_lambda(warmup_steps))
