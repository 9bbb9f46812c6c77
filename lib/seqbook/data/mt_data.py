"""机器翻译数据集：读取、清洗、词元化、词表、截断与填充、训练/测试划分、小批量。

主任务是英译中（``cmn-eng``）：英文小写、标点前加空格、按空格切分；中文统一转为简体
（``zhconv``），按字切分（连续的拉丁字母或数字算一个词元，例如 ``Tom``）。
另有经典的英译法设置（``fra-eng`` 的前 600 个句对），便于和《动手学深度学习》对照。

入口是 :func:`load_translation`，返回 :class:`TranslationData`::

    data = load_translation("cmn-eng", num_steps=12, max_tokens=10, num_test=1000)
    for X, X_valid_len, Y, Y_valid_len in data.train_iter(batch_size=64):
        ...   # X: (batch_size, num_steps)，X_valid_len: (batch_size,)，Y 同理

测试集以**英文句子**为单位留出：同一个英文句子的所有中文译文要么都在训练集，
要么都在测试集；测试时每个英文句子用它的全部中文译文作参考译文。
"""

import collections
import dataclasses
import hashlib
import random
import re

import torch

from .._checks import check_nonnegative_int, check_positive_int
from .download import download_extract
from .text import Vocab

PAD, BOS, EOS = "<pad>", "<bos>", "<eos>"


RESERVED_TOKENS = (PAD, BOS, EOS)   # 索引依次为 1、2、3（0 是 <unk>）


_FILES = {"cmn-eng": ("cmn-eng", "cmn.txt"), "fra-eng": ("fra-eng", "fra.txt")}


_PUNCT = set(",.!?;:")


_ZH_TOKEN = re.compile(r"[A-Za-z0-9]+|\S")


def preprocess_english(text):
    """英文（以及法文）的清洗：不间断空格换成空格、转小写、在标点 ``,.!?;:``
    前加空格。

    例：``"Hi, Tom!"`` → ``"hi , tom !"``。
    """
    text = text.replace("\u202f", " ").replace("\xa0", " ").lower()
    out = []
    for i, char in enumerate(text):
        if char in _PUNCT and i > 0 and text[i - 1] != " ":
            out.append(" ")
        out.append(char)
    return " ".join("".join(out).split())


def tokenize_english(text):
    """清洗后按空格切分成单词列表。"""
    return preprocess_english(text).split()


def tokenize_chinese(text):
    """中文按字切分：先用 ``zhconv`` 转成简体，去掉空白；连续的拉丁字母/数字算一个词
    元。

    例：``"湯姆，你好！"`` → ``["汤", "姆", "，", "你", "好", "！"]``；
    ``"Tom喜歡2個"`` → ``["Tom", "喜", "欢", "2", "个"]``。
    """
    import zhconv  # 只在处理中文时需要
    return _ZH_TOKEN.findall(zhconv.convert(text, "zh-cn"))


def read_translation_pairs(name="cmn-eng", num_examples=None):
    """读取并词元化数据集中的句对。

    参数：
        name: ``"cmn-eng"``（英→中）或 ``"fra-eng"``（英→法）。
        num_examples: 只读前多少个句对（恰好这么多个）；``None`` 读全部。
    返回：``(source, target)``，两个等长的列表，每个元素是一个句子的词元列表。
        空的句子（清洗后没有词元）被跳过。
    """
    if name not in _FILES:
        raise ValueError(f"name 应为 {list(_FILES)} 之一，实际得到 {name!r}")
    if num_examples is not None:
        check_positive_int(num_examples, "num_examples")
    folder, filename = _FILES[name]
    path = download_extract(name) / folder / filename
    tokenize_tgt = tokenize_chinese if name == "cmn-eng" else tokenize_english
    source, target = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if num_examples is not None and len(source) >= num_examples:
                break  # 恰好 num_examples 个（经典实现在这里多读一个）
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 2:
                continue
            src, tgt = tokenize_english(parts[0]), tokenize_tgt(parts[1])
            if src and tgt:
                source.append(src)
                target.append(tgt)
    return source, target


def truncate_pad(line, num_steps, padding_token):
    """把一个词元（或索引）列表截断或填充到恰好 ``num_steps`` 个。"""
    check_positive_int(num_steps, "num_steps")
    if len(line) > num_steps:
        return list(line[:num_steps])
    return list(line) + [padding_token] * (num_steps - len(line))


def build_array(lines, vocab, num_steps):
    """把词元列表的列表变成索引矩阵与有效长度。

    每个句子末尾加 ``<eos>``，再截断/填充到 ``num_steps``；填充只出现在 ``<eos>``
    之后（被截断的句子没有 ``<eos>``）。未知词元映射到 ``<unk>``（索引 0）。
    返回：
        array: ``(num_sentences, num_steps)`` 的 ``int64`` 张量。
        valid_len: ``(num_sentences,)``，每个句子不含填充的长度（含 ``<eos>``）。
    """
    for token in RESERVED_TOKENS:
        if token not in vocab:
            raise ValueError(f"词表缺少保留词元 {token}；请用 "
                             f"reserved_tokens={list(RESERVED_TOKENS)} 构建词表")
    pad = vocab[PAD]
    rows = [truncate_pad(vocab[list(line)] + [vocab[EOS]], num_steps, pad)
            for line in lines]
    array = torch.tensor(rows, dtype=torch.long).reshape(len(rows), num_steps)
    valid_len = torch.tensor([min(len(line) + 1, num_steps) for line in lines],
                             dtype=torch.long)
    return array, valid_len


def split_by_source(source, target, num_test, seed=0):
    """按源句子划分训练集与测试集：同一个源句子的所有句对都落在同一边。

    参数：
        source, target: 等长的词元列表的列表。
        num_test: 留作测试的**不同源句子**的个数（0 表示不留测试集）。
        seed: 随机种子；相同的数据与种子给出相同的划分。
    返回：
        train: ``[(src_tokens, tgt_tokens), ...]``，训练句对（保持原文件顺序）。
        test: ``[(src_tokens, [ref_tokens, ...]), ...]``，每个测试源句子与它的全部参
            考译文，按源句子在文件中首次出现的顺序排列。
    """
    if len(source) != len(target):
        raise ValueError(f"source 与 target 应等长，实际为 {len(source)} 与 "
                         f"{len(target)}")
    groups = collections.OrderedDict()   # 源句子 → 它的全部译文
    for src, tgt in zip(source, target):
        groups.setdefault(tuple(src), []).append(list(tgt))
    if check_nonnegative_int(num_test, "num_test") >= len(groups):
        raise ValueError(f"num_test 应为 0 到 {len(groups) - 1} 之间的整数"
                         f"（共有 {len(groups)} 个不同的源句子），实际得到 "
                         f"{num_test!r}")
    keys = list(groups)
    test_keys = set(random.Random(seed).sample(keys, num_test))
    train = [(list(src), tgt) for src, tgt in zip(source, target)
             if tuple(src) not in test_keys]
    test = [(list(key), groups[key]) for key in keys if key in test_keys]
    return train, test


@dataclasses.dataclass
class TranslationData:
    """一个划分好的翻译数据集。

    属性：
        src_vocab, tgt_vocab: 源语言与目标语言的词表（只用训练集构建）。
        num_steps: 每个序列截断/填充后的长度（含 ``<eos>``）。
        train_pairs: ``[(src_tokens, tgt_tokens), ...]`` 训练句对。
        test_pairs: ``[(src_tokens, [ref_tokens, ...]), ...]`` 测试源句子与全部参考
            译文。
        src, src_valid_len, tgt, tgt_valid_len: 训练集的索引矩阵
            ``(num_train, num_steps)``与有效长度 ``(num_train,)``。
        fingerprint: 数据内容（句对、词表、num_steps）的 SHA-1，用于缓存训练好的模
            型。
    """
    src_vocab: Vocab
    tgt_vocab: Vocab
    num_steps: int
    train_pairs: list
    test_pairs: list
    src: torch.Tensor
    src_valid_len: torch.Tensor
    tgt: torch.Tensor
    tgt_valid_len: torch.Tensor
    fingerprint: str

    def __len__(self):
        return len(self.train_pairs)

    def train_iter(self, batch_size, shuffle=True, bucket=True, trim=True,
                   generator=None):
        """训练集的小批量迭代器，每次给出 ``(X, X_valid_len, Y, Y_valid_len)``。

        参数：
            batch_size: 批量大小（正整数）。
            shuffle: 是否打乱。
            bucket: 按长度分桶——先打乱，再在每 ``50 * batch_size`` 个句对的块内按
                长度排序切成批量，最后打乱批量的顺序；同一批量中的句子长度相近，
                填充更少，训练更快。
            trim: 把每个批量截掉只含填充的尾部列（``X`` 截到批内最长的源句子，``Y``
                同理），减少无用的计算；模型的输出与损失不受影响。
            generator: ``torch.Generator``，默认用全局随机数生成器（受 ``set_seed``
                控制）。
        形状：``X``: ``(batch_size, <=num_steps)``，``X_valid_len``:
            ``(batch_size,)``，``Y``、``Y_valid_len`` 同理。
        """
        check_positive_int(batch_size, "batch_size")
        n = len(self.train_pairs)
        if shuffle:
            order = torch.randperm(n, generator=generator)
        else:
            order = torch.arange(n)
        if bucket:
            chunk = 50 * batch_size
            lengths = self.src_valid_len * (self.num_steps + 1) + self.tgt_valid_len
            batches = []
            for start in range(0, n, chunk):
                idx = order[start:start + chunk]
                idx = idx[torch.argsort(lengths[idx], stable=True)]
                batches += list(idx.split(batch_size))
            if shuffle:
                perm = torch.randperm(len(batches), generator=generator).tolist()
                batches = [batches[i] for i in perm]
        else:
            batches = list(order.split(batch_size))
        for idx in batches:
            X, X_len, Y, Y_len = (self.src[idx], self.src_valid_len[idx],
                                  self.tgt[idx], self.tgt_valid_len[idx])
            if trim:
                X, Y = X[:, :int(X_len.max())], Y[:, :int(Y_len.max())]
            yield X, X_len, Y, Y_len


def _fingerprint(train_pairs, test_pairs, src_vocab, tgt_vocab, num_steps):
    h = hashlib.sha1()
    for part in (train_pairs, test_pairs, src_vocab.idx_to_token,
                 tgt_vocab.idx_to_token, num_steps):
        h.update(repr(part).encode("utf-8"))
    return h.hexdigest()


def load_translation(name="cmn-eng", num_steps=12, max_tokens=10, num_test=1000,
                     min_freq=2, num_examples=None, seed=0):
    """读取、清洗、划分一个翻译数据集，返回 :class:`TranslationData`。

    参数：
        name: ``"cmn-eng"``（英→中，中文按字）或 ``"fra-eng"``（英→法）。
        num_steps: 序列截断/填充后的长度（含 ``<eos>``），正整数。
        max_tokens: 只保留两边都不超过这么多词元的句对；``None`` 不过滤。
        num_test: 留作测试的不同英文句子数；``0`` 不留测试集。
        min_freq: 词表的最小词频，训练集里出现更少的词元映射到 ``<unk>``。
        num_examples: 只读文件的前这么多个句对（恰好这么多），``None`` 读全部。
        seed: 划分测试集的随机种子。
    """
    check_positive_int(num_steps, "num_steps")
    if max_tokens is not None:
        check_positive_int(max_tokens, "max_tokens")
    source, target = read_translation_pairs(name, num_examples)
    if max_tokens is not None:
        keep = [i for i in range(len(source))
                if len(source[i]) <= max_tokens and len(target[i]) <= max_tokens]
        source, target = [source[i] for i in keep], [target[i] for i in keep]
    train, test = split_by_source(source, target, num_test, seed)
    src_vocab = Vocab([s for s, _ in train], min_freq=min_freq,
                      reserved_tokens=RESERVED_TOKENS)
    tgt_vocab = Vocab([t for _, t in train], min_freq=min_freq,
                      reserved_tokens=RESERVED_TOKENS)
    src, src_valid_len = build_array([s for s, _ in train], src_vocab, num_steps)
    tgt, tgt_valid_len = build_array([t for _, t in train], tgt_vocab, num_steps)
    return TranslationData(src_vocab, tgt_vocab, num_steps, train, test,
                           src, src_valid_len, tgt, tgt_valid_len,
                           _fingerprint(train, test, src_vocab, tgt_vocab,
                                        num_steps))


def encode_source(sentences, src_vocab, num_steps):
    """把要翻译的源句子变成模型输入。

    参数：
        sentences: 一个句子字符串，或句子的列表；列表的元素是字符串（会用
            :func:`tokenize_english` 清洗切分）或已经切好的词元列表。
        src_vocab: 源语言词表；不在词表中的词元映射到 ``<unk>``。
        num_steps: 截断/填充后的长度。
    返回：``(X, valid_len)``：``(batch_size, num_steps)`` 与 ``(batch_size,)``。
    空句子（没有任何词元）抛出 ``ValueError``。
    """
    if isinstance(sentences, str):
        sentences = [sentences]
    if not isinstance(sentences, (list, tuple)) or not sentences:
        raise ValueError("sentences 应为非空的句子列表（字符串或词元列表）")
    lines = []
    for i, s in enumerate(sentences):
        tokens = tokenize_english(s) if isinstance(s, str) else list(s)
        if not tokens:
            raise ValueError(f"第 {i} 个源句子为空：至少需要一个词元才能翻译")
        lines.append(tokens)
    return build_array(lines, src_vocab, num_steps)
