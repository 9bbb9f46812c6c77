"""注意力的基本部件：掩蔽 softmax、缩放点积注意力与加性注意力。

形状约定：查询 ``(batch_size, num_queries, query_size)``，键 ``(batch_size, num_kvs, key_size)``，
值 ``(batch_size, num_kvs, value_size)``；多头时可以在批量维之后多一个头的维度
``(batch_size, num_heads, ...)``。``valid_lens`` 给出每个样本（或每个查询）能看到的
前几个键，其余的键是填充，注意力权重恰好为 0。
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from .._checks import check_lengths


def _check_valid_lens(valid_lens, batch_size, num_queries):
    """检查 valid_lens：``(batch_size,)`` 或 ``(batch_size, num_queries)`` 的整数张量，没有负数。"""
    check_lengths(valid_lens, "valid_lens")
    if valid_lens.shape not in ((batch_size,), (batch_size, num_queries)):
        raise ValueError(f"valid_lens 的形状应为 ({batch_size},) 或 ({batch_size}, {num_queries})"
                         f"（batch_size, num_queries），实际为 {tuple(valid_lens.shape)}")


def propagate_nan(out, queries, keys, values):
    """让输入中的 NaN 以同样的方式出现在输出中，不论走哪条计算路径。

    规则：查询含 NaN 的那一行输出全为 NaN；键或值含 NaN 的样本（多头时是样本的这个头）
    输出全为 NaN。手写路径与融合内核对 NaN 的处理各不相同（融合内核可能把它变成 0），
    两条路径都经过这里，结果就相同。没有 NaN 时原样返回 ``out``（逐位不变）。
    形状：queries ``(..., q, d)``，keys ``(..., k, d)``，values ``(..., k, dv)``，out ``(..., q, dv)``。
    """
    bad_kv = keys.isnan().flatten(-2).any(-1) | values.isnan().flatten(-2).any(-1)  # (...)
    bad = queries.isnan().any(-1, keepdim=True) | bad_kv[..., None, None]           # (..., q, 1)
    return out.masked_fill(bad, float("nan"))


def valid_key_mask(valid_lens, num_queries, num_kvs):
    """由有效长度得到布尔掩码：``True`` 表示这个键参与注意力。

    参数：
        valid_lens: ``(batch_size,)``（每个样本一个长度）或 ``(batch_size, num_queries)``
            （每个查询一个长度）的整数张量；位置 ``>= valid_len`` 的键被掩蔽。
    返回：``(batch_size, 1, num_kvs)`` 或 ``(batch_size, num_queries, num_kvs)`` 的布尔张量，
    可广播到分数 ``(batch_size, num_queries, num_kvs)``。
    """
    if not isinstance(valid_lens, torch.Tensor) or valid_lens.dim() not in (1, 2):
        raise ValueError("valid_lens 应为 (batch_size,) 或 (batch_size, num_queries) 的整数张量")
    _check_valid_lens(valid_lens, valid_lens.shape[0], num_queries)
    positions = torch.arange(num_kvs, device=valid_lens.device)  # (num_kvs,)
    if valid_lens.dim() == 1:
        valid_lens = valid_lens[:, None]  # (batch_size, 1)
    return positions < valid_lens[..., None]  # (batch_size, 1 或 num_queries, num_kvs)


def masked_softmax(scores, valid_lens=None):
    """沿最后一维做 softmax，只让每行前 ``valid_len`` 个键参与。

    参数：
        scores: ``(batch_size, num_queries, num_kvs)`` 或 ``(batch_size, num_heads, num_queries, num_kvs)``。
        valid_lens: ``None``（不掩蔽）、``(batch_size,)`` 或 ``(batch_size, num_queries)`` 的整数张量。
    返回：与 ``scores`` 同形状的注意力权重。被掩蔽的位置恰好为 0（不论那里的分数是多少，
    也不论有效分数多小）；有效位置之和为 1；一个键都看不到的行（valid_len 为 0）全为 0，
    而不是 NaN 或均匀分布，也不回传梯度。不修改 ``scores``；float16 下也不会出现 NaN。
    """
    if not isinstance(scores, torch.Tensor) or not scores.is_floating_point():
        raise TypeError("scores 应为浮点张量")
    if scores.dim() not in (3, 4):
        raise ValueError("scores 的形状应为 (batch_size, num_queries, num_kvs) 或 "
                         f"(batch_size, num_heads, num_queries, num_kvs)，实际为 {tuple(scores.shape)}")
    if valid_lens is None:
        return F.softmax(scores, dim=-1)
    _check_valid_lens(valid_lens, scores.shape[0], scores.shape[-2])
    mask = valid_key_mask(valid_lens.to(scores.device), scores.shape[-2], scores.shape[-1])
    if scores.dim() == 4:
        mask = mask.unsqueeze(1)  # (batch_size, 1, num_queries 或 1, num_kvs)：各头共用
    # 被掩蔽的位置填 -inf，exp(-inf) 恰好为 0，即使有效分数本身是最小有限值也不会与它们平分权重
    # （d2l 的 -1e6 在 float16 中放不下）。一个键都看不到的行若也填 -inf，softmax 会算出 0/0 = NaN，
    # 所以这些行先填 0（算出有限的均匀分布），最后连同所有被掩蔽的位置一起置为精确的 0
    empty = ~mask.any(dim=-1, keepdim=True)  # (batch_size, 1 或 num_queries, 1)：没有可见键的行
    filled = scores.masked_fill(~mask, float("-inf")).masked_fill(empty, 0.0)  # 新张量，scores 不变
    weights = F.softmax(filled, dim=-1)
    return weights.masked_fill(~mask, 0.0)


def _check_qkv(queries, keys, values):
    """检查查询、键、值的维数、批量大小与特征数是否相容。"""
    for name, t in (("queries", queries), ("keys", keys), ("values", values)):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{name} 应为张量，实际得到 {type(t).__name__}")
        if t.dim() not in (3, 4):
            raise ValueError(f"{name} 应为 3 维 (batch_size, n, d) 或 4 维 (batch_size, num_heads, n, d)，"
                             f"实际形状 {tuple(t.shape)}")
    if not queries.dim() == keys.dim() == values.dim():
        raise ValueError(f"queries、keys、values 的维数应相同，实际为 "
                         f"{queries.dim()}、{keys.dim()}、{values.dim()}")
    if not queries.shape[:-2] == keys.shape[:-2] == values.shape[:-2]:
        raise ValueError(f"queries、keys、values 的批量（与头）维应相同，实际为 {tuple(queries.shape)}、"
                         f"{tuple(keys.shape)}、{tuple(values.shape)}")
    if keys.shape[-2] != values.shape[-2]:
        raise ValueError(f"键与值的个数应相同（num_kvs），实际 keys {tuple(keys.shape)}、values {tuple(values.shape)}")


class DotProductAttention(nn.Module):
    """缩放点积注意力：``softmax(Q K^T / sqrt(d)) V``。

    输入 queries ``(batch_size, num_queries, d)``、keys ``(batch_size, num_kvs, d)``、
    values ``(batch_size, num_kvs, value_size)``（也可以在批量维后多一个头的维度），
    valid_lens 同 :func:`masked_softmax`；输出 ``(batch_size, num_queries, value_size)``。

    ``keep_weights=True``（默认）时走手写的可读路径，并把注意力权重存在
    ``self.attention_weights``（形状同分数）以便画热图；设为 ``False`` 时，只要结果与手写路径
    相同（暂退法不起作用），就调用 PyTorch 融合的 ``F.scaled_dot_product_attention``。
    """

    def __init__(self, dropout=0.0, keep_weights=True):
        super().__init__()
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout 应在 [0, 1) 内，实际为 {dropout!r}")
        self.dropout = nn.Dropout(dropout)
        self.keep_weights = keep_weights
        self.attention_weights = None

    def forward(self, queries, keys, values, valid_lens=None):
        _check_qkv(queries, keys, values)
        if queries.shape[-1] != keys.shape[-1]:
            raise ValueError(f"点积注意力要求查询与键的特征数相同，实际为 {queries.shape[-1]} 与 {keys.shape[-1]}")
        if valid_lens is not None:
            _check_valid_lens(valid_lens, queries.shape[0], queries.shape[-2])
            valid_lens = valid_lens.to(queries.device)
        dropout_active = self.training and self.dropout.p > 0
        if not self.keep_weights and not dropout_active:
            self.attention_weights = None
            return propagate_nan(self._fused(queries, keys, values, valid_lens), queries, keys, values)
        d = queries.shape[-1]
        scores = queries @ keys.transpose(-2, -1) / math.sqrt(d)  # (batch_size, num_queries, num_kvs)
        self.attention_weights = masked_softmax(scores, valid_lens)
        out = self.dropout(self.attention_weights) @ values  # (batch_size, num_queries, value_size)
        return propagate_nan(out, queries, keys, values)     # 输入有 NaN 时两条路径一致

    @staticmethod
    def _fused(queries, keys, values, valid_lens):
        """融合内核路径，与手写路径结果相同（到浮点舍入误差为止；NaN 由 :func:`propagate_nan` 统一）。"""
        three_dims = queries.dim() == 3
        if three_dims:  # 补一个头的维度：四维输入 (batch_size, heads, n, d) 才能用上 CPU 的融合内核
            queries, keys, values = queries.unsqueeze(1), keys.unsqueeze(1), values.unsqueeze(1)
        if valid_lens is None:
            out = F.scaled_dot_product_attention(queries, keys, values)
        else:
            # 一个键都看不到的行，融合内核在某些版本、后端上给出 NaN；先让这些行看第 0 个键，
            # 算完再把输出置 0，这样不需要把 valid_lens 从 GPU 同步回来检查
            empty = valid_lens == 0  # (batch_size,) 或 (batch_size, num_queries)
            mask = valid_key_mask(valid_lens.clamp(min=1), queries.shape[-2], keys.shape[-2])
            out = F.scaled_dot_product_attention(queries, keys, values,
                                                 attn_mask=mask.unsqueeze(1))  # 掩码 (batch_size, 1, num_queries 或 1, num_kvs)
            empty = empty[:, None] if empty.dim() == 1 else empty  # (batch_size, 1 或 num_queries)
            out = out.masked_fill(empty[:, None, :, None], 0.0)  # (batch_size, heads, num_queries, value_size)
        return out.squeeze(1) if three_dims else out


class AdditiveAttention(nn.Module):
    """加性注意力：``a(q, k) = w_v^T tanh(W_q q + W_k k)``，查询与键的长度可以不同。

    参数：key_size、query_size 是键、查询的特征数，num_hiddens 是隐藏单元个数。
    输入 queries ``(batch_size, num_queries, query_size)``、keys ``(batch_size, num_kvs, key_size)``、
    values ``(batch_size, num_kvs, value_size)``；输出 ``(batch_size, num_queries, value_size)``，
    权重存在 ``self.attention_weights`` ``(batch_size, num_queries, num_kvs)``。

    键的投影 ``W_k k`` 与查询无关：同一组键被多次查询时（如 Bahdanau 解码的每一步），
    先用 :meth:`project_keys` 算一次，再通过 ``projected_keys`` 传入，避免重复计算。
    """

    def __init__(self, key_size, query_size, num_hiddens, dropout=0.0):
        super().__init__()
        for name, v in (("key_size", key_size), ("query_size", query_size), ("num_hiddens", num_hiddens)):
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                raise ValueError(f"{name} 应为正整数，实际得到 {v!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout 应在 [0, 1) 内，实际为 {dropout!r}")
        self.W_k = nn.Linear(key_size, num_hiddens, bias=False)
        self.W_q = nn.Linear(query_size, num_hiddens, bias=False)
        self.w_v = nn.Linear(num_hiddens, 1, bias=False)
        self.dropout = nn.Dropout(dropout)
        self.attention_weights = None

    def project_keys(self, keys):
        """键的投影：``(batch_size, num_kvs, key_size)`` → ``(batch_size, num_kvs, num_hiddens)``。"""
        if keys.dim() != 3 or keys.shape[-1] != self.W_k.in_features:
            raise ValueError(f"keys 的形状应为 (batch_size, num_kvs, {self.W_k.in_features})，"
                             f"实际为 {tuple(keys.shape)}")
        return self.W_k(keys)

    def forward(self, queries, keys, values, valid_lens=None, projected_keys=None):
        if projected_keys is None:
            projected_keys = self.project_keys(keys)  # (batch_size, num_kvs, num_hiddens)
        _check_qkv(queries, projected_keys, values)
        if queries.dim() != 3 or queries.shape[-1] != self.W_q.in_features:
            raise ValueError(f"queries 的形状应为 (batch_size, num_queries, {self.W_q.in_features})，"
                             f"实际为 {tuple(queries.shape)}")
        if projected_keys.shape[-1] != self.W_k.out_features:
            raise ValueError(f"projected_keys 的最后一维应为 num_hiddens={self.W_k.out_features}，"
                             f"实际形状 {tuple(projected_keys.shape)}")
        q = self.W_q(queries)  # (batch_size, num_queries, num_hiddens)
        # 广播相加：每个查询与每个键配对
        features = torch.tanh(q.unsqueeze(2) + projected_keys.unsqueeze(1))  # (batch_size, num_queries, num_kvs, num_hiddens)
        scores = self.w_v(features).squeeze(-1)  # (batch_size, num_queries, num_kvs)
        self.attention_weights = masked_softmax(scores, valid_lens)
        return self.dropout(self.attention_weights) @ values  # (batch_size, num_queries, value_size)


def sequence_mask(valid_lens, num_steps):
    """``(batch_size, num_steps)`` 的布尔掩码：位置 ``j < valid_lens[i]`` 为 ``True``。不修改输入。"""
    check_lengths(valid_lens, "valid_lens")
    steps = torch.arange(num_steps, device=valid_lens.device)
    return steps.unsqueeze(0) < valid_lens.unsqueeze(1)  # (batch_size, num_steps)
