"""文本预处理：读入《时间机器》、词元化、词表，以及把全文变成索引序列。"""

import collections
import re

from .._checks import check_nonnegative_int, check_positive_int


def preprocess_line(line):
    """把一行文本规范化：非英文字母的字符（标点、数字等）一律换成空格，
    连续空格并成一个，
    去掉首尾空格，全部小写。例如 ``"Time-Machine, 1898!"`` → ``"time machine"``。"""
    return re.sub("[^A-Za-z]+", " ", line).strip().lower()


def read_time_machine(keep_empty=False):
    """读入《时间机器》全文（通过 :func:`seqbook.read_text`），返回规范化后的文本行
    列表。

    每行经 :func:`preprocess_line` 处理，只剩小写字母和单个空格。
    ``keep_empty=False``时去掉处理后为空的行（原文的空行、只有标点或数字的行）。
    """
    from .download import read_text
    text = read_text("time_machine")
    lines = [preprocess_line(line) for line in text.splitlines()]
    return lines if keep_empty else [line for line in lines if line]


def tokenize(lines, token="word"):
    """把文本行拆成词元列表。

    参数：
        lines: 字符串列表，每个元素是一行文本。
        token: ``"word"`` 按空白切分成单词，``"char"`` 拆成单个字符。
    返回：与 ``lines`` 等长的列表，每个元素是该行的词元列表。
    """
    if isinstance(lines, str):
        raise TypeError("lines 应为字符串列表（每个元素一行），而不是单个字符串；"
                        "可以用 text.splitlines()")
    if token == "word":
        return [line.split() for line in lines]
    if token == "char":
        return [list(line) for line in lines]
    raise ValueError(f"未知的词元类型 {token!r}：应为 'word' 或 'char'")


def count_corpus(tokens):
    """统计词元频率。``tokens`` 可以是一维词元列表，也可以是二维（每行一个列
    表）。"""
    if tokens and isinstance(tokens[0], (list, tuple)):
        tokens = [tok for line in tokens for tok in line]
    return collections.Counter(tokens)


class Vocab:
    """词表：在词元和从 0 开始的整数索引之间双向映射。

    索引 0 永远是未知词元 ``<unk>``，随后是保留词元（按给定顺序），再后是出现次数
    不少于 ``min_freq`` 的词元，按频率从高到低排列（频率相同时按首次出现的顺序）。

    参数：
        tokens: 一维或二维的词元列表，用来统计频率。
        min_freq: 出现次数少于它的词元不进入词表，查询时映射到 ``<unk>``。
        reserved_tokens: 保留词元，例如 ``["<pad>", "<bos>", "<eos>"]``。
    """

    def __init__(self, tokens=(), min_freq=0, reserved_tokens=()):
        check_nonnegative_int(min_freq, "min_freq")
        reserved_tokens = list(reserved_tokens)
        if len(set(reserved_tokens)) != len(reserved_tokens):
            raise ValueError(f"reserved_tokens 中有重复的词元：{reserved_tokens}")
        if "<unk>" in reserved_tokens:
            raise ValueError("<unk> 总是索引 0，不要放进 reserved_tokens")
        counter = count_corpus(list(tokens))
        # Counter.most_common 在频率相同时保持首次出现的顺序
        self.token_freqs = counter.most_common()
        self.idx_to_token = ["<unk>"] + reserved_tokens
        reserved = set(self.idx_to_token)
        self.idx_to_token += [tok for tok, freq in self.token_freqs
                              if freq >= min_freq and tok not in reserved]
        self.token_to_idx = {tok: idx for idx, tok in enumerate(self.idx_to_token)}

    def __len__(self):
        return len(self.idx_to_token)

    def __contains__(self, token):
        return token in self.token_to_idx

    def __getitem__(self, tokens):
        """词元 → 索引；可以传入单个词元或词元的列表/元组。未知词元得到 ``unk``。"""
        if isinstance(tokens, (list, tuple)):
            return [self.__getitem__(tok) for tok in tokens]
        return self.token_to_idx.get(tokens, self.unk)

    def to_tokens(self, indices):
        """索引 → 词元；可以传入单个索引、索引列表或一维整数张量。"""
        if hasattr(indices, "tolist"):
            indices = indices.tolist()
        if isinstance(indices, (list, tuple)):
            return [self.to_tokens(i) for i in indices]
        if not isinstance(indices, int) or not 0 <= indices < len(self):
            raise IndexError(f"索引 {indices!r} 超出词表范围 [0, {len(self)})")
        return self.idx_to_token[indices]

    @property
    def unk(self):
        """未知词元 ``<unk>`` 的索引（总是 0）。"""
        return 0

    def __repr__(self):
        head = ", ".join(self.idx_to_token[:8])
        return f"Vocab(size={len(self)}, tokens=[{head}, ...])"


def load_corpus_time_machine(token="char", max_tokens=-1):
    """《时间机器》的词元索引序列和词表。

    全文的各行（见 :func:`read_time_machine`）用一个空格连成一段文本，所以行尾的单词
    不会和下一行的开头粘在一起；再按 ``token``（``"char"`` 或 ``"word"``）切成词元。
    字符级词表共 28 个：``<unk>``、空格和 26 个小写字母。

    参数：
        token: ``"char"`` 或 ``"word"``。
        max_tokens: 只保留前 ``max_tokens`` 个词元；``-1`` 表示全部。
    返回：``(corpus, vocab)``：``corpus`` 是整数索引的列表（长度 ``num_tokens``），
        ``vocab`` 是在整个文本上建立的 :class:`Vocab`。
    """
    if max_tokens != -1 or not isinstance(max_tokens, int):  # -1 表示全部
        check_positive_int(max_tokens, "max_tokens")
    text = " ".join(read_time_machine())
    tokens = tokenize([text], token)[0]
    vocab = Vocab(tokens)
    corpus = vocab[tokens]
    if max_tokens > 0:
        corpus = corpus[:max_tokens]
    return corpus, vocab
