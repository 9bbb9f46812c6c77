"""多头注意力：num_heads 组独立的线性投影，作为一次批量计算并行做缩放点积注意力。

形状记号：b = batch_size，nh = num_heads，q / k = 查询数 / 键值对数，
hd = num_hiddens // nh。注意力本身由 :func:`seqbook.scaled_dot_product` 计算。
"""

import torch
from torch import nn

from .._checks import check_positive_int, check_probability
from .attention import _check_batch, scaled_dot_product, valid_key_mask


class MultiHeadAttention(nn.Module):
    """多头注意力。

    参数：
        num_hiddens: 查询、键、值与输出的特征维数，须能被 ``num_heads`` 整除。
        num_heads: 头数；每个头的维数 ``head_dim = num_hiddens // num_heads``。
        dropout: 注意力权重上的暂退概率。
        bias: 四个线性投影是否带偏置（同 ``nn.MultiheadAttention`` 的 ``bias``）。
        keep_weights: True 时走显式路径，并把权重存到 ``self.attention_weights``
            ``(b, nh, q, k)``（画热图用）；默认 False 时调用融合内核。

    ``forward(queries, keys, values, valid_lens=None, causal=False, kv=None,
    mask=None, bias=None)``：queries ``(b, q, num_hiddens)``，keys / values
    ``(b, k, num_hiddens)``；valid_lens 与 causal 见
    :func:`seqbook.valid_key_mask`；
    ``kv`` 是 :meth:`project_kv` 已算好的 ``(K, V)``（此时 keys / values 可以为
    None，用于键值缓存）；``mask`` 是 ``valid_key_mask`` 已构造好的掩码
    （Transformer 的各层共用一个，有效长度只在入口检查一次），给出时代替
    valid_lens 与 causal；``bias`` 是加到各头分数上的浮点偏置 ``(nh, q, k)``
    （见 :func:`seqbook.scaled_dot_product`）。返回 ``(b, q, num_hiddens)``。
    """

    def __init__(self, num_hiddens, num_heads, dropout=0.0, bias=False,
                 keep_weights=False):
        super().__init__()
        _check_sizes(num_hiddens, num_heads)
        self.num_hiddens, self.num_heads = num_hiddens, num_heads
        self.head_dim = num_hiddens // num_heads
        self.dropout = check_probability(dropout, "dropout", high_open=True)
        self.W_q = nn.Linear(num_hiddens, num_hiddens, bias=bias)
        self.W_k = nn.Linear(num_hiddens, num_hiddens, bias=bias)
        self.W_v = nn.Linear(num_hiddens, num_hiddens, bias=bias)
        self.W_o = nn.Linear(num_hiddens, num_hiddens, bias=bias)
        self.keep_weights = keep_weights
        self.attention_weights = None  # (b, nh, q, k)

    def split_heads(self, X):
        """``(b, n, num_hiddens)`` → ``(b, nh, n, hd)``：最后一维切成 nh 段。"""
        b, n, _ = X.shape
        X = X.view(b, n, self.num_heads, self.head_dim)  # (b, n, nh, hd)
        return X.transpose(1, 2)  # (b, nh, n, hd)

    def merge_heads(self, X):
        """``(b, nh, n, hd)`` → ``(b, n, num_hiddens)``：split_heads 的逆。"""
        b, _, n, _ = X.shape
        return X.transpose(1, 2).reshape(b, n, self.num_hiddens)  # (b, n, d)

    def project_kv(self, keys, values):
        """投影键和值并分头：``(b, k, num_hiddens)`` → K、V 各 ``(b, nh, k, hd)``。

        交叉注意力中编码器输出只需投影一次；自注意力的键值缓存存的就是它们。
        """
        _check_kv(keys, values, self.num_hiddens)
        return self.split_heads(self.W_k(keys)), self.split_heads(self.W_v(values))

    def forward(self, queries, keys, values, valid_lens=None, causal=False,
                kv=None, mask=None, bias=None):
        K, V = self.project_kv(keys, values) if kv is None else kv  # (b, nh, k, hd)
        _check_queries(queries, K, valid_lens, self.num_hiddens)
        _check_mask(mask, valid_lens, causal)
        Q = self.split_heads(self.W_q(queries))  # (b, nh, q, hd)
        if mask is None:  # (b 或 1, q 或 1, k)，各头共用
            mask = valid_key_mask(valid_lens, Q.shape[2], K.shape[2], causal,
                                  Q.device)
        dropout = self.dropout if self.training else 0.0
        out, weights = scaled_dot_product(Q, K, V, mask, dropout, self.keep_weights,
                                          bias)  # (b, nh, q, hd)
        self.attention_weights = None if weights is None else weights.detach()
        return self.W_o(self.merge_heads(out))  # (b, q, num_hiddens)

    def extra_repr(self):
        return (f"num_hiddens={self.num_hiddens}, num_heads={self.num_heads}, "
                f"dropout={self.dropout}")


def _check_kv(keys, values, num_hiddens):
    _check_input("keys", keys, num_hiddens)
    _check_input("values", values, num_hiddens)
    if keys.shape[:2] != values.shape[:2]:
        raise ValueError(f"keys 与 values 的 (batch_size, num_kvs) 应相同，实际为 "
                         f"{tuple(keys.shape[:2])} 与 {tuple(values.shape[:2])}")


def _check_queries(queries, K, valid_lens, num_hiddens):
    _check_input("queries", queries, num_hiddens)
    if K.shape[0] != queries.shape[0]:
        raise ValueError(f"queries 的批量大小 {queries.shape[0]} 与键值的批量大小 "
                         f"{K.shape[0]} 不同")
    _check_batch(valid_lens, queries.shape[0])


def _check_mask(mask, valid_lens, causal):
    if mask is not None and (valid_lens is not None or causal):
        raise ValueError("mask 与 valid_lens / causal 只能给出一种："
                         "mask 是 valid_key_mask(valid_lens, ..., causal) 的结果")


def _check_sizes(num_hiddens, num_heads):
    check_positive_int(num_hiddens, "num_hiddens")
    check_positive_int(num_heads, "num_heads")
    if num_hiddens % num_heads != 0:
        raise ValueError(f"num_hiddens={num_hiddens} 不能被 num_heads={num_heads} "
                         "整除：每个头的维数 num_hiddens // num_heads 必须是整数")


def _check_input(name, X, num_hiddens):
    if not torch.is_tensor(X) or X.dim() != 3 or X.shape[-1] != num_hiddens:
        shape = tuple(X.shape) if torch.is_tensor(X) else type(X).__name__
        raise ValueError(f"{name} 的形状应为 (batch_size, 步数, {num_hiddens})，"
                         f"实际为 {shape}")
