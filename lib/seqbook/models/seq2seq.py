"""序列到序列学习：GRU 编码器与解码器、遮蔽交叉熵损失、计划采样与训练循环。

- :class:`Seq2SeqEncoder`：嵌入层 + 多层 GRU；用打包序列（packed sequence）只处理有效词元，
  所以源序列的填充不影响编码结果。
- :class:`Seq2SeqDecoder`：上下文变量 = 编码器最后一个时间步顶层的隐状态，在整个解码过程中
  **保持不变**，与每一步的输入嵌入拼接；解码器的隐状态从编码器的最终隐状态开始。
- :func:`masked_cross_entropy`：只在有效目标词元上取平均的交叉熵。
- :func:`train_seq2seq`：适用于任何 :class:`seqbook.EncoderDecoder` 的训练循环，支持强制教学
  比例（计划采样）。
"""

import torch
from torch import nn

from .._checks import check_positive_int
from ..data.mt_data import PAD
from .encoder_decoder import Decoder, Encoder, EncoderDecoder


def _check_tokens(X, name="X"):
    if not torch.is_tensor(X) or X.dim() != 2 or X.dtype not in (torch.int64, torch.int32):
        raise TypeError(f"{name} 应为 (batch_size, num_steps) 的整数张量，"
                        f"实际得到 {type(X).__name__} {tuple(getattr(X, 'shape', ()))} "
                        f"{getattr(X, 'dtype', '')}")


class Seq2SeqEncoder(Encoder):
    """GRU 编码器。

    参数：
        vocab_size: 源词表大小。
        embed_size: 词嵌入维度。
        num_hiddens: GRU 隐藏单元数。
        num_layers: GRU 层数。
        dropout: 嵌入层之后与 GRU 各层之间的暂退概率。
        padding_idx: 填充词元的索引（其嵌入恒为 0、不接收梯度），默认 1（``<pad>``）。
    """

    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers=1, dropout=0.0,
                 padding_idx=1):
        super().__init__()
        for name, value in [("vocab_size", vocab_size), ("embed_size", embed_size),
                            ("num_hiddens", num_hiddens), ("num_layers", num_layers)]:
            check_positive_int(value, name)
        self.vocab_size, self.num_hiddens, self.num_layers = vocab_size, num_hiddens, num_layers
        self.embedding = nn.Embedding(vocab_size, embed_size, padding_idx=padding_idx)
        self.dropout = nn.Dropout(dropout)
        self.rnn = nn.GRU(embed_size, num_hiddens, num_layers, batch_first=True,
                          dropout=dropout if num_layers > 1 else 0.0)

    def forward(self, X, valid_lens):
        """参数：``X`` ``(batch_size, num_steps)``；``valid_lens`` ``(batch_size,)`` 或 ``None``（全部有效）。

        返回 ``(outputs, state)``：
            outputs: ``(batch_size, num_steps, num_hiddens)`` 顶层各时间步的隐状态，填充位置为 0。
            state: ``(num_layers, batch_size, num_hiddens)`` 各层在**最后一个有效词元**处的隐状态。
        """
        _check_tokens(X)
        emb = self.dropout(self.embedding(X))  # (batch_size, num_steps, embed_size)
        if valid_lens is None:
            outputs, state = self.rnn(emb)
            return outputs, state
        if valid_lens.shape != (X.shape[0],):
            raise ValueError(f"valid_lens 的形状应为 ({X.shape[0]},)，实际为 {tuple(valid_lens.shape)}")
        lengths = valid_lens.to("cpu", torch.int64)
        if lengths.min() < 1 or lengths.max() > X.shape[1]:
            raise ValueError(f"valid_lens 应在 1 到 num_steps={X.shape[1]} 之间，"
                             f"实际范围 [{int(lengths.min())}, {int(lengths.max())}]")
        packed = nn.utils.rnn.pack_padded_sequence(emb, lengths, batch_first=True,
                                                   enforce_sorted=False)
        outputs, state = self.rnn(packed)
        outputs, _ = nn.utils.rnn.pad_packed_sequence(outputs, batch_first=True,
                                                      total_length=X.shape[1])
        return outputs, state  # (batch_size, num_steps, num_hiddens), (num_layers, batch_size, num_hiddens)


class Seq2SeqDecoder(Decoder):
    """GRU 解码器：每一步的输入是上一个目标词元的嵌入与上下文变量的拼接。

    状态是二元组 ``(context, hidden)``：
        context: ``(batch_size, num_hiddens)`` 编码器顶层的最终隐状态，解码时保持不变；
        hidden: ``(num_layers, batch_size, num_hiddens)`` 解码器 GRU 的隐状态。
    参数含义同 :class:`Seq2SeqEncoder`（``vocab_size`` 是目标词表大小）。
    """

    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers=1, dropout=0.0,
                 padding_idx=1):
        super().__init__()
        for name, value in [("vocab_size", vocab_size), ("embed_size", embed_size),
                            ("num_hiddens", num_hiddens), ("num_layers", num_layers)]:
            check_positive_int(value, name)
        self.vocab_size, self.num_hiddens, self.num_layers = vocab_size, num_hiddens, num_layers
        self.embedding = nn.Embedding(vocab_size, embed_size, padding_idx=padding_idx)
        self.dropout = nn.Dropout(dropout)
        self.rnn = nn.GRU(embed_size + num_hiddens, num_hiddens, num_layers, batch_first=True,
                          dropout=dropout if num_layers > 1 else 0.0)
        self.dense = nn.Linear(num_hiddens, vocab_size)

    def init_state(self, enc_outputs, enc_valid_lens):
        _, enc_state = enc_outputs  # (num_layers, batch_size, num_hiddens)
        if enc_state.shape[0] != self.num_layers or enc_state.shape[2] != self.num_hiddens:
            raise ValueError(f"编码器状态的形状 {tuple(enc_state.shape)} 与解码器不匹配："
                             f"应为 ({self.num_layers}, batch_size, {self.num_hiddens})")
        return enc_state[-1], enc_state  # context: (batch_size, num_hiddens)

    def forward(self, X, state):
        """``X`` ``(batch_size, steps)`` → ``(logits (batch_size, steps, vocab_size), (context, new_hidden))``。"""
        _check_tokens(X)
        context, hidden = state
        emb = self.dropout(self.embedding(X))                       # (batch_size, steps, embed_size)
        context_steps = context.unsqueeze(1).expand(-1, X.shape[1], -1)  # (batch_size, steps, num_hiddens)
        outputs, hidden = self.rnn(torch.cat((emb, context_steps), dim=2), hidden)
        logits = self.dense(self.dropout(outputs))                  # (batch_size, steps, vocab_size)
        return logits, (context, hidden)  # 上下文不变；返回新的隐状态，不改动传入的 state

    def reorder_state(self, state, index):
        context, hidden = state
        index = index.to(context.device)
        return context.index_select(0, index), hidden.index_select(1, index)


def build_seq2seq(src_vocab, tgt_vocab, embed_size=256, num_hiddens=256,
                  num_layers=2, dropout=0.1):
    """按两个词表构造 GRU 序列到序列模型（:class:`seqbook.EncoderDecoder`）。"""
    if any(len(v) < 4 or PAD not in v for v in (src_vocab, tgt_vocab)):
        raise ValueError("src_vocab 与 tgt_vocab 应含有 <pad>、<bos>、<eos> 等保留词元")
    encoder = Seq2SeqEncoder(len(src_vocab), embed_size, num_hiddens, num_layers,
                             dropout, padding_idx=src_vocab[PAD])
    decoder = Seq2SeqDecoder(len(tgt_vocab), embed_size, num_hiddens, num_layers,
                             dropout, padding_idx=tgt_vocab[PAD])
    return EncoderDecoder(encoder, decoder)
