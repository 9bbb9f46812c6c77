"""多头注意力：num_heads 组独立的线性投影，作为一次批量计算并行做缩放点积注意力。

形状记号：b = batch_size，nh = num_heads，q / k = 查询数 / 键值对数，hd = num_hiddens // nh。
"""

import math

import torch
from torch import nn
from torch.nn import functional as F

from .._checks import check_lengths
from .attention import masked_softmax, propagate_nan


def attention_valid_lens(valid_lens, batch_size, num_queries, num_kvs, causal=False, device=None):
    """把“键的有效长度”和因果掩码合成每个查询各自的有效长度。

    参数：
        valid_lens: ``None``、``(batch_size,)`` 或 ``(batch_size, num_queries)``：每个查询只看
            前 ``valid_len`` 个键。
        causal: 为 True 时第 i 个查询只看位置 ``j <= i + (num_kvs - num_queries)`` 的键
            （查询是键序列的最后 num_queries 个位置，带键值缓存的增量解码也适用）。
    返回：
        ``None``（什么都不遮）或 ``(batch_size, num_queries)`` 的整数张量。
    """
    if valid_lens is not None:
        check_lengths(valid_lens, "valid_lens")  # 整数张量，没有负数
        ok_shapes = [(batch_size,), (batch_size, num_queries)]
        if tuple(valid_lens.shape) not in ok_shapes:
            raise ValueError(f"valid_lens 的形状应为 (batch_size,)={ok_shapes[0]} 或 "
                             f"(batch_size, num_queries)={ok_shapes[1]}，实际为 {tuple(valid_lens.shape)}")
        if valid_lens.dim() == 1:
            valid_lens = valid_lens.unsqueeze(1).expand(batch_size, num_queries)  # (b, q)
        device = valid_lens.device
    if not causal:
        return valid_lens
    # 第 i 个查询最多看到前 i + 1 + (k - q) 个键
    causal_lens = torch.arange(1, num_queries + 1, device=device) + (num_kvs - num_queries)  # (q,)
    causal_lens = causal_lens.unsqueeze(0).expand(batch_size, num_queries)  # (b, q)
    return causal_lens if valid_lens is None else torch.minimum(valid_lens, causal_lens)


class MultiHeadAttention(nn.Module):
    """多头注意力。

    参数：
        num_hiddens: 查询、键、值与输出的特征维数，须能被 ``num_heads`` 整除。
        num_heads: 头数；每个头的维数 ``head_dim = num_hiddens // num_heads``。
        dropout: 注意力权重上的暂退概率。
        bias: 四个线性投影是否带偏置（与 ``nn.MultiheadAttention`` 的 ``bias`` 相同）。

    ``forward(queries, keys, values, valid_lens=None, causal=False, kv=None)``：
        queries ``(b, q, num_hiddens)``，keys / values ``(b, k, num_hiddens)``；
        valid_lens ``None``、``(b,)`` 或 ``(b, q)``；``kv`` 是 :meth:`project_kv` 已算好的
        ``(K, V)``（此时 keys / values 可以为 None，用于键值缓存）。返回 ``(b, q, num_hiddens)``。

    默认走融合的 ``F.scaled_dot_product_attention``；设 ``self.keep_weights = True`` 时走
    手写的显式路径，并把注意力权重存到 ``self.attention_weights`` ``(b, nh, q, k)``（画热图用）。
    两条路径在数学上相同（见单元测试）；输入含 NaN 时两条路径给出同样位置的 NaN
    （见 :func:`seqbook.attention.propagate_nan`）。
    """

    def __init__(self, num_hiddens, num_heads, dropout=0.0, bias=False):
        super().__init__()
        for name, value in [("num_hiddens", num_hiddens), ("num_heads", num_heads)]:
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{name} 应为正整数，实际得到 {value!r}")
        if num_hiddens % num_heads != 0:
            raise ValueError(f"num_hiddens={num_hiddens} 不能被 num_heads={num_heads} 整除："
                             "每个头的维数 num_hiddens // num_heads 必须是整数")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout 应在 [0, 1) 之内，实际得到 {dropout!r}")
        self.num_hiddens, self.num_heads = num_hiddens, num_heads
        self.head_dim = num_hiddens // num_heads
        self.dropout = dropout
        self.W_q = nn.Linear(num_hiddens, num_hiddens, bias=bias)
        self.W_k = nn.Linear(num_hiddens, num_hiddens, bias=bias)
        self.W_v = nn.Linear(num_hiddens, num_hiddens, bias=bias)
        self.W_o = nn.Linear(num_hiddens, num_hiddens, bias=bias)
        self.keep_weights = False     # True：走显式路径并保存注意力权重
        self.attention_weights = None  # (b, nh, q, k)

    def split_heads(self, X):
        """``(b, n, num_hiddens)`` → ``(b, nh, n, hd)``：最后一维切成 nh 段，每段给一个头。"""
        b, n, _ = X.shape
        return X.view(b, n, self.num_heads, self.head_dim).transpose(1, 2)  # (b, nh, n, hd)

    def merge_heads(self, X):
        """``(b, nh, n, hd)`` → ``(b, n, num_hiddens)``：:meth:`split_heads` 的逆。"""
        b, _, n, _ = X.shape
        return X.transpose(1, 2).reshape(b, n, self.num_hiddens)  # (b, n, num_hiddens)

    def project_kv(self, keys, values):
        """投影键和值并分头：``(b, k, num_hiddens)`` → ``K, V`` 各 ``(b, nh, k, hd)``。

        交叉注意力中编码器输出只需投影一次；自注意力的键值缓存存的就是它们。
        """
        self._check_input("keys", keys)
        self._check_input("values", values)
        if keys.shape[:2] != values.shape[:2]:
            raise ValueError(f"keys 与 values 的 (batch_size, num_kvs) 应相同，"
                             f"实际为 {tuple(keys.shape[:2])} 与 {tuple(values.shape[:2])}")
        return self.split_heads(self.W_k(keys)), self.split_heads(self.W_v(values))

    def forward(self, queries, keys, values, valid_lens=None, causal=False, kv=None):
        self._check_input("queries", queries)
        K, V = self.project_kv(keys, values) if kv is None else kv  # (b, nh, k, hd)
        b, q, k = queries.shape[0], queries.shape[1], K.shape[2]
        if K.shape[0] != b:
            raise ValueError(f"queries 的批量大小 {b} 与键值的批量大小 {K.shape[0]} 不同")
        Q = self.split_heads(self.W_q(queries))  # (b, nh, q, hd)
        lens = attention_valid_lens(valid_lens, b, q, k, causal, device=queries.device)  # (b, q) 或 None
        if self.keep_weights:
            out = self._attend_explicit(Q, K, V, lens)
        else:
            out = self._attend_fused(Q, K, V, lens)
        out = propagate_nan(out, Q, K, V)  # 输入含 NaN 时两条路径给出同样的 NaN（融合内核可能给 0）
        return self.W_o(self.merge_heads(out))  # (b, q, num_hiddens)

    def _attend_explicit(self, Q, K, V, lens):
        """可读的写法：softmax(Q K^T / sqrt(hd)) V，并保存权重。"""
        scores = Q @ K.transpose(-2, -1) / math.sqrt(self.head_dim)  # (b, nh, q, k)
        weights = masked_softmax(scores, lens)  # (b, nh, q, k)；被遮住的键权重恰为 0
        self.attention_weights = weights.detach()
        weights = F.dropout(weights, self.dropout, self.training)
        return weights @ V  # (b, nh, q, hd)

    def _attend_fused(self, Q, K, V, lens):
        """融合算子 F.scaled_dot_product_attention（在 GPU 上用 FlashAttention 等内核）。"""
        self.attention_weights = None
        mask, empty = None, None
        if lens is not None:
            mask = torch.arange(K.shape[2], device=Q.device) < lens.unsqueeze(-1)  # (b, q, k)，True = 可见
            # 一个键都看不到的查询：masked_softmax 给全 0 权重、输出 0；融合算子会给 NaN，
            # 所以先让这些行看全部键（避免 NaN），算完再把输出置 0，两条路径完全相同
            empty = (lens <= 0).unsqueeze(-1)  # (b, q, 1)
            mask = (mask | empty).unsqueeze(1)  # (b, 1, q, k)，对所有头广播
        out = F.scaled_dot_product_attention(Q, K, V, attn_mask=mask,
                                             dropout_p=self.dropout if self.training else 0.0)
        if empty is not None:
            out = out.masked_fill(empty.unsqueeze(1), 0.0)  # (b, nh, q, hd)
        return out

    def _check_input(self, name, X):
        if not torch.is_tensor(X) or X.dim() != 3 or X.shape[-1] != self.num_hiddens:
            shape = tuple(X.shape) if torch.is_tensor(X) else type(X).__name__
            raise ValueError(f"{name} 的形状应为 (batch_size, 步数, {self.num_hiddens})，实际为 {shape}")

    def extra_repr(self):
        return f"num_hiddens={self.num_hiddens}, num_heads={self.num_heads}, dropout={self.dropout}"
