"""GPT：仅解码器的 Transformer 语言模型（第 5 章）。

结构（Radford 等人 2018/2019）：词嵌入 +（可学习的）位置嵌入 → ``num_layers`` 个
前规范化的块（因果自注意力、GELU 前馈网络，各带残差连接）→ 层规范化 → 输出层。
输出层与词嵌入共用权重（权重绑定）。``position="rotary"`` 时不加位置嵌入，改在每层
注意力里旋转查询与键（旋转位置编码，RoPE）。

因果自注意力带键值缓存：``forward(X, cache)`` 只为新来的词元计算键和值，与缓存中
旧位置的键和值拼起来；整段前向与逐个词元前向给出相同的 logits。

形状记号：b = batch_size，n = 新词元数，t = 已缓存的位置数，d = num_hiddens，
nh = num_heads，hd = d // nh，V = vocab_size。
"""

import math

import torch
from torch import nn

from .._checks import check_positive_int, check_probability, check_tokens
from .attention import scaled_dot_product, valid_key_mask
from .multihead import MultiHeadAttention
from .positional import apply_rotary, rotary_tables
from .transformer import PositionWiseFFN

POSITIONS = ("learned", "rotary")


class CausalSelfAttention(MultiHeadAttention):
    """带键值缓存的因果多头自注意力（投影与分头沿用 :class:`MultiHeadAttention`）。

    ``forward(X, past_kv=None, rotary=None)``：X ``(b, n, d)`` 是新来的 n 个位置；
    ``past_kv`` 是之前缓存的 ``(K, V)``，各 ``(b, nh, t, hd)``；
    ``rotary`` 是新位置的 ``(cos, sin)`` 表或 None。返回
    ``(Y (b, n, d), (K, V))``，``(K, V)`` 是拼上新位置后的缓存
    （新张量，不修改 ``past_kv``）。
    """

    def forward(self, X, past_kv=None, rotary=None):
        Q = self.split_heads(self.W_q(X))  # (b, nh, n, hd)
        K, V = self.project_kv(X, X)  # 只投影新位置 (b, nh, n, hd)
        if rotary is not None:  # RoPE：按各自的位置旋转查询与键（值不转）
            Q, K = apply_rotary(Q, *rotary), apply_rotary(K, *rotary)
        if past_kv is not None:
            K = torch.cat([past_kv[0], K], dim=2)  # (b, nh, t + n, hd)
            V = torch.cat([past_kv[1], V], dim=2)
        # 第 i 个新位置看缓存中的全部位置与新位置中的 0..i；逐个词元生成时
        # 只有一个新位置，它看全部位置，不需要掩码
        mask = None if Q.shape[2] == 1 else valid_key_mask(
            None, Q.shape[2], K.shape[2], causal=True, device=X.device)  # (1,n,t+n)
        dropout = self.dropout if self.training else 0.0
        out, weights = scaled_dot_product(Q, K, V, mask, dropout,
                                          self.keep_weights)  # (b, nh, n, hd)
        self.attention_weights = None if weights is None else weights.detach()
        return self.W_o(self.merge_heads(out)), (K, V)  # (b, n, d)


class GPTBlock(nn.Module):
    """前规范化的解码器块：``X + Attn(LN(X))``，再 ``X + FFN(LN(X))``。
    没有编码器-解码器注意力。"""

    def __init__(self, num_hiddens, ffn_num_hiddens, num_heads, dropout=0.0):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(num_hiddens), nn.LayerNorm(num_hiddens)
        self.attention = CausalSelfAttention(num_hiddens, num_heads, dropout,
                                             bias=True)
        self.ffn = PositionWiseFFN(num_hiddens, ffn_num_hiddens, dropout, gelu=True)
        self.dropout = nn.Dropout(dropout)

    def forward(self, X, past_kv=None, rotary=None):
        Y, kv = self.attention(self.ln1(X), past_kv, rotary)
        X = X + self.dropout(Y)  # (b, n, d)
        return X + self.dropout(self.ffn(self.ln2(X))), kv


class GPT(nn.Module):
    """仅解码器的语言模型。

    参数：
        vocab_size: 词表大小 V。
        num_hiddens, ffn_num_hiddens, num_heads, num_layers: 宽度 d、前馈层宽度、
            头数、层数。
        max_len: 可学习位置嵌入的长度（``position="learned"`` 时能处理的最长序列；
            旋转位置编码没有这个限制）。
        dropout: 暂退概率。
        position: ``"learned"``（GPT-2）或 ``"rotary"``（RoPE）。

    ``forward(X, cache=None)``：X ``(b, n)`` 整数；cache 是上一次返回的缓存（每层
    一个 ``(K, V)``）或 None。返回 ``(logits (b, n, V), cache)``。
    """

    def __init__(self, vocab_size, num_hiddens=128, ffn_num_hiddens=512,
                 num_heads=4, num_layers=4, max_len=256, dropout=0.0,
                 position="learned"):
        super().__init__()
        for value, name in ((vocab_size, "vocab_size"), (num_layers, "num_layers"),
                            (max_len, "max_len"),
                            (ffn_num_hiddens, "ffn_num_hiddens"),
                            (num_hiddens, "num_hiddens"), (num_heads, "num_heads")):
            check_positive_int(value, name)
        check_probability(dropout, "dropout", high_open=True)
        if position not in POSITIONS:
            raise ValueError(f"position 应为 {POSITIONS} 之一，"
                             f"实际得到 {position!r}")
        if position == "rotary" and (num_hiddens // num_heads) % 2:
            raise ValueError("旋转位置编码要把特征两两配对，每个头的维数 "
                             "num_hiddens // num_heads = "
                             f"{num_hiddens // num_heads} 应为偶数")
        self.vocab_size, self.max_len, self.position = vocab_size, max_len, position
        self.embedding = nn.Embedding(vocab_size, num_hiddens)
        self.pos_embedding = (nn.Embedding(max_len, num_hiddens)
                              if position == "learned" else None)
        self.dropout = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(
            GPTBlock(num_hiddens, ffn_num_hiddens, num_heads, dropout)
            for _ in range(num_layers))
        self.final_norm = nn.LayerNorm(num_hiddens)
        self.head_dim = num_hiddens // num_heads
        self._init_weights(num_layers)

    def _init_weights(self, num_layers):
        """GPT-2 的初始化：权重 N(0, 0.02²)，偏置 0；写回残差流的两个投影再除以
        sqrt(2·num_layers)，免得残差流的方差随层数增长。词嵌入也是 N(0, 0.02²)：
        它同时是输出层，初始 logits 接近 0，损失约为 ln V。"""
        for name, p in self.named_parameters():
            if p.dim() >= 2:
                std = 0.02
                if name.endswith(("W_o.weight", "dense2.weight")):
                    std /= math.sqrt(2 * num_layers)
                nn.init.normal_(p, std=std)
            elif name.endswith(".bias") and "ln" not in name and "norm" not in name:
                nn.init.zeros_(p)

    def forward(self, X, cache=None):
        _check_input(X, self.vocab_size)
        past = 0 if cache is None else cache[0][0].shape[2]  # 已缓存的位置数 t
        n = X.shape[1]
        H = self.embedding(X)  # (b, n, d)
        rotary = None
        if self.position == "learned":
            if past + n > self.max_len:
                raise ValueError(f"序列需要位置 0..{past + n - 1}，超过了可学习位置"
                                 f"嵌入的长度 max_len={self.max_len}：请截短输入"
                                 f"（只保留最后 {self.max_len} 个词元）")
            pos = torch.arange(past, past + n, device=X.device)  # (n,)
            H = H + self.pos_embedding(pos)  # (b, n, d)
        else:
            rotary = rotary_tables(n, self.head_dim, offset=past, device=X.device)
        H = self.dropout(H)
        new_cache = []
        for i, blk in enumerate(self.blocks):
            H, kv = blk(H, None if cache is None else cache[i], rotary)
            new_cache.append(kv)
        H = self.final_norm(H)  # (b, n, d)
        logits = H @ self.embedding.weight.T  # 权重绑定：(b, n, V)
        return logits, tuple(new_cache)


def gpt_num_params(vocab_size, num_hiddens, ffn_num_hiddens, num_layers, max_len,
                   position="learned"):
    """:class:`GPT` 的参数个数（词嵌入与输出层共用，只算一次）：

    ``V·d`` （词嵌入）+ ``max_len·d``（可学习位置）+ 每层
    ``4(d² + d)``（四个投影）+ ``2·d·f + f + d``（前馈）+ ``4d``（两个层规范化）
    + ``2d``（最后的层规范化）。
    """
    d, f = num_hiddens, ffn_num_hiddens
    per_layer = 4 * (d * d + d) + 2 * d * f + f + d + 4 * d
    pos = max_len * d if position == "learned" else 0
    return vocab_size * d + pos + num_layers * per_layer + 2 * d


def _check_input(X, vocab_size):
    check_tokens(X)
    if X.shape[1] == 0:
        raise ValueError("X 至少要有一个词元，实际形状为 "
                         f"{tuple(X.shape)}")
    if X.numel() and (int(X.min()) < 0 or int(X.max()) >= vocab_size):
        raise ValueError(f"X 中的词元索引应在 [0, {vocab_size}) 之内，实际范围为 "
                         f"[{int(X.min())}, {int(X.max())}]：分词器与模型不匹配？")
