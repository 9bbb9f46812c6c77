"""第 5 章 GPT 的数据：按首划分好的诗、分词器、训练用的词元流与留出的评估诗。

顺序固定：先按首划分（:func:`seqbook.load_poems`），再只用训练诗建立分词器和词元流；
测试诗的任何内容都不进入训练。每首诗编码为 ``<bos> 正文 <eos>``，
训练诗首尾相接成一条词元流，训练时从中随机截取窗口（与 nanoGPT 相同）。
"""

import dataclasses
import hashlib

import torch

from .._checks import check_positive_int
from .bpe import BPETokenizer
from .poetry import is_clean, load_poems, poems_fingerprint
from .tokenizers import CharTokenizer

TOKENIZERS = ("char", "bpe")


@dataclasses.dataclass
class PoemCorpus:
    """一个诗词语料：``train`` / ``test`` 诗（:class:`seqbook.Poem` 的列表）、
    ``tokenizer``、训练诗的词元流 ``stream`` ``(N,)`` 与 ``fingerprint``
    （诗与分词器的 SHA-1，训练缓存的键）。"""
    name: str
    train: list
    test: list
    tokenizer: object
    stream: torch.Tensor
    fingerprint: str

    def encode_poem(self, text):
        """``<bos> 正文 <eos>`` 的词元索引列表。"""
        tok = self.tokenizer
        return [tok.bos_id] + tok.encode(text) + [tok.eos_id]

    def heldout(self, min_chars=1, max_chars=62, limit=None):
        """留出的评估诗：测试诗中只含汉字与常用句读、每个字都在字符词表里
        （字符与 BPE 两种分词在同一组诗上比较）、字数在
        ``[min_chars, max_chars]`` 之内的诗正文，按原顺序，至多 ``limit`` 首。"""
        known = set(self.tokenizer.chars)  # BPE 的基础字符与字符词表相同
        texts = [p.text for p in self.test if is_clean(p)
                 and min_chars <= len(p.text) <= max_chars and set(p.text) <= known]
        return texts[:limit]


def build_tokenizer(kind, texts, min_frequency=5, num_merges=2000):
    """在训练诗上建立分词器。``"char"``：出现不少于 ``min_frequency`` 次的字，其余
    映射为 ``<unk>``；``"bpe"``：同样的基础字（其余走字节回退）加 ``num_merges``
    条合并。"""
    if kind == "char":
        return CharTokenizer.train(texts, min_frequency, unknown="unk")
    if kind == "bpe":
        return BPETokenizer.train(texts, num_merges=num_merges,
                                  min_frequency=min_frequency)
    raise ValueError(f"tokenizer 应为 {TOKENIZERS} 之一，实际得到 {kind!r}")


def load_poem_corpus(corpus="tang", tokenizer="char", min_frequency=5,
                     num_merges=2000, poems=None, base_tokenizer=None):
    """读入诗词语料（先按首划分），建立分词器与训练词元流，
    返回 :class:`PoemCorpus`。

    参数：
        corpus: ``"tang"``（全唐诗）或 ``"song"``（宋词）。
        tokenizer: ``"char"`` 或 ``"bpe"``（见 :func:`build_tokenizer`）。
        poems: 已划分好的 ``(train, test)``（训练诗只留 :func:`seqbook.is_clean`
            的）；给出时不再读文件（例如只取宋词的一个
            子集）。
        base_tokenizer: 沿用的分词器（在唐诗上预训练的模型去适配宋词时，必须用
            预训练时的分词器）；给出时忽略 ``tokenizer`` 等参数。
    """
    train, test = load_poems(corpus) if poems is None else poems
    train = [p for p in train if is_clean(p)]  # 去掉带校勘注释、缺字符号的诗
    texts = [p.text for p in train]
    tok = (build_tokenizer(tokenizer, texts, min_frequency, num_merges)
           if base_tokenizer is None else base_tokenizer)
    ids = []
    for t in texts:
        ids += [tok.bos_id] + tok.encode(t) + [tok.eos_id]
    stream = torch.tensor(ids, dtype=torch.long)
    h = hashlib.sha1(poems_fingerprint(train).encode())
    h.update(poems_fingerprint(test).encode())
    h.update(tok.fingerprint.encode())
    return PoemCorpus(corpus, train, test, tok, stream, h.hexdigest())


def lm_windows(stream, batch_size, seq_len, generator=None):
    """从词元流中随机截取 ``batch_size`` 个长 ``seq_len + 1`` 的窗口，返回
    ``(X, Y)``，各 ``(batch_size, seq_len)``，Y 是 X 右移一位（下一个词元）。"""
    check_positive_int(batch_size, "batch_size")
    check_positive_int(seq_len, "seq_len")
    if len(stream) < seq_len + 1:
        raise ValueError(f"词元流只有 {len(stream)} 个词元，截不出长 "
                         f"seq_len + 1 = {seq_len + 1} 的窗口")
    starts = torch.randint(0, len(stream) - seq_len, (batch_size,),
                           generator=generator)  # (b,)
    idx = starts[:, None] + torch.arange(seq_len + 1)  # (b, seq_len + 1)
    windows = stream[idx]
    return windows[:, :-1], windows[:, 1:]
