"""分词器：字符分词器与字节对编码（BPE），都能存为 JSON 并核对与模型是否匹配。

两种分词器共用同一套接口：``encode(text) -> list[int]``、``decode(ids) -> str``、
``tokens(text)``（看切分结果）、``len(tok)``（词表大小）、``save(path)`` /
:func:`load_tokenizer`、``fingerprint``（内容的 SHA-1，模型的检查点应记下它，
加载时用来核对）。

词表的布局（两种分词器相同）：先是特殊词元（默认 ``<pad>``、``<bos>``、``<eos>``，
索引 0、1、2），再是基础符号。``encode`` 从不产生特殊词元：文本里的 ``"<eos>"``
就是五个普通字符，特殊词元只由调用者显式加入（如
``[tok.bos_id] + tok.encode(s)``）。

**字符分词器** :class:`CharTokenizer`：一个字符一个词元。遇到词表之外的字符时的策略
由``unknown`` 决定：``"error"``（默认）抛出 ``ValueError``，列出是哪些字符；
``"unk"`` 把它们映射为特殊词元 ``<unk>``（此时 ``decode(encode(s))`` 不再等于
``s``）。

**字节对编码** :class:`BPETokenizer`：基础符号是训练文本中出现过的字符（不少于
``min_frequency``次）加上 256 个字节词元 ``<0x00>``…``<0xFF>``；不在基础字符里的字符
按 UTF-8 编码拆成字节词元（字节回退），所以 **任何字符串** 都能编码，且
``decode(encode(s)) == s``。训练（:meth:`BPETokenizer.train`）先把文本切成“块”（连续
的字母/汉字、连续的数字、连续的空白，其余字符各自成块），合并只发生在块内；
每一步合并出现次数最多的相邻词元对，**次数相同时取 (左词元字符串, 右词元字符串)
按码位排序最小的一对**；没有出现 2 次以上的词元对时提前停止。
编码时按训练的顺序应用合并（每次合并当前块中合并序号最小的相邻对的所有出现，
从左到右、不重叠），结果与依次应用每条合并相同。
"""

import collections
import hashlib
import json
import pathlib
import re

from .._checks import check_positive_int, check_str

SPECIAL_TOKENS = ("<pad>", "<bos>", "<eos>")


_FORMAT = "seqbook-tokenizer"


_VERSION = 1


# 预切分：连续的字母（含汉字）、连续的数字、连续的空白，其余字符（标点等）各自成块
_CHUNK = re.compile(r"[^\W\d_]+|\d+|\s+|.", re.S)


def pre_tokenize(text):
    """把文本切成 BPE 合并不会跨越的块，例如 ``"床前明月光，疑是"`` →
    ``["床前明月光", "，", "疑是"]``。"""
    return _CHUNK.findall(text)


def _check_texts(texts):
    if isinstance(texts, str):
        raise TypeError("texts 应为字符串的列表（每个元素一段文本），"
                        "而不是单个字符串；可以用 [text]")
    texts = list(texts)
    for i, t in enumerate(texts):
        check_str(t, f"texts 的第 {i} 个元素")
    return texts


def _check_chars(chars):
    """``chars`` 应为互不相同的单个字符；返回列表。"""
    chars = list(chars)
    for c in chars:
        if not isinstance(c, str) or len(c) != 1:
            raise ValueError(f"chars 的元素应为单个字符，实际得到 {c!r}")
    if len(set(chars)) != len(chars):
        raise ValueError("chars 中有重复的字符")
    return chars


def _check_special(special_tokens):
    special = list(special_tokens)
    if any(not isinstance(s, str) or not s for s in special):
        raise TypeError(f"special_tokens 应为非空字符串的列表，"
                        f"实际得到 {special!r}")
    if len(set(special)) != len(special):
        raise ValueError(f"special_tokens 中有重复的词元：{special}")
    return special


def _describe(chars):
    return "、".join(f"{c!r}（U+{ord(c):04X}）" for c in chars)


def _surrogate(c):
    """孤立的代理码位（U+D800–U+DFFF）不进词表：它们无法写入 UTF-8 的 JSON 文件。"""
    return "\ud800" <= c <= "\udfff"


class _Tokenizer:
    """两种分词器共用的部分：特殊词元、ID 检查、保存与指纹。"""

    kind = ""

    def __len__(self):
        return len(self.id_to_token)

    @property
    def vocab_size(self):
        """词表大小（含特殊词元）。"""
        return len(self.id_to_token)

    def special_id(self, token):
        """特殊词元的索引，例如 ``tok.special_id("<eos>")``。"""
        try:
            return self.special_tokens.index(token)
        except ValueError:
            raise ValueError(f"{token!r} 不是这个分词器的特殊词元；特殊词元有 "
                             f"{self.special_tokens}") from None

    @property
    def pad_id(self):
        return self.special_id("<pad>")

    @property
    def bos_id(self):
        return self.special_id("<bos>")

    @property
    def eos_id(self):
        return self.special_id("<eos>")

    def _check_ids(self, ids):
        if hasattr(ids, "tolist"):
            ids = ids.tolist()
        if isinstance(ids, (str, bytes)) or not isinstance(ids, (list, tuple)):
            raise TypeError("ids 应为整数的列表或一维张量，实际得到 "
                            f"{type(ids).__name__}")
        n = len(self.id_to_token)
        for i in ids:
            if isinstance(i, bool) or not isinstance(i, int):
                raise TypeError(f"ids 的元素应为整数，实际得到 {type(i).__name__} "
                                f"{i!r}")
            if not 0 <= i < n:
                raise ValueError(f"ids 中的 {i} 超出词表范围 [0, {n})")
        return ids

    def tokens(self, text):
        """``text`` 切分后的词元字符串列表（看切分结果用）。"""
        return [self.id_to_token[i] for i in self.encode(text)]

    def _payload(self):
        raise NotImplementedError

    def to_dict(self):
        return {"format": _FORMAT, "version": _VERSION, "type": self.kind,
                **self._payload()}

    @property
    def fingerprint(self):
        """分词器内容的 SHA-1：类型、特殊词元、基础符号、合并规则都计入。
        模型检查点应记下它。"""
        blob = json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)
        return hashlib.sha1(blob.encode("utf-8")).hexdigest()

    def save(self, path):
        """保存为 UTF-8 JSON 文件，返回路径。"""
        path = pathlib.Path(path)
        path.write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=1),
                        encoding="utf-8")
        return path

    def check_matches(self, fingerprint=None, vocab_size=None):
        """核对这个分词器是否是模型训练时用的那一个：指纹与（或）词表大小不符时抛出
        ``ValueError``。"""
        if vocab_size is not None and vocab_size != len(self):
            raise ValueError(f"分词器与模型不匹配：分词器的词表大小为 {len(self)}，"
                             f"模型期望 {vocab_size}")
        if fingerprint is not None and fingerprint != self.fingerprint:
            raise ValueError("分词器与模型不匹配：分词器的指纹为 "
                             f"{self.fingerprint}，模型期望 {fingerprint}；"
                             "请使用训练该模型时保存的分词器文件")
        return self

    def __eq__(self, other):
        return isinstance(other, _Tokenizer) and self.to_dict() == other.to_dict()

    def __repr__(self):
        return f"{type(self).__name__}(vocab_size={len(self)})"


class CharTokenizer(_Tokenizer):
    """字符分词器：一个字符一个词元。

    参数：
        chars: 词表中的字符（按给定顺序排在特殊词元之后）；通常用 :meth:`train`
            从文本建立。
        special_tokens: 特殊词元，索引从 0 开始。
        unknown: ``"error"``：``encode`` 遇到词表之外的字符时抛出 ``ValueError``
            并列出它们；``"unk"``：映射为 ``<unk>``（自动加在特殊词元末尾）。
    """

    kind = "char"

    def __init__(self, chars, special_tokens=SPECIAL_TOKENS, unknown="error"):
        if unknown not in ("error", "unk"):
            raise ValueError(f"unknown 应为 'error' 或 'unk'，实际得到 {unknown!r}")
        special = _check_special(special_tokens)
        if unknown == "unk" and "<unk>" not in special:
            special.append("<unk>")
        chars = _check_chars(chars)
        self.unknown = unknown
        self.special_tokens = special
        self.chars = chars
        self.id_to_token = special + chars
        self._char_to_id = {c: i + len(special) for i, c in enumerate(chars)}

    @classmethod
    def train(cls, texts, min_frequency=1, special_tokens=SPECIAL_TOKENS,
              unknown="error"):
        """由文本建立词表：出现不少于 ``min_frequency`` 次的字符，按频率从高到低（相
        同时按码位）排列。
        孤立的代理码位（U+D800–U+DFFF）不进词表。"""
        texts = _check_texts(texts)
        check_positive_int(min_frequency, "min_frequency")
        counts = collections.Counter()
        for t in texts:
            counts.update(t)
        chars = sorted((c for c, n in counts.items()
                        if n >= min_frequency and not _surrogate(c)),
                       key=lambda c: (-counts[c], c))
        return cls(chars, special_tokens, unknown)

    def encode(self, text):
        """文本 → 词元索引的列表（每个字符一个）。"""
        check_str(text, "text")
        ids = [self._char_to_id.get(c) for c in text]
        if None in ids:
            missing = list(dict.fromkeys(c for c, i in zip(text, ids) if i is None))
            if self.unknown == "error":
                more = "等" if len(missing) > 10 else ""
                shown = _describe(missing[:10]) + more
                raise ValueError(f"text 中有 {len(missing)} "
                                 f"种字符不在字符分词器的词表里：{shown}。"
                                 "可以用 unknown='unk' 把它们映射为 <unk>，"
                                 "或改用字节对编码（BPETokenizer），"
                                 "它能编码任意字符串")
            unk = self.special_id("<unk>")
            ids = [unk if i is None else i for i in ids]
        return ids

    def decode(self, ids, skip_special=False):
        """词元索引 → 文本；特殊词元写成它的字符串（``skip_special=True``
        时略去）。"""
        ids = self._check_ids(ids)
        nspecial = len(self.special_tokens)
        return "".join(self.id_to_token[i] for i in ids
                       if not (skip_special and i < nspecial))

    def _payload(self):
        return {"special_tokens": self.special_tokens, "unknown": self.unknown,
                "chars": self.chars}


def load_tokenizer(path, fingerprint=None, vocab_size=None):
    """读回 :meth:`save` 保存的分词器（字符或 BPE）。

    给出 ``fingerprint``（模型检查点记下的 :attr:`fingerprint`）或 ``vocab_size``
    时核对，不符时抛出 ``ValueError``，说明这个分词器文件不是模型训练时用的那一个。
    """
    path = pathlib.Path(path)
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{path} 不是有效的分词器文件"
                         f"（JSON 解析失败：{e}）") from None
    if not isinstance(obj, dict) or obj.get("format") != _FORMAT:
        raise ValueError(f"{path} 不是 seqbook 的分词器文件（缺少 format: "
                         f"{_FORMAT!r}）")
    if obj.get("version") != _VERSION:
        raise ValueError(f"{path} 的格式版本为 {obj.get('version')!r}，"
                         f"本库只能读取版本 {_VERSION}")
    try:
        if obj.get("type") == "char":
            tok = CharTokenizer(obj["chars"], obj["special_tokens"], obj["unknown"])
        elif obj.get("type") == "bpe":
            from .bpe import BPETokenizer  # bpe 依赖本模块，在这里才导入

            tok = BPETokenizer(obj["chars"], obj["merges"], obj["special_tokens"])
        else:
            raise ValueError(f"{path} 中的分词器类型 {obj.get('type')!r} 未知，"
                             "应为 'char' 或 'bpe'")
    except KeyError as e:
        raise ValueError(f"{path} 缺少字段 {e.args[0]!r}，文件不完整") from None
    return tok.check_matches(fingerprint, vocab_size)
