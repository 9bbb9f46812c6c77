"""Bahdanau 注意力：解码器每一步用上一步的隐状态作查询，对编码器各时间步的输出
做加性注意力。

编码器沿用 :class:`seqbook.Seq2SeqEncoder`；解码器 :class:`BahdanauDecoder` 遵守
:class:`seqbook.Decoder` 接口，所以 :func:`seqbook.train_seq2seq`、
:func:`seqbook.greedy_search`、:func:`seqbook.beam_search` 与
:func:`seqbook.evaluate_bleu` 不加修改就能用。
"""

import torch

from .._checks import check_positive_int, check_tokens
from .attention import AdditiveAttention
from .encoder_decoder import Decoder
from .seq2seq import _decoder_layers, build_seq2seq


class BahdanauDecoder(Decoder):
    """带 Bahdanau（加性）注意力的 GRU 解码器。

    每个时间步 t：
        1. 查询 = 解码器顶层上一步的隐状态 ``(batch_size, 1, num_hiddens)``；
        2. 键 = 值 = 编码器顶层各时间步的输出 ``(batch_size, num_src_steps,
           num_hiddens)``，填充位置由 ``enc_valid_lens`` 掩蔽；注意力汇聚得到
           上下文变量 ``c_t``；
        3. ``[c_t, 嵌入(y_{t-1})]`` 输入 GRU，顶层输出经全连接层得到 logits。

    状态是四元组 ``(enc_outputs, projected_keys, hidden, enc_valid_lens)``：
        enc_outputs: ``(batch_size, num_src_steps, num_hiddens)``，键与值；
        projected_keys: ``(batch_size, num_src_steps, num_hiddens)``，键的投影
            ``W_k k``，在 :meth:`init_state` 中每个源句子只算**一次**，解码的每一步
            直接复用；
        hidden: ``(num_layers, batch_size, num_hiddens)``，解码器 GRU 的隐状态；
        enc_valid_lens: ``(batch_size,)`` 或 ``None``。
    ``forward`` 之后 ``self.attention_weights`` 是这次输入的每一步的注意力权重
    ``(batch_size, steps, num_src_steps)``。

    参数：vocab_size（目标词表大小）、embed_size、num_hiddens、num_layers、dropout、
    padding_idx（目标词表中 ``<pad>`` 的索引）。
    """

    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers=1,
                 dropout=0.0, padding_idx=1):
        super().__init__()
        check_positive_int(num_hiddens, "num_hiddens")
        self.vocab_size, self.num_hiddens = vocab_size, num_hiddens
        self.num_layers = num_layers
        self.attention = AdditiveAttention(num_hiddens, num_hiddens, num_hiddens,
                                           dropout)
        # 嵌入、暂退、输入为 [上下文, 嵌入] 的多层 GRU、输出层：同 Seq2SeqDecoder
        self.embedding, self.dropout, self.rnn, self.dense = _decoder_layers(
            vocab_size, embed_size, num_hiddens, num_layers, dropout, padding_idx)
        self.attention_weights = None

    def init_state(self, enc_outputs, enc_valid_lens):
        outputs, hidden = enc_outputs  # (b, num_src_steps, h), (num_layers, b, h)
        self._check_encoder(outputs, hidden)
        # 键的投影每个源句子只算这一次：(b, src, h)
        projected_keys = self.attention.project_keys(outputs)
        return outputs, projected_keys, hidden, enc_valid_lens

    def forward(self, X, state):
        """``X`` ``(b, steps)`` → ``(logits (b, steps, vocab_size), new_state)``，
        不改动 ``state``。"""
        check_tokens(X, "X")
        enc_outputs, projected_keys, hidden, enc_valid_lens = state
        emb = self.dropout(self.embedding(X))  # (b, steps, embed_size)
        outputs, weights = [], []
        for t in range(X.shape[1]):
            query = hidden[-1].unsqueeze(1)  # (b, 1, h)：顶层上一步的隐状态
            context = self.attention(query, enc_outputs, enc_outputs,
                                     enc_valid_lens,
                                     projected_keys=projected_keys)  # (b, 1, h)
            x = torch.cat((context, emb[:, t:t + 1]), dim=-1)  # (b, 1, h + embed)
            out, hidden = self.rnn(x, hidden)  # (b, 1, h)；hidden 是新张量
            outputs.append(out)
            weights.append(self.attention.attention_weights)  # (b, 1, src)
        self.attention_weights = torch.cat(weights, dim=1)  # (b, steps, src)
        outputs = torch.cat(outputs, dim=1)  # (b, steps, h)
        logits = self.dense(self.dropout(outputs))  # (b, steps, vocab_size)
        return logits, (enc_outputs, projected_keys, hidden, enc_valid_lens)

    def reorder_state(self, state, index):
        """束搜索重排批量：GRU 隐状态的批量维在第 1 维，其余在第 0 维。"""
        enc_outputs, projected_keys, hidden, enc_valid_lens = state
        index = index.to(enc_outputs.device)
        lens = enc_valid_lens
        return (enc_outputs.index_select(0, index),
                projected_keys.index_select(0, index),
                hidden.index_select(1, index),
                None if lens is None else lens.index_select(0, index))

    def _check_encoder(self, outputs, hidden):
        if (outputs.dim() != 3 or outputs.shape[-1] != self.num_hiddens
                or hidden.shape[0] != self.num_layers):
            raise ValueError(f"编码器输出的形状 {tuple(outputs.shape)}、"
                             f"{tuple(hidden.shape)} 与解码器不匹配：应为 "
                             f"(batch_size, num_steps, {self.num_hiddens}) 与 "
                             f"({self.num_layers}, batch_size, {self.num_hiddens})")


def build_bahdanau(src_vocab, tgt_vocab, embed_size=256, num_hiddens=256,
                   num_layers=2, dropout=0.1):
    """按两个词表构造带 Bahdanau 注意力的序列到序列模型。

    编码器是 :class:`seqbook.Seq2SeqEncoder`，与第 2 章的 GRU 序列到序列模型相同，
    只是解码器换成 :class:`BahdanauDecoder`。
    """
    return build_seq2seq(src_vocab, tgt_vocab, embed_size, num_hiddens, num_layers,
                         dropout, decoder_class=BahdanauDecoder)
