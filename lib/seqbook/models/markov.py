"""束搜索一节的玩具模型：用固定的条件概率表充当解码器的马尔可夫模型。"""

import torch

from .encoder_decoder import Decoder, Encoder, EncoderDecoder


class _IdentityEncoder(Encoder):
    def forward(self, X, valid_lens):
        return X


class MarkovDecoder(Decoder):
    """玩具解码器：下一个词元的分布只取决于上一个词元，由一张已知的概率表给出。

    参数：``probs`` ``(vocab_size, vocab_size)``，第 ``i`` 行是上一个词元为 ``i``
        时下一个词元的分布。
    状态是嵌套的字典 ``{"step": (batch_size,), "history": ((batch_size, t),)}``，
    用来演示解码器对嵌套状态的支持（``history`` 记录已输入的词元，
    不改动传入的状态）。"""

    def __init__(self, probs):
        super().__init__()
        probs = torch.as_tensor(probs, dtype=torch.float32)
        if probs.dim() != 2 or probs.shape[0] != probs.shape[1]:
            raise ValueError("probs 应为 (vocab_size, vocab_size) 的方阵，实际为 "
                             f"{tuple(probs.shape)}")
        self.register_buffer("log_probs", probs.clamp(min=1e-30).log())
        self.vocab_size = probs.shape[0]

    def init_state(self, enc_outputs, enc_valid_lens):
        batch_size = enc_outputs.shape[0]
        empty = torch.empty((batch_size, 0), dtype=torch.long,
                            device=enc_outputs.device)
        return {"step": torch.zeros(batch_size, dtype=torch.long,
                                    device=enc_outputs.device),
                "history": (empty,)}

    def forward(self, X, state):
        # (batch_size, steps, vocab_size)
        logits = self.log_probs[X]
        new_state = {"step": state["step"] + X.shape[1],
                     "history": (torch.cat([state["history"][0], X], dim=1),)}
        return logits, new_state


def markov_model(probs):
    """由概率表构造一个玩具 :class:`seqbook.EncoderDecoder`（编码器原样返回输
    入）。"""
    return EncoderDecoder(_IdentityEncoder(), MarkovDecoder(probs))
