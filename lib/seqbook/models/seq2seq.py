"""序列到序列模型：GRU 编码器与解码器（训练见 :mod:`seqbook.training.seq2seq`）。

- :class:`Seq2SeqEncoder`：嵌入层 + 多层 GRU；用打包序列（packed sequence）只处理
  有效词元，所以源序列的填充不影响编码结果。
- :class:`Seq2SeqDecoder`：上下文变量 = 编码器最后一个时间步顶层的隐状态，在整个
  解码过程中**保持不变**，与每一步的输入嵌入拼接；解码器的隐状态从编码器的最终
  隐状态开始。
"""

import torch
from torch import nn

from .._checks import check_lengths, check_positive_int, check_tokens
from ..data.mt_data import PAD
from .encoder_decoder import Decoder, Encoder, EncoderDecoder


class Seq2SeqEncoder(Encoder):
    """GRU 编码器。

    参数：
        vocab_size: 源词表大小。
        embed_size: 词嵌入维度。
        num_hiddens: GRU 隐藏单元数。
        num_layers: GRU 层数。
        dropout: 嵌入层之后与 GRU 各层之间的暂退概率。
        padding_idx: 填充词元的索引（其嵌入恒为 0、不接收梯度），
            默认 1（``<pad>``）。
    """

    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers=1,
                 dropout=0.0, padding_idx=1):
        super().__init__()
        _check_sizes(vocab_size, embed_size, num_hiddens, num_layers)
        self.vocab_size, self.num_hiddens = vocab_size, num_hiddens
        self.num_layers = num_layers
        self.embedding = nn.Embedding(vocab_size, embed_size,
                                      padding_idx=padding_idx)
        self.dropout = nn.Dropout(dropout)
        self.rnn = nn.GRU(embed_size, num_hiddens, num_layers, batch_first=True,
                          dropout=dropout if num_layers > 1 else 0.0)

    def forward(self, X, valid_lens):
        """``X`` ``(b, num_steps)``；``valid_lens`` ``(b,)`` 或 None（全部有效）。

        返回 ``(outputs, state)``：
            outputs: ``(b, num_steps, num_hiddens)`` 顶层各时间步的隐状态，
                填充位置为 0。
            state: ``(num_layers, b, num_hiddens)`` 各层在**最后一个有效词元**处的
                隐状态。
        """
        check_tokens(X, "X")
        emb = self.dropout(self.embedding(X))  # (b, num_steps, embed_size)
        if valid_lens is None:
            outputs, state = self.rnn(emb)
            return outputs, state
        lengths = _source_lengths(valid_lens, X)  # CPU 上的 int64：打包序列要求
        packed = nn.utils.rnn.pack_padded_sequence(emb, lengths, batch_first=True,
                                                   enforce_sorted=False)
        outputs, state = self.rnn(packed)
        outputs, _ = nn.utils.rnn.pad_packed_sequence(outputs, batch_first=True,
                                                      total_length=X.shape[1])
        return outputs, state  # (b, num_steps, h), (num_layers, b, h)


class Seq2SeqDecoder(Decoder):
    """GRU 解码器：每一步的输入是上一个目标词元的嵌入与上下文变量的拼接。

    状态是二元组 ``(context, hidden)``：
        context: ``(b, num_hiddens)`` 编码器顶层的最终隐状态，解码时保持不变；
        hidden: ``(num_layers, b, num_hiddens)`` 解码器 GRU 的隐状态。
    参数含义同 :class:`Seq2SeqEncoder`（``vocab_size`` 是目标词表大小）。
    """

    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers=1,
                 dropout=0.0, padding_idx=1):
        super().__init__()
        self.vocab_size, self.num_hiddens = vocab_size, num_hiddens
        self.num_layers = num_layers
        self.embedding, self.dropout, self.rnn, self.dense = _decoder_layers(
            vocab_size, embed_size, num_hiddens, num_layers, dropout, padding_idx)

    def init_state(self, enc_outputs, enc_valid_lens):
        _, enc_state = enc_outputs  # (num_layers, b, num_hiddens)
        self._check_state(enc_state)
        return enc_state[-1], enc_state  # context: (b, num_hiddens)

    def forward(self, X, state):
        """``X`` ``(b, steps)`` → ``(logits (b, steps, vocab_size), 新状态)``。"""
        check_tokens(X, "X")
        context, hidden = state
        emb = self.dropout(self.embedding(X))  # (b, steps, embed_size)
        steps = X.shape[1]
        context_steps = context.unsqueeze(1).expand(-1, steps, -1)  # (b, steps, h)
        outputs, hidden = self.rnn(torch.cat((emb, context_steps), dim=2), hidden)
        logits = self.dense(self.dropout(outputs))  # (b, steps, vocab_size)
        return logits, (context, hidden)  # 上下文不变；新的隐状态，不改动 state

    def reorder_state(self, state, index):
        context, hidden = state
        index = index.to(context.device)
        return context.index_select(0, index), hidden.index_select(1, index)

    def _check_state(self, enc_state):
        expected = (self.num_layers, self.num_hiddens)
        if (enc_state.shape[0], enc_state.shape[-1]) != expected:
            raise ValueError(f"编码器状态的形状 {tuple(enc_state.shape)} 与解码器"
                             f"不匹配：应为 ({self.num_layers}, batch_size, "
                             f"{self.num_hiddens})")


def _check_sizes(vocab_size, embed_size, num_hiddens, num_layers):
    for name, value in [("vocab_size", vocab_size), ("embed_size", embed_size),
                        ("num_hiddens", num_hiddens), ("num_layers", num_layers)]:
        check_positive_int(value, name)


def _decoder_layers(vocab_size, embed_size, num_hiddens, num_layers, dropout,
                    padding_idx):
    """GRU 解码器共用的层（本模块与 Bahdanau 解码器）：嵌入、暂退、输入为嵌入与
    上下文拼接的多层 GRU、输出层。按这个顺序创建（参数初始化的顺序）。"""
    _check_sizes(vocab_size, embed_size, num_hiddens, num_layers)
    embedding = nn.Embedding(vocab_size, embed_size, padding_idx=padding_idx)
    rnn = nn.GRU(embed_size + num_hiddens, num_hiddens, num_layers,
                 batch_first=True, dropout=dropout if num_layers > 1 else 0.0)
    dense = nn.Linear(num_hiddens, vocab_size)
    return embedding, nn.Dropout(dropout), rnn, dense


def _source_lengths(valid_lens, X):
    """源序列的有效长度 ``(b,)``，检查后转成 CPU 上的 int64（打包序列要求）。"""
    check_lengths(valid_lens, "valid_lens")
    if valid_lens.shape != (X.shape[0],):
        raise ValueError(f"valid_lens 的形状应为 ({X.shape[0]},)，"
                         f"实际为 {tuple(valid_lens.shape)}")
    lengths = valid_lens.to("cpu", torch.int64)
    if lengths.min() < 1 or lengths.max() > X.shape[1]:
        raise ValueError(f"valid_lens 应在 1 到 num_steps={X.shape[1]} 之间，"
                         f"实际范围 [{int(lengths.min())}, {int(lengths.max())}]")
    return lengths


def build_seq2seq(src_vocab, tgt_vocab, embed_size=256, num_hiddens=256,
                  num_layers=2, dropout=0.1, decoder_class=None):
    """按两个词表构造 GRU 序列到序列模型（:class:`seqbook.EncoderDecoder`）。

    ``decoder_class`` 默认 :class:`Seq2SeqDecoder`；第 3 章换成
    :class:`seqbook.BahdanauDecoder`（见 :func:`seqbook.build_bahdanau`）。
    """
    if any(len(v) < 4 or PAD not in v for v in (src_vocab, tgt_vocab)):
        raise ValueError("src_vocab 与 tgt_vocab 应含有 <pad>、<bos>、<eos> "
                         "等保留词元")
    decoder_class = Seq2SeqDecoder if decoder_class is None else decoder_class
    encoder = Seq2SeqEncoder(len(src_vocab), embed_size, num_hiddens, num_layers,
                             dropout, padding_idx=src_vocab[PAD])
    decoder = decoder_class(len(tgt_vocab), embed_size, num_hiddens, num_layers,
                            dropout, padding_idx=tgt_vocab[PAD])
    return EncoderDecoder(encoder, decoder)
