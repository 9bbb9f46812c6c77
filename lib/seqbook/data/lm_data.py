"""语言模型的数据：训练/验证划分，以及把长序列切成小批量的两种迭代器。

两种迭代器产生的每个小批量都是 ``(X, Y)``，形状都是 ``(batch_size, num_steps)``，
``Y`` 是 ``X`` 在原序列中右移一个位置的结果（下一个词元就是标签）。

- 随机采样（random sampling）：每轮随机选一个起始偏移，把序列切成互不重叠的子序列并
  打乱；相邻的两个小批量在原文中不相邻，所以训练时每个小批量都要重新初始化隐状态。
- 顺序分区（sequential partitioning）：每轮随机选一个起始偏移，把序列均分成
  ``batch_size`` 段，第 ``b+1`` 个小批量的第 ``i`` 行紧接着第 ``b`` 个小批量的第
  ``i`` 行，所以隐状态可以在小批量之间传下去（并在两个小批量之间截断梯度）。
"""

import collections
import math

import torch

from .._checks import (
    check_index,
    check_positive_int,
    check_positive_number,
    check_probability,
)
from .text import load_corpus_time_machine


def ngram_perplexity(train_corpus, val_corpus, n, vocab_size, alpha=1.0):
    """用计数估计的 n 元语法模型在 ``val_corpus`` 上的困惑度。

    ``P(x | 前 n-1 个词元)
    = (计数(前文, x) + alpha) / (计数(前文) + alpha * vocab_size)``，
    ``alpha = 1`` 即拉普拉斯平滑。计数只来自 ``train_corpus``；对 ``val_corpus``
    中第``n-1`` 个及以后的每个词元求平均负对数似然，再取指数。
    """
    check_positive_int(n, "n")
    check_positive_number(alpha, "alpha")  # 否则没见过的 n 元组概率为 0
    if len(val_corpus) < n:
        raise ValueError(f"val_corpus 至少要有 n={n} 个词元")
    train, val = list(train_corpus), list(val_corpus)
    starts = range(len(train) - n + 1)
    joint = collections.Counter(tuple(train[i:i + n]) for i in starts)
    # 只数后面还跟着一个词元的前文，保证 sum_x 计数(前文, x) = 计数(前文)
    context = collections.Counter(tuple(train[i:i + n - 1]) for i in starts)
    nll = 0.0
    for i in range(n - 1, len(val)):
        gram = tuple(val[i - n + 1:i + 1])
        p = (joint[gram] + alpha) / (context[gram[:-1]] + alpha * vocab_size)
        nll -= math.log(p)
    return math.exp(nll / (len(val) - n + 1))


def split_corpus(corpus, val_fraction=0.1):
    """把词元序列按位置切成训练部分和验证部分：最后 ``val_fraction`` 的词元（连续的
    一段）留作验证，不参与训练。返回 ``(train_corpus, val_corpus)``。"""
    check_probability(val_fraction, "val_fraction", low_open=True, high_open=True)
    num_val = int(round(len(corpus) * val_fraction))
    if num_val < 2 or len(corpus) - num_val < 2:
        raise ValueError(f"语料库只有 {len(corpus)} 个词元，按 "
                         f"val_fraction={val_fraction} "
                         "切分后训练或验证部分少于 2 个词元")
    return corpus[:-num_val], corpus[-num_val:]


def _check_sizes(corpus, batch_size, num_steps, random_iter):
    """检查参数，并保证无论随机偏移取多少，每轮都至少有一个完整的小批量。"""
    check_positive_int(batch_size, "batch_size")
    check_positive_int(num_steps, "num_steps")
    # 最坏情况下偏移为 num_steps - 1，剩下 len(corpus) - num_steps + 1 个词元可用
    usable = len(corpus) - (num_steps - 1) - 1  # 减去偏移，再减 1 给标签 Y 留位置
    needed = batch_size * num_steps + num_steps
    if random_iter:
        ok = usable // num_steps >= batch_size
    else:
        ok = usable // batch_size >= num_steps
    if not ok:
        raise ValueError(f"语料库只有 {len(corpus)} 个词元，放不下一个 "
                         f"batch_size={batch_size}、"
                         f"num_steps={num_steps} 的小批量（至少需要 {needed} "
                         "个词元）；"
                         "请减小 batch_size 或 num_steps")


def _offset(num_steps, generator, offset):
    """起始偏移：``offset`` 为 None 时在 ``[0, num_steps)`` 中随机取一个。"""
    if offset is None:
        return int(torch.randint(0, num_steps, (1,), generator=generator))
    return check_index(offset, "offset", num_steps)


def seq_data_iter_random(corpus, batch_size, num_steps, generator=None,
                         offset=None):
    """随机采样：生成 ``(X, Y)``，形状都是 ``(batch_size, num_steps)``。

    一轮之内，各子序列互不重叠；最后不足一个小批量的子序列被丢弃。随机数来自
    ``generator``（``torch.Generator``），不给时用 PyTorch 的全局随机数生成器；
    ``offset`` 给定时不再随机选起始偏移。
    """
    # 调用时立即检查，而不是迭代时
    _check_sizes(corpus, batch_size, num_steps, random_iter=True)
    offset = _offset(num_steps, generator, offset)  # 随机偏移：每轮的切分位置都不同
    corpus = torch.as_tensor(corpus, dtype=torch.long)  # (num_tokens,)
    return _random_batches(corpus, batch_size, num_steps, generator, offset)


def _random_batches(corpus, batch_size, num_steps, generator, offset):
    # 减 1：最后一个词元只能作标签
    num_subseqs = (len(corpus) - offset - 1) // num_steps
    starts = offset + num_steps * torch.randperm(num_subseqs, generator=generator)
    steps = torch.arange(num_steps)
    for i in range(0, num_subseqs - batch_size + 1, batch_size):
        idx = starts[i:i + batch_size, None] + steps  # (batch_size, num_steps)
        yield corpus[idx], corpus[idx + 1]


def seq_data_iter_sequential(corpus, batch_size, num_steps, generator=None,
                             offset=None):
    """顺序分区：生成 ``(X, Y)``，形状都是 ``(batch_size, num_steps)``。

    第 ``b+1`` 个小批量的第 ``i`` 行在原序列中紧接着第 ``b`` 个小批量的第 ``i`` 行。
    """
    _check_sizes(corpus, batch_size, num_steps, random_iter=False)
    offset = _offset(num_steps, generator, offset)
    return _sequential_batches(torch.as_tensor(corpus, dtype=torch.long),
                               batch_size, num_steps,
                               offset)


def _sequential_batches(corpus, batch_size, num_steps, offset):
    num_tokens = (len(corpus) - offset - 1) // batch_size * batch_size
    # (batch_size, L)
    Xs = corpus[offset:offset + num_tokens].reshape(batch_size, -1)
    # (batch_size, L)
    Ys = corpus[offset + 1:offset + 1 + num_tokens].reshape(batch_size, -1)
    for i in range(0, Xs.shape[1] - num_steps + 1, num_steps):
        yield Xs[:, i:i + num_steps], Ys[:, i:i + num_steps]


class SeqDataLoader:
    """可以反复遍历的小批量迭代器：每次 ``iter()`` 开始新的一轮（新的随机偏移）。

    参数：
        corpus: 整数索引的序列。
        batch_size, num_steps: 小批量大小与时间步数。
        use_random_iter: ``True`` 用随机采样，``False`` 用顺序分区。训练循环读取这个
            属性决定是否在小批量之间保留隐状态，所以“随机采样”的训练一定用的是随机采
            样。
        seed: 给定时用自己的随机数生成器（可复现且不影响全局随机数）；``None``
            时用全局的。
    """

    def __init__(self, corpus, batch_size, num_steps, use_random_iter=False,
                 seed=None):
        _check_sizes(corpus, batch_size, num_steps, random_iter=use_random_iter)
        self.corpus = torch.as_tensor(corpus, dtype=torch.long)  # (num_tokens,)
        self.batch_size, self.num_steps = batch_size, num_steps
        self.use_random_iter = bool(use_random_iter)
        self.generator = None
        if seed is not None:
            self.generator = torch.Generator().manual_seed(seed)
        self.data_iter_fn = (seq_data_iter_random if use_random_iter
                             else seq_data_iter_sequential)

    def __iter__(self):
        return self.data_iter_fn(self.corpus, self.batch_size, self.num_steps,
                                 self.generator)

    def __len__(self):
        """一轮里小批量个数的上界（随偏移不同，实际可能少一个）。"""
        n = len(self.corpus) - 1
        if self.use_random_iter:
            return n // self.num_steps // self.batch_size
        return n // self.batch_size // self.num_steps

    def __repr__(self):
        kind = "随机采样" if self.use_random_iter else "顺序分区"
        return (f"SeqDataLoader({kind}, {len(self.corpus)} 个词元, "
                f"batch_size={self.batch_size}, "
                f"num_steps={self.num_steps})")


class _FixedSequential(SeqDataLoader):
    """偏移固定为 0 的顺序分区：用于验证集，每次评估看到完全相同的小批量。"""

    def __iter__(self):
        return seq_data_iter_sequential(self.corpus, self.batch_size,
                                        self.num_steps, offset=0)


def load_data_time_machine(batch_size, num_steps, use_random_iter=False,
                           token="char", max_tokens=-1, val_fraction=0.1,
                           seed=None):
    """《时间机器》语言模型数据：``(train_iter, val_iter, vocab)``。

    语料库的最后 ``val_fraction``（连续的一段）是验证集，其余是训练集。
    ``train_iter`` 按``use_random_iter`` 随机采样或顺序分区；``val_iter`` 总是偏移为
    0 的顺序分区，每次评估看到同样的数据，隐状态可以在小批量之间传递。
    """
    corpus, vocab = load_corpus_time_machine(token, max_tokens)
    train_corpus, val_corpus = split_corpus(corpus, val_fraction)
    train_iter = SeqDataLoader(train_corpus, batch_size, num_steps,
                               use_random_iter, seed)
    val_iter = _FixedSequential(val_corpus, batch_size, num_steps,
                                use_random_iter=False)
    return train_iter, val_iter, vocab
