"""注意力的核心：掩码、掩蔽 softmax 与缩放点积，以及点积注意力、加性注意力两个模块。

全书的注意力都在这里计算：:func:`valid_key_mask` 是唯一的掩码构造函数，
:func:`scaled_dot_product` 是唯一的缩放点积（显式与融合两条路径），
:class:`DotProductAttention`、:class:`seqbook.MultiHeadAttention` 与 Transformer
都调用它们。形状记号：b = batch_size，nh = 头数，q / k = 查询数 / 键值对数，
d = 特征数，dv = 值的特征数。掩码是布尔张量，``True`` 表示这个键参与注意力。
一个键都看不到的查询输出恰好为 0；输入里的 NaN 在两条路径上出现在输出的同样位置。
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from .._checks import (
    check_lengths,
    check_positive_int,
    check_probability,
    check_tensor,
)


def valid_key_mask(valid_lens, num_queries, num_kvs, causal=False, device=None):
    """由有效长度（与因果关系）得到布尔掩码，``True`` 表示这个键参与注意力。

    参数：
        valid_lens: ``None``、``(b,)``（每个样本一个长度）或 ``(b, q)``
            （每个查询一个长度）的整数张量；位置 ``>= valid_len`` 的键被遮住。
        causal: 为 True 时第 i 个查询只看位置 ``j <= i + (k - q)`` 的键
            （查询是键序列的最后 q 个位置，带键值缓存的增量解码也适用）。
        device: 掩码所在的设备（默认与 ``valid_lens`` 相同）。
    返回：``None``（什么都不遮），或可广播到分数 ``(b, q, k)`` 的 ``(b, 1, k)``、
    ``(b, q, k)`` 或 ``(1, q, k)``。
    """
    mask = None
    if valid_lens is not None:
        _check_valid_lens(valid_lens, num_queries)
        lens = valid_lens.to(device) if device is not None else valid_lens
        device = lens.device
        lens = lens[:, None] if lens.dim() == 1 else lens  # (b, 1 或 q)
        mask = torch.arange(num_kvs, device=device) < lens[..., None]  # (b, 1|q, k)
    if causal:  # 第 i 个查询能看到的最后一个键是 i + (k - q)
        offset = num_kvs - num_queries
        last = torch.arange(num_queries, device=device) + offset  # (q,)
        seen = torch.arange(num_kvs, device=device) <= last[:, None]  # (q, k)
        mask = seen[None] if mask is None else mask & seen  # (b 或 1, q, k)
    return mask


def sequence_mask(valid_lens, num_steps):
    """``(b, num_steps)`` 的布尔掩码：位置 ``j < valid_lens[i]`` 为 ``True``。"""
    return valid_key_mask(valid_lens, 1, num_steps)[:, 0]  # (b, num_steps)


def masked_softmax(scores, valid_lens=None, *, mask=None):
    """沿最后一维做 softmax，只让可见的键参与。

    参数：
        scores: ``(b, q, k)`` 或 ``(b, nh, q, k)``。
        valid_lens: ``None``、``(b,)`` 或 ``(b, q)`` 的整数张量
            （见 :func:`valid_key_mask`）。
        mask: 也可以直接给 :func:`valid_key_mask` 的输出（参数已检查过时用它）。
    返回：与 ``scores`` 同形状的权重。被遮住的位置恰好为 0（不论那里的分数是多少）；
    有效位置之和为 1；一个键都看不到的行全为 0（不是 NaN 或均匀分布），
    也不回传梯度。不修改 ``scores``；float16 下也不会出现 NaN。
    """
    if mask is None:
        _check_scores(scores, valid_lens)
        mask = valid_key_mask(valid_lens, *scores.shape[-2:], device=scores.device)
    if mask is None:
        return F.softmax(scores, dim=-1)
    if mask.dim() < scores.dim():
        mask = mask.unsqueeze(1)  # (b, 1, q 或 1, k)：各头共用一个掩码
    # 被遮住的分数填 -inf：exp(-inf) 恰好为 0（d2l 的 -1e6 在 float16 中放不下）。
    # 整行 -inf 的 softmax 是 0/0 = NaN，所以看不到任何键的行先填 0，最后连同所有
    # 被遮住的位置一起置为精确的 0
    empty = ~mask.any(dim=-1, keepdim=True)  # (..., q 或 1, 1)：没有可见键的行
    filled = scores.masked_fill(~mask, float("-inf")).masked_fill(empty, 0.0)
    return F.softmax(filled, dim=-1).masked_fill(~mask, 0.0)


def scaled_dot_product(queries, keys, values, mask=None, dropout=0.0,
                       need_weights=False, bias=None):
    """缩放点积注意力 ``softmax(Q K^T / sqrt(d)) V``，返回 ``(输出, 权重或 None)``。

    形状：queries ``(b, [nh,] q, d)``，keys ``(b, [nh,] k, d)``，values
    ``(b, [nh,] k, dv)``。mask 是 :func:`valid_key_mask` 的输出（各头共用）；
    dropout 是权重上的暂退概率（评估时传 0）。bias 是加到分数上的浮点张量
    （可广播到 ``(b, nh, q, k)``，例如第 4 章 BERT 按距离的偏置），
    默认没有。``need_weights=True`` 走显式路径，
    逐行对应公式并返回权重 ``(b, [nh,] q, k)``；否则调用 PyTorch
    融合的``F.scaled_dot_product_attention``（不写出权重矩阵，在 GPU 上快得多），
    权重为 None。输出 ``(b, [nh,] q, dv)``。
    """
    if need_weights:  # 显式路径
        d = queries.shape[-1]
        scores = queries @ keys.transpose(-2, -1) / math.sqrt(d)  # (..., q, k)
        if bias is not None:
            scores = scores + bias
        weights = masked_softmax(scores, mask=mask)  # (..., q, k)
        out = F.dropout(weights, dropout) @ values  # (..., q, dv)
    else:  # 融合路径
        weights = None
        out = _fused(queries, keys, values, mask, dropout, bias)  # (..., q, dv)
    return _propagate_nan(out, queries, keys, values), weights


def _fused(queries, keys, values, mask, dropout, bias=None):
    """融合内核。看不到任何键的查询内核会给出 NaN：先让它看全部键，算完输出置 0。
    有 ``bias`` 时把布尔掩码并进浮点偏置（被遮住处为 -inf）一起交给内核。"""
    three_dims = queries.dim() == 3
    if three_dims:  # CPU 的融合内核要四维输入 (b, nh, n, d)：补一个头的维度
        queries, keys, values = (t.unsqueeze(1) for t in (queries, keys, values))
    empty = None
    if mask is not None:
        mask = mask.unsqueeze(1) if mask.dim() == 3 else mask  # (b, 1, q 或 1, k)
        empty = ~mask.any(dim=-1, keepdim=True)  # (b, 1, q 或 1, 1)
        mask = mask | empty  # 空行先看全部键（免得内核算出 NaN），算完输出置 0
    if bias is not None:
        mask = bias if mask is None else torch.where(mask, bias, float("-inf"))
    out = F.scaled_dot_product_attention(queries, keys, values, attn_mask=mask,
                                         dropout_p=dropout)  # (b, nh, q, dv)
    if empty is not None:
        out = out.masked_fill(empty, 0.0)  # 与显式路径相同：空行输出 0
    return out.squeeze(1) if three_dims else out


def _propagate_nan(out, queries, keys, values):
    """让输入中的 NaN 以同样的方式出现在输出中，不论走哪条路径。

    查询含 NaN 的那一行输出全为 NaN；键或值含 NaN 的样本（多头时是样本的这个头）
    输出全为 NaN。融合内核可能把 NaN 变成 0，两条路径都经过这里，结果就相同；
    没有 NaN 时原样返回 ``out``（逐位不变）。
    """
    bad_kv = keys.isnan().flatten(-2).any(-1) | values.isnan().flatten(-2).any(-1)
    bad = queries.isnan().any(-1, keepdim=True) | bad_kv[..., None, None]  # (.,q,1)
    return out.masked_fill(bad, float("nan"))


class DotProductAttention(nn.Module):
    """缩放点积注意力模块：:func:`scaled_dot_product` 加上参数检查与权重的保存。

    ``forward(queries, keys, values, valid_lens=None)``：形状见
    :func:`scaled_dot_product`，valid_lens 见 :func:`valid_key_mask`；
    输出 ``(b, q, dv)``。
    ``keep_weights=True`` 时走显式路径，并把权重存在 ``self.attention_weights``
    （形状同分数）以便画热图；默认 False 时调用融合内核。暂退法生效（训练模式且
    ``dropout > 0``）时总走显式路径。
    """

    def __init__(self, dropout=0.0, keep_weights=False):
        super().__init__()
        self.dropout = check_probability(dropout, "dropout", high_open=True)
        self.keep_weights = keep_weights
        self.attention_weights = None

    def forward(self, queries, keys, values, valid_lens=None):
        _check_qkv(queries, keys, values, valid_lens, same_size=True)
        mask = valid_key_mask(valid_lens, queries.shape[-2], keys.shape[-2],
                              device=queries.device)  # (b 或 1, q 或 1, k)
        dropout = self.dropout if self.training else 0.0
        out, self.attention_weights = scaled_dot_product(
            queries, keys, values, mask, dropout, self.keep_weights or dropout > 0)
        return out  # (b, q, dv)

    def extra_repr(self):
        return f"dropout={self.dropout}, keep_weights={self.keep_weights}"


class AdditiveAttention(nn.Module):
    """加性注意力：``a(q, k) = w_v^T tanh(W_q q + W_k k)``，查询与键的长度可以不同。

    参数：key_size、query_size 是键、查询的特征数，num_hiddens 是隐藏单元个数。
    输入 queries ``(b, q, query_size)``、keys ``(b, k, key_size)``、
    values ``(b, k, dv)``；输出 ``(b, q, dv)``，权重存在 ``self.attention_weights``
    ``(b, q, k)``。键的投影 ``W_k k`` 与查询无关：同一组键被多次查询时
    （如 Bahdanau 解码的每一步），先用 :meth:`project_keys` 算一次，
    再通过 ``projected_keys`` 传入，避免重复计算。
    """

    def __init__(self, key_size, query_size, num_hiddens, dropout=0.0):
        super().__init__()
        for name, v in (("key_size", key_size), ("query_size", query_size),
                        ("num_hiddens", num_hiddens)):
            check_positive_int(v, name)
        check_probability(dropout, "dropout", high_open=True)
        self.W_k = nn.Linear(key_size, num_hiddens, bias=False)
        self.W_q = nn.Linear(query_size, num_hiddens, bias=False)
        self.w_v = nn.Linear(num_hiddens, 1, bias=False)
        self.dropout = nn.Dropout(dropout)
        self.attention_weights = None

    def project_keys(self, keys):
        """键的投影：``(b, k, key_size)`` → ``(b, k, num_hiddens)``。"""
        _check_last_dim(keys, "keys", "(batch_size, num_kvs, {})",
                        self.W_k.in_features)
        return self.W_k(keys)

    def forward(self, queries, keys, values, valid_lens=None, projected_keys=None):
        if projected_keys is None:
            projected_keys = self.project_keys(keys)  # (b, k, num_hiddens)
        self._check(queries, projected_keys, values)
        q = self.W_q(queries)  # (b, q, num_hiddens)
        # 广播相加：每个查询与每个键配对
        features = torch.tanh(q.unsqueeze(2) + projected_keys.unsqueeze(1))
        # features: (b, q, k, num_hiddens)
        scores = self.w_v(features).squeeze(-1)  # (b, q, k)
        self.attention_weights = masked_softmax(scores, valid_lens)
        return self.dropout(self.attention_weights) @ values  # (b, q, dv)

    def _check(self, queries, projected_keys, values):
        _check_qkv(queries, projected_keys, values)
        _check_last_dim(queries, "queries", "(batch_size, num_queries, {})",
                        self.W_q.in_features)
        if projected_keys.shape[-1] != self.W_k.out_features:
            raise ValueError(f"projected_keys 的最后一维应为 num_hiddens="
                             f"{self.W_k.out_features}，实际形状 "
                             f"{tuple(projected_keys.shape)}")


# ---------------- 参数检查（只在公开入口做一次） ----------------

def _check_valid_lens(valid_lens, num_queries):
    """valid_lens：``(b,)`` 或 ``(b, q)`` 的整数张量，没有负数。"""
    check_lengths(valid_lens, "valid_lens")
    b = valid_lens.shape[0] if valid_lens.dim() else None
    if valid_lens.shape not in ((b,), (b, num_queries)):
        raise ValueError(f"valid_lens 的形状应为 (batch_size,) 或 "
                         f"(batch_size, num_queries)=(b, {num_queries})，"
                         f"实际为 {tuple(valid_lens.shape)}")


def _check_batch(valid_lens, batch_size):
    """valid_lens 的批量大小应与查询相同（类型与取值由 valid_key_mask 检查）。"""
    lens = valid_lens
    if torch.is_tensor(lens) and lens.dim() and lens.shape[0] != batch_size:
        raise ValueError(f"valid_lens 的形状应为 ({batch_size},) 或 ({batch_size}, "
                         f"num_queries)，实际为 {tuple(valid_lens.shape)}")


def _check_scores(scores, valid_lens):
    check_tensor(scores, "scores", (3, 4))
    if not scores.is_floating_point():
        raise TypeError(f"scores 应为浮点张量，实际 dtype 为 {scores.dtype}")
    _check_batch(valid_lens, scores.shape[0])


def _check_last_dim(t, name, shape, size):
    if not torch.is_tensor(t) or t.dim() != 3 or t.shape[-1] != size:
        actual = tuple(t.shape) if torch.is_tensor(t) else type(t).__name__
        raise ValueError(f"{name} 的形状应为 {shape.format(size)}，实际为 {actual}")


def _check_qkv(queries, keys, values, valid_lens=None, same_size=False):
    """查询、键、值的维数、批量大小与特征数是否相容（三维，或四维带头的维度）。"""
    for name, t in (("queries", queries), ("keys", keys), ("values", values)):
        check_tensor(t, name, (3, 4))
    if not queries.dim() == keys.dim() == values.dim():
        raise ValueError(f"queries、keys、values 的维数应相同，实际为 "
                         f"{queries.dim()}、{keys.dim()}、{values.dim()}")
    if not queries.shape[:-2] == keys.shape[:-2] == values.shape[:-2]:
        raise ValueError(f"queries、keys、values 的批量（与头）维应相同，实际为 "
                         f"{tuple(queries.shape)}、{tuple(keys.shape)}、"
                         f"{tuple(values.shape)}")
    if keys.shape[-2] != values.shape[-2]:
        raise ValueError(f"键与值的个数应相同（num_kvs），实际 keys "
                         f"{tuple(keys.shape)}、values {tuple(values.shape)}")
    if same_size and queries.shape[-1] != keys.shape[-1]:
        raise ValueError(f"点积注意力要求查询与键的特征数相同，实际为 "
                         f"{queries.shape[-1]} 与 {keys.shape[-1]}")
    _check_batch(valid_lens, queries.shape[0])
