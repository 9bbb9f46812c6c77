"""编码器-解码器架构的接口：``Encoder``、``Decoder``、``EncoderDecoder``。

本书所有的序列到序列模型（GRU seq2seq、Bahdanau 注意力、Transformer）都遵守这组接
口，所以同一个训练循环 :func:`seqbook.train_seq2seq`、同一组解码器
:func:`seqbook.greedy_search` / :func:`seqbook.beam_search` 和同一个 BLEU 评估
:func:`seqbook.evaluate_bleu` 对它们都适用。

接口约定（形状一律批量在前）::

    encoder(X, valid_lens) -> enc_outputs     # X: (batch_size, num_steps) 整数
    decoder.init_state(enc_outputs, enc_valid_lens) -> state
    decoder(X, state) -> (logits, new_state)  # X: (batch_size, steps) 整数
                              # logits: (batch_size, steps, vocab_size)
    decoder.reorder_state(state, index) -> state
                              # index: (new_batch_size,) 选出批量中的行
    EncoderDecoder(encoder, decoder)(enc_X, enc_valid_lens, dec_X) -> logits

- ``enc_outputs`` 与 ``state`` 可以是任意结构：张量、``None``，或由它们组成的嵌套
  tuple / list / dict（例如 Transformer 每层的键值缓存）。
- ``decoder.forward`` **不得原地修改** ``state``，必须返回新的状态；这样束搜索才能安
  全地保留、复制和重排状态。
- 强制教学的整段前向 ``decoder(dec_X, init_state)`` 与逐步解码（每次输入
  ``(batch_size, 1)``并把返回的状态传给下一步）必须给出相同的 logits。
- 默认的 :meth:`Decoder.reorder_state` 假定状态里每个张量的第 0 维是批量维；
  批量维不在第 0 维的解码器（如 ``nn.GRU`` 的隐状态
  ``(num_layers, batch_size, h)``）要重写它。
"""

import torch
from torch import nn


def map_state(fn, state):
    """对嵌套状态中的每个张量调用 ``fn``，保持结构不变，返回新结构。

    ``state`` 可以是张量、``None``、数字，或由它们组成的嵌套 tuple / list / dict；
    非张量的叶子原样保留。
    """
    if torch.is_tensor(state):
        return fn(state)
    if isinstance(state, tuple) and hasattr(state, "_fields"):  # namedtuple
        return type(state)(*(map_state(fn, s) for s in state))
    if isinstance(state, (tuple, list)):
        return type(state)(map_state(fn, s) for s in state)
    if isinstance(state, dict):
        return type(state)((k, map_state(fn, v)) for k, v in state.items())
    return state


def select_batch(state, index, dim=0):
    """从嵌套状态的每个张量中沿第 ``dim`` 维（批量维）选出 ``index`` 指定的行。

    参数：
        state: 张量或嵌套的 tuple / list / dict。
        index: ``(new_batch_size,)`` 的整数张量，可以重复（束搜索把一句复制成多条候
            选）。
        dim: 批量维的位置。
    返回：结构相同的新状态，批量维长度变为 ``new_batch_size``。
    """
    if not torch.is_tensor(index) or index.dim() != 1 \
            or index.dtype not in (torch.int64, torch.int32):
        raise TypeError("index 应为一维整数张量 (new_batch_size,)，"
                        f"实际得到 {type(index).__name__} "
                        f"{getattr(index, 'shape', '')}")
    return map_state(lambda t: t.index_select(dim, index.to(t.device)), state)


def vocab_sizes(part):
    """编码器或解码器能处理的词表大小：``{来源: 大小}``，看不出来时为空字典。

    每种模型都能这样回答：``vocab_size`` 属性（GRU seq2seq、Bahdanau、玩具解码器）、
    第一个嵌入层（词元嵌入）的 ``num_embeddings``（Transformer 也有），
    以及解码器输出层``dense`` 的 ``out_features``。
    """
    sizes = {}
    if isinstance(getattr(part, "vocab_size", None), int):
        sizes["vocab_size"] = part.vocab_size
    embeddings = (m for m in part.modules() if isinstance(m, nn.Embedding))
    embedding = next(embeddings, None)
    if embedding is not None:
        sizes["嵌入层"] = embedding.num_embeddings
    if isinstance(getattr(part, "dense", None), nn.Linear):
        sizes["输出层"] = part.dense.out_features
    return sizes


class Encoder(nn.Module):
    """编码器的基类：把源序列编码成 ``enc_outputs``（结构由子类决定）。"""

    def forward(self, X, valid_lens):
        """``X``: ``(batch_size, num_steps)`` 整数张量；``valid_lens``:
        ``(batch_size,)`` 或 ``None``。"""
        raise NotImplementedError


class Decoder(nn.Module):
    """解码器的基类。

    子类实现 :meth:`init_state` 与 :meth:`forward`；若状态中有张量的批量维不在第 0
    维，还要重写 :meth:`reorder_state`。
    """

    def init_state(self, enc_outputs, enc_valid_lens):
        """由编码器的输出构造解码器的初始状态。"""
        raise NotImplementedError

    def forward(self, X, state):
        """``X``: ``(batch_size, steps)`` →
        ``(logits (batch_size, steps, vocab_size), new_state)``。

        不得原地修改 ``state``。
        """
        raise NotImplementedError

    def reorder_state(self, state, index):
        """按 ``index``（``(new_batch_size,)`` 整数张量）重排、复制批量中的行。

        默认实现：状态中的每个张量沿第 0 维选行（见 :func:`select_batch`）。
        """
        return select_batch(state, index, dim=0)


class EncoderDecoder(nn.Module):
    """编码器-解码器：训练时做一次强制教学的整段前向。

    参数：
        encoder: :class:`Encoder` 的实例。
        decoder: :class:`Decoder` 的实例。
    """

    def __init__(self, encoder, decoder):
        super().__init__()
        if not isinstance(encoder, Encoder):
            raise TypeError("encoder 应为 seqbook.Encoder 的实例，实际得到 "
                            f"{type(encoder).__name__}")
        if not isinstance(decoder, Decoder):
            raise TypeError("decoder 应为 seqbook.Decoder 的实例，实际得到 "
                            f"{type(decoder).__name__}")
        self.encoder = encoder
        self.decoder = decoder

    def init_decoder_state(self, enc_X, enc_valid_lens):
        """编码源序列并返回解码器的初始状态（解码器与 :func:`seqbook.greedy_search`
        等共用）。"""
        enc_outputs = self.encoder(enc_X, enc_valid_lens)
        return self.decoder.init_state(enc_outputs, enc_valid_lens)

    def forward(self, enc_X, enc_valid_lens, dec_X):
        """强制教学的整段前向。

        参数：
            enc_X: ``(batch_size, num_steps_src)`` 源序列词元索引。
            enc_valid_lens: ``(batch_size,)`` 源序列有效长度，或 ``None``。
            dec_X: ``(batch_size, num_steps_tgt)`` 解码器输入（``<bos>``
                加上去掉最后一个词元的目标）。
        返回：
            logits: ``(batch_size, num_steps_tgt, vocab_size)``。
        """
        state = self.init_decoder_state(enc_X, enc_valid_lens)
        logits, _ = self.decoder(dec_X, state)
        return logits
