"""Transformer：编码器、带键值缓存的解码器。

结构与 Vaswani 等人（2017）相同：每个编码器块 = 多头自注意力 + 基于位置的前馈网络，
每个解码器块 = 掩蔽多头自注意力 + 编码器-解码器注意力 + 前馈网络；每个子层外面是
残差连接与层规范化。默认是论文中的“后规范化”（post-norm）
``LayerNorm(X + Sublayer(X))``；``norm_first=True`` 改为“前规范化”（pre-norm）
``X + Sublayer(LayerNorm(X))``，并在整个编码器 / 解码器末尾再加一个层规范化。

形状记号：b = batch_size，n = 步数，d = num_hiddens，nh = num_heads，hd = d // nh。
"""

import math
from typing import NamedTuple

import torch
from torch import nn

from .._checks import (
    check_positive_int,
    check_tensor,
    check_tokens,
    check_vocab_size,
)
from .attention import valid_key_mask
from .encoder_decoder import Decoder, Encoder, EncoderDecoder, select_batch
from .multihead import MultiHeadAttention
from .positional import PositionalEncoding


class PositionWiseFFN(nn.Module):
    """基于位置的前馈网络：对每个位置独立地做 ``Linear → ReLU → Linear``
    （``gelu=True`` 时激活函数为 GELU）。

    ``(b, n, num_hiddens)`` → ``(b, n, num_hiddens)``。
    """

    def __init__(self, num_hiddens, ffn_num_hiddens, dropout=0.0, gelu=False):
        super().__init__()
        self.dense1 = nn.Linear(num_hiddens, ffn_num_hiddens)
        self.dense2 = nn.Linear(ffn_num_hiddens, num_hiddens)
        self.dropout = nn.Dropout(dropout)
        self.act = nn.GELU() if gelu else nn.ReLU()  # BERT 与 GPT 用 GELU

    def forward(self, X):
        return self.dense2(self.dropout(self.act(self.dense1(X))))  # (b, n, d)


class TransformerEncoderBlock(nn.Module):
    """编码器块：多头自注意力与前馈网络两个子层，各带残差连接和层规范化。

    ``forward(X, mask=None, bias=None)``：X ``(b, n, num_hiddens)``；mask 是编码器用
    :func:`seqbook.valid_key_mask` 由有效长度构造的 ``(b, 1, n)`` 掩码（各层共用），
    或 None；bias 是加到注意力分数上的偏置 ``(nh, n, n)`` 或 None；
    返回同形状的张量。
    """

    def __init__(self, num_hiddens, ffn_num_hiddens, num_heads, dropout=0.0,
                 norm_first=False, gelu=False):
        super().__init__()
        self.norm_first, self.dropout = norm_first, nn.Dropout(dropout)
        self.attention = MultiHeadAttention(num_hiddens, num_heads, dropout)
        self.ffn = PositionWiseFFN(num_hiddens, ffn_num_hiddens, dropout, gelu)
        self.ln1, self.ln2 = nn.LayerNorm(num_hiddens), nn.LayerNorm(num_hiddens)

    def forward(self, X, mask=None, bias=None):
        if self.norm_first:  # 前规范化：X + Sublayer(LN(X))
            H = self.ln1(X)
            X = X + self.dropout(self.attention(H, H, H, mask=mask, bias=bias))
            return X + self.dropout(self.ffn(self.ln2(X)))
        # 后规范化（论文）：LN(X + Sublayer(X))
        Y = self.attention(X, X, X, mask=mask, bias=bias)
        X = self.ln1(X + self.dropout(Y))
        return self.ln2(X + self.dropout(self.ffn(X)))


class _Embed(nn.Module):
    """词嵌入乘以 sqrt(d) 再加位置编码（论文 3.4 节）。

    嵌入按标准差 d^-1/2 初始化，乘以 sqrt(d) 后方差为 1，与取值在 [-1, 1] 的
    位置编码同量级。
    """

    def __init__(self, vocab_size, num_hiddens, dropout, max_len):
        super().__init__()
        self.num_hiddens = num_hiddens
        self.embedding = nn.Embedding(vocab_size, num_hiddens)
        nn.init.normal_(self.embedding.weight, std=num_hiddens ** -0.5)
        self.pos_encoding = PositionalEncoding(num_hiddens, dropout, max_len)

    def forward(self, X, offset=0):
        _check_token_range(X, self.embedding.num_embeddings)
        E = self.embedding(X) * math.sqrt(self.num_hiddens)  # (b, n, d)
        return self.pos_encoding(E, offset)


class _Stack(nn.Module):
    """编码器与解码器共用的骨架：嵌入 + 位置编码，``num_layers`` 个 ``block``，
    前规范化时末尾再加一个层规范化。"""

    def __init__(self, block, vocab_size, num_hiddens, ffn_num_hiddens, num_heads,
                 num_layers, dropout, max_len, norm_first):
        super().__init__()
        self.embed = _Embed(vocab_size, num_hiddens, dropout, max_len)
        self.blocks = nn.ModuleList(
            block(num_hiddens, ffn_num_hiddens, num_heads, dropout, norm_first)
            for _ in range(num_layers))
        self.final_norm = nn.LayerNorm(num_hiddens) if norm_first else nn.Identity()


class TransformerEncoder(_Stack, Encoder):
    """Transformer 编码器：嵌入 + 位置编码，再叠 ``num_layers`` 个编码器块。

    ``forward(X, valid_lens)``：X ``(b, n)`` 整数，valid_lens ``(b,)`` 或 None；
    返回 ``enc_outputs`` ``(b, n, num_hiddens)``。
    """

    def __init__(self, vocab_size, num_hiddens, ffn_num_hiddens, num_heads,
                 num_layers, dropout=0.0, max_len=1000, norm_first=False):
        super().__init__(TransformerEncoderBlock, vocab_size, num_hiddens,
                         ffn_num_hiddens, num_heads, num_layers, dropout, max_len,
                         norm_first)

    def forward(self, X, valid_lens):
        _check_source(X, valid_lens)
        n = X.shape[1]
        mask = valid_key_mask(valid_lens, n, n)  # (b, 1, n) 或 None，只检查一次
        H = self.embed(X)  # (b, n, d)
        for blk in self.blocks:
            H = blk(H, mask)
        return self.final_norm(H)

    @property
    def attention_weights(self):
        """每层自注意力的权重 ``(b, nh, q, k)`` 组成的列表
        （需先 :func:`keep_attention_weights`）。"""
        return [blk.attention.attention_weights for blk in self.blocks]


class TransformerDecoderState(NamedTuple):
    """解码器状态（不可变；每次前向返回新对象）。

    enc_kv: 每层一个 ``(K, V)``，编码器输出经该层交叉注意力投影后的键与值，
        各 ``(b, nh, src_steps, hd)``，在 ``init_state`` 中只算一次。
    enc_valid_lens: ``(b,)`` 源序列有效长度，或 None。
    enc_mask: 由 enc_valid_lens 构造的 ``(b, 1, src_steps)`` 掩码（各层的交叉注意力
        共用），或 None。
    self_kv: 键值缓存：每层一个 ``(K, V)``，已处理过的目标位置的自注意力键与值，
        各 ``(b, nh, t, hd)``；还没处理任何位置时为空元组。
    """
    enc_kv: tuple
    enc_valid_lens: torch.Tensor | None
    self_kv: tuple = ()
    enc_mask: torch.Tensor | None = None

    @property
    def num_cached(self):
        """已缓存的目标位置数 t（下一个词元的位置编号）。"""
        return self.self_kv[0][0].shape[2] if self.self_kv else 0


class TransformerDecoderBlock(nn.Module):
    """解码器块：掩蔽多头自注意力、编码器-解码器注意力、前馈网络三个子层。

    ``forward(X, enc_kv, enc_mask, past_kv=None)``：X ``(b, steps, d)`` 是
    新到的 steps 个目标位置；``past_kv`` 是这一层之前缓存的 ``(K, V)`` 或 None。
    返回 ``(Y, (K, V))``：Y 与 X 同形状，``(K, V)`` 是拼上新位置后的缓存
    （新张量，不修改 ``past_kv``）。因果掩码在训练与评估模式下都生效。
    """

    def __init__(self, num_hiddens, ffn_num_hiddens, num_heads, dropout=0.0,
                 norm_first=False):
        super().__init__()
        self.self_attention = MultiHeadAttention(num_hiddens, num_heads, dropout)
        self.cross_attention = MultiHeadAttention(num_hiddens, num_heads, dropout)
        self.ffn = PositionWiseFFN(num_hiddens, ffn_num_hiddens, dropout)
        self.ln1, self.ln2, self.ln3 = (nn.LayerNorm(num_hiddens) for _ in range(3))
        self.norm_first, self.dropout = norm_first, nn.Dropout(dropout)

    def _self_attend(self, H, past_kv):
        K, V = self.self_attention.project_kv(H, H)  # 只投影新位置 (b,nh,steps,hd)
        if past_kv is not None:
            K = torch.cat([past_kv[0], K], dim=2)  # (b, nh, t + steps, hd)
            V = torch.cat([past_kv[1], V], dim=2)
        # causal=True：第 i 个新位置只看缓存中的位置和新位置中的 0..i
        return self.self_attention(H, None, None, causal=True, kv=(K, V)), (K, V)

    def forward(self, X, enc_kv, enc_mask, past_kv=None):
        if self.norm_first:
            Y, kv = self._self_attend(self.ln1(X), past_kv)
            X = X + self.dropout(Y)
            H = self.ln2(X)
            Y = self.cross_attention(H, None, None, kv=enc_kv, mask=enc_mask)
            X = X + self.dropout(Y)
            return X + self.dropout(self.ffn(self.ln3(X))), kv
        Y, kv = self._self_attend(X, past_kv)
        X = self.ln1(X + self.dropout(Y))  # (b, steps, d)
        Y = self.cross_attention(X, None, None, kv=enc_kv, mask=enc_mask)
        X = self.ln2(X + self.dropout(Y))
        return self.ln3(X + self.dropout(self.ffn(X))), kv


class TransformerDecoder(_Stack, Decoder):
    """Transformer 解码器，带键值缓存（key-value cache）。

    ``init_state(enc_outputs, enc_valid_lens)``：把编码器输出投影成每层交叉注意力的
    键和值。``forward(X, state)``：X ``(b, steps)`` 整数，返回
    ``(logits (b, steps, vocab_size), new_state)``。整段强制教学（steps = 目标长度）
    与逐个词元解码（每次 steps = 1，传入上一步的状态）给出相同的 logits；
    逐步解码时每层只为新词元计算键和值，旧位置的键和值取自缓存。
    """

    def __init__(self, vocab_size, num_hiddens, ffn_num_hiddens, num_heads,
                 num_layers, dropout=0.0, max_len=1000, norm_first=False):
        super().__init__(TransformerDecoderBlock, vocab_size, num_hiddens,
                         ffn_num_hiddens, num_heads, num_layers, dropout, max_len,
                         norm_first)
        self.dense = nn.Linear(num_hiddens, vocab_size)

    def init_state(self, enc_outputs, enc_valid_lens):
        enc_kv = tuple(blk.cross_attention.project_kv(enc_outputs, enc_outputs)
                       for blk in self.blocks)  # 每层 (K, V)，各 (b, nh, src, hd)
        src_steps = enc_outputs.shape[1]
        # (b, 1, src) 或 None，各层的交叉注意力共用
        enc_mask = valid_key_mask(enc_valid_lens, 1, src_steps)
        return TransformerDecoderState(enc_kv, enc_valid_lens, (), enc_mask)

    def forward(self, X, state):
        _check_target(X, state)
        H = self.embed(X, offset=state.num_cached)  # 位置从已缓存的长度接着编号
        new_kv = []
        for i, blk in enumerate(self.blocks):
            past = state.self_kv[i] if state.self_kv else None
            H, kv = blk(H, state.enc_kv[i], state.enc_mask, past)
            new_kv.append(kv)
        logits = self.dense(self.final_norm(H))  # (b, steps, vocab_size)
        return logits, state._replace(self_kv=tuple(new_kv))  # 新状态，旧的不变

    def reorder_state(self, state, index):
        """束搜索：按 ``index`` 选出（可重复的）批量行，缓存与编码器键值一起重排。
        """
        return select_batch(state, index, dim=0)

    @property
    def attention_weights(self):
        """``(自注意力权重列表, 编码器-解码器注意力权重列表)``，
        每层一个 ``(b, nh, q, k)``。"""
        return ([blk.self_attention.attention_weights for blk in self.blocks],
                [blk.cross_attention.attention_weights for blk in self.blocks])


def _check_source(X, valid_lens):
    """编码器的输入：词元矩阵 X 与 ``(b,)`` 的有效长度（取值由多头注意力检查）。"""
    check_tokens(X, "X")
    if valid_lens is not None:
        check_tensor(valid_lens, "valid_lens", 1)
        if valid_lens.shape != X.shape[:1]:
            raise ValueError(f"valid_lens 的形状应为 (batch_size,)="
                             f"{tuple(X.shape[:1])}，"
                             f"实际为 {tuple(valid_lens.shape)}")


def _check_target(X, state):
    check_tokens(X, "X")
    if not isinstance(state, TransformerDecoderState):
        raise TypeError(f"state 应为 init_state 返回的 TransformerDecoderState，"
                        f"实际为 {type(state).__name__}")


def _check_token_range(X, vocab_size):
    if X.numel() and (X.min() < 0 or X.max() >= vocab_size):
        raise ValueError(f"词元索引应在 [0, {vocab_size}) 之内，"
                         f"实际范围 [{int(X.min())}, {int(X.max())}]")


def build_transformer(src_vocab, tgt_vocab, num_hiddens=128, ffn_num_hiddens=256,
                      num_heads=4, num_layers=2, dropout=0.1, max_len=1000,
                      norm_first=False):
    """按两个词表（或词表大小）构造 Transformer 编码器-解码器。

    编码器与解码器各 ``num_layers`` 层；线性层的权重按 Xavier 均匀分布初始化
    （与 ``nn.Transformer`` 相同）。返回 :class:`seqbook.EncoderDecoder`。
    """
    src_vocab_size = check_vocab_size(src_vocab, "src_vocab")
    tgt_vocab_size = check_vocab_size(tgt_vocab, "tgt_vocab")
    sizes = dict(num_hiddens=num_hiddens, ffn_num_hiddens=ffn_num_hiddens,
                 num_heads=num_heads, num_layers=num_layers, max_len=max_len)
    for name, value in sizes.items():
        check_positive_int(value, name)
    args = (num_hiddens, ffn_num_hiddens, num_heads, num_layers, dropout, max_len,
            norm_first)
    encoder = TransformerEncoder(src_vocab_size, *args)
    decoder = TransformerDecoder(tgt_vocab_size, *args)
    model = EncoderDecoder(encoder, decoder)
    for module in model.modules():
        if isinstance(module, nn.Linear):
            nn.init.xavier_uniform_(module.weight)
    return model


def keep_attention_weights(model, keep=True):
    """让 ``model`` 中所有 :class:`MultiHeadAttention` 走显式路径并保存注意力
    权重（画热图用）。

    返回 ``model``。``keep=False`` 恢复融合路径。
    """
    for module in model.modules():
        if isinstance(module, MultiHeadAttention):
            module.keep_weights = keep
            if not keep:
                module.attention_weights = None
    return model
