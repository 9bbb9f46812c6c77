"""正弦位置编码：给自注意力补上“顺序”信息。

第 i 个位置、第 2j 与 2j+1 维的编码是
``P[i, 2j] = sin(i / 10000^(2j/d))``、``P[i, 2j+1] = cos(i / 10000^(2j/d))``。
编码表登记为缓冲区（buffer）：``model.to(device)`` 会一起搬走它，
``state_dict`` 不保存它。
"""

import math

import torch
from torch import nn

from .._checks import (
    check_index,
    check_positive_int,
    check_probability,
    check_tensor,
)


def sinusoidal_encoding(max_len, num_hiddens):
    """返回形状 ``(max_len, num_hiddens)`` 的正弦位置编码表。

    偶数维用 sin、奇数维用 cos；``num_hiddens`` 为奇数时最后一维是 sin，
    没有与之配对的 cos。
    """
    check_positive_int(max_len, "max_len")
    check_positive_int(num_hiddens, "num_hiddens")
    # 用双精度计算角度再转成单精度：位置很大时单精度的角度误差会放大到 1e-4
    position = torch.arange(max_len, dtype=torch.float64)[:, None]  # (max_len, 1)
    # 频率 1 / 10000^(2j/d)，j = 0, 1, ..., ceil(d/2) - 1
    freqs = torch.exp(torch.arange(0, num_hiddens, 2, dtype=torch.float64)
                      * (-math.log(10000.0) / num_hiddens))  # (ceil(d/2),)
    angles = position * freqs  # (max_len, ceil(d/2))
    P = torch.zeros(max_len, num_hiddens, dtype=torch.float64)
    P[:, 0::2] = torch.sin(angles)                    # ceil(d/2) 列
    P[:, 1::2] = torch.cos(angles[:, :num_hiddens // 2])  # floor(d/2) 列
    return P.float()


def relative_shift_matrix(delta, num_hiddens):
    """位置偏移 ``delta`` 对应的线性映射 ``M`` ``(num_hiddens, num_hiddens)``。

    对任意位置 i（行向量约定）有 ``P[i + delta] = P[i] @ M``：``M`` 是分块对角矩阵，
    每一对 (sin, cos) 维上是一个只依赖 ``delta`` 与该对频率、不依赖 i 的 2×2 旋转。
    ``num_hiddens`` 须为偶数（奇数时最后一维的 sin 没有 cos 与之配对，
    不能写成线性映射）。
    """
    check_positive_int(num_hiddens, "num_hiddens")
    if num_hiddens % 2:
        raise ValueError(f"num_hiddens 应为偶数才能写出相对位置的线性映射，"
                         f"实际得到 {num_hiddens}")
    freqs = torch.exp(torch.arange(0, num_hiddens, 2, dtype=torch.float64)
                      * (-math.log(10000.0) / num_hiddens))  # (d/2,)
    c, s = torch.cos(delta * freqs), torch.sin(delta * freqs)
    M = torch.zeros(num_hiddens, num_hiddens, dtype=torch.float64)
    # [sin a, cos a] @ [[cos b, -sin b], [sin b, cos b]] = [sin(a+b), cos(a+b)]
    M[0::2, 0::2] = torch.diag(c)
    M[0::2, 1::2] = torch.diag(-s)
    M[1::2, 0::2] = torch.diag(s)
    M[1::2, 1::2] = torch.diag(c)
    return M


class PositionalEncoding(nn.Module):
    """把正弦位置编码加到输入上，再做暂退法。

    参数：
        num_hiddens: 特征维数 d（奇数也可以）。
        dropout: 暂退概率。
        max_len: 编码表的长度，即能处理的最长序列。
    ``forward(X, offset=0)``：``X`` 形状 ``(batch_size, num_steps, num_hiddens)``，
    第 t 个时间步加上位置 ``offset + t`` 的编码（增量解码时 ``offset`` 是已经生成的
    词元数）。返回与 ``X`` 同形状的张量。
    """

    def __init__(self, num_hiddens, dropout=0.0, max_len=1000):
        super().__init__()
        check_probability(dropout, "dropout", high_open=True)
        self.num_hiddens, self.max_len = num_hiddens, max_len
        self.dropout = nn.Dropout(dropout)
        # 缓冲区而不是普通属性：.to(device) / .half() 会一起转换；
        # persistent=False 表示不进 state_dict
        P = sinusoidal_encoding(max_len, num_hiddens)  # (max_len, num_hiddens)
        self.register_buffer("P", P, persistent=False)

    def forward(self, X, offset=0):
        self._check(X, offset)
        end = offset + X.shape[1]
        X = X + self.P[offset:end].to(X.dtype)  # (batch_size, num_steps, d)
        return self.dropout(X)

    def _check(self, X, offset):
        check_tensor(X, "X", 3)
        if X.shape[-1] != self.num_hiddens:
            raise ValueError(f"X 的形状应为 (batch_size, num_steps, "
                             f"{self.num_hiddens})，实际为 {tuple(X.shape)}")
        check_index(offset, "offset")
        end = offset + X.shape[1]
        if end > self.max_len:
            raise ValueError(f"序列需要位置 0..{end - 1}（offset={offset}，"
                             f"num_steps={X.shape[1]}），超过了位置编码表的长度 "
                             f"max_len={self.max_len}；请用更大的 max_len 构造模型")

    def extra_repr(self):
        return f"num_hiddens={self.num_hiddens}, max_len={self.max_len}"


def rotary_tables(num_steps, head_dim, base=10000.0, offset=0, device=None):
    """旋转位置编码（RoPE）的 cos 与 sin 表，各 ``(num_steps, head_dim)``。

    把每个头的特征两两配对（第 j 维与第 j + hd/2 维），第 j 对的频率为
    ``base^(-2j/hd)``；位置 i 处这一对旋转角度 ``i · base^(-2j/hd)``。
    表可以按需算到任意长度（没有 ``max_len``）。``offset`` 是第一个位置的编号
    （键值缓存中已有的位置数）。
    """
    check_positive_int(head_dim, "head_dim")
    if head_dim % 2:
        raise ValueError(f"旋转位置编码要把特征两两配对，head_dim 应为偶数，"
                         f"实际得到 {head_dim}")
    inv_freq = base ** (-torch.arange(0, head_dim, 2, dtype=torch.float64,
                                      device=device) / head_dim)  # (hd/2,)
    pos = torch.arange(offset, offset + num_steps, dtype=torch.float64,
                       device=device)  # (n,)
    angles = torch.outer(pos, inv_freq)  # (n, hd/2)
    angles = torch.cat([angles, angles], dim=-1)  # (n, hd)：两半用同样的角度
    return angles.cos().float(), angles.sin().float()


def apply_rotary(X, cos, sin):
    """把 ``X`` ``(..., n, hd)`` 的每一对特征 ``(x1, x2)`` 按位置旋转：
    ``(x1 cos θ - x2 sin θ, x2 cos θ + x1 sin θ)``；cos、sin 来自
    :func:`rotary_tables`，形状 ``(n, hd)``。

    旋转后 ``q_i · k_j`` 只依赖于 ``q``、``k`` 与相对位置 ``i - j``。
    """
    x1, x2 = X.chunk(2, dim=-1)  # 前一半与后一半配对，各 (..., n, hd/2)
    rotated = torch.cat([-x2, x1], dim=-1)  # (..., n, hd)
    return X * cos.to(X.dtype) + rotated * sin.to(X.dtype)
