"""书中训练的模型的设置：每种模型一个小数据类，``build_for(data)`` 构造模型，
``train(model, data, device)`` 训练它；:func:`train_or_load` 按设置训练一次并缓存，
之后直接载入。"""

import dataclasses
import hashlib

import torch

from ..models.bahdanau import BahdanauDecoder
from ..models.seq2seq import Seq2SeqDecoder, build_seq2seq
from ..models.transformer import build_transformer
from ..utils import get_device, set_seed
from .checkpoint import load_or_train
from .seq2seq import train_seq2seq
from .trainer import TrainResult


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """各模型设置共用的训练部分（:func:`train_or_load` 用它们调用训练循环）。"""
    lr: float = 0.005
    batch_size: int = 128
    num_epochs: int = 5
    lr_decay: str = None
    seed: int = 0  # None：沿用调用者的随机数状态

    def build_for(self, data):
        """为数据 ``data``（:class:`seqbook.TranslationData`）构造模型。"""
        return self.build(data.src_vocab, data.tgt_vocab)

    def train(self, model, data, device):
        """训练 ``model``，返回 :class:`TrainResult`。"""
        return train_seq2seq(model, data, self.num_epochs, self.lr, device,
                             self.batch_size, lr_decay=self.lr_decay, plot=False)


@dataclasses.dataclass(frozen=True)
class Seq2SeqConfig(TrainConfig):
    """GRU 编码器-解码器；``attention=True`` 时解码器带 Bahdanau 注意力
    （第 3 章）。"""
    embed_size: int = 128
    num_hiddens: int = 256
    num_layers: int = 1
    dropout: float = 0.2
    attention: bool = False
    name: str = "gru-seq2seq-cmn"  # 缓存中检查点的名字

    def build(self, src_vocab, tgt_vocab):
        decoder = BahdanauDecoder if self.attention else Seq2SeqDecoder
        return build_seq2seq(src_vocab, tgt_vocab, self.embed_size,
                             self.num_hiddens, self.num_layers, self.dropout,
                             decoder_class=decoder)


@dataclasses.dataclass(frozen=True)
class TransformerConfig(TrainConfig):
    """英译中 Transformer（第 3 章）：宽度 128，4 个头，编码器与解码器各 2 层。"""
    lr: float = 0.004
    num_epochs: int = 6
    lr_decay: str = "cosine"
    seed: int = None  # 沿用调用者的随机数状态（第 3 章在节首设定种子）
    num_hiddens: int = 128
    ffn_num_hiddens: int = 256
    num_heads: int = 4
    num_layers: int = 2
    dropout: float = 0.1
    norm_first: bool = True
    name: str = "transformer-cmn"

    def build(self, src_vocab, tgt_vocab):
        return build_transformer(src_vocab, tgt_vocab, self.num_hiddens,
                                 self.ffn_num_hiddens, self.num_heads,
                                 self.num_layers, self.dropout,
                                 norm_first=self.norm_first)


# 英译中 GRU seq2seq（第 2 章“序列到序列学习”）：两核 CPU 上训练约 90 秒
GRU_CMN_CONFIG = Seq2SeqConfig()
# 英译中 Bahdanau 注意力（第 3 章）：训练时间与 GRU seq2seq 相近
BAHDANAU_CMN_CONFIG = Seq2SeqConfig(embed_size=256, dropout=0.1, attention=True,
                                    batch_size=64, num_epochs=4, lr_decay="cosine",
                                    name="bahdanau-cmn")
TRANSFORMER_CMN_CONFIG = TransformerConfig()


def train_or_load(config, data, device=None):
    """按 ``config`` 构造模型并训练；同样的设置与数据训练过一次后直接从缓存载入。

    ``config`` 是一个设置
    （如 :class:`Seq2SeqConfig`、:class:`seqbook.BERTConfig`），
    提供 ``build_for(data)`` 与 ``train(model, data, device)``；``data``
    有``fingerprint``。

    ``config.seed`` 为 None 时不重设种子，沿用调用者此刻的随机数状态，它的指纹
    进入缓存的键。返回 ``(model, result, loaded)``：模型（``eval`` 模式）、
    :class:`TrainResult`（两条路径完全相同）与是否来自缓存。
    """
    device = get_device() if device is None else device
    if config.seed is not None:
        set_seed(config.seed)
    key = {**dataclasses.asdict(config), "data": data.fingerprint,
           "rng": _rng_fingerprint() if config.seed is None else None}
    model = config.build_for(data).to(device)

    def train():
        return dataclasses.asdict(config.train(model, data, device))

    record, loaded = load_or_train(config.name, key, model, train, device)
    model.eval()
    return model, TrainResult(**record), loaded


def _rng_fingerprint():
    """PyTorch 全局随机数状态（CPU 与各 GPU）的 SHA-1。"""
    h = hashlib.sha1(torch.get_rng_state().numpy().tobytes())
    if torch.cuda.is_available():
        for state in torch.cuda.get_rng_state_all():
            h.update(state.numpy().tobytes())
    return h.hexdigest()
