"""字节对编码（BPE）分词器：在训练文本上学习合并规则，编码与解码（没见过的字符退回到
字节）。"""

import collections
import heapq

from .._checks import check_nonnegative_int, check_positive_int, check_str
from .tokenizers import (
    SPECIAL_TOKENS,
    _check_chars,
    _check_special,
    _check_texts,
    _surrogate,
    _Tokenizer,
    pre_tokenize,
)


def _byte_token(b):
    return f"<0x{b:02X}>"


class BPETokenizer(_Tokenizer):
    """字节对编码（带字节回退）。一般用 :meth:`train` 得到，用
    :func:`load_tokenizer` 读回。

    参数：
        chars: 基础字符（排在特殊词元和 256 个字节词元之后）。
        merges: 合并规则 ``[(左词元索引, 右词元索引), ...]``，第 ``r`` 条产生索引
            ``len(special_tokens) + 256 + len(chars) + r`` 的新词元。
        special_tokens: 特殊词元，索引从 0 开始。
    """

    kind = "bpe"

    def __init__(self, chars, merges=(), special_tokens=SPECIAL_TOKENS):
        special = _check_special(special_tokens)
        chars = _check_chars(chars)
        self.special_tokens = special
        self.chars = chars
        self.byte_offset = len(special)
        self.char_offset = len(special) + 256
        self.id_to_token = special + [_byte_token(b) for b in range(256)] + chars
        self._char_to_id = {c: i + self.char_offset for i, c in enumerate(chars)}
        self.merges = []
        self._ranks = {}
        for r, pair in enumerate(merges):
            if (not isinstance(pair, (list, tuple)) or len(pair) != 2
                    or any(isinstance(x, bool) or not isinstance(x, int)
                           for x in pair)):
                raise TypeError(f"merges 的第 {r} 条应为两个整数索引，实际得到 "
                                f"{pair!r}")
            a, b = pair
            n = len(self.id_to_token)
            if not (len(special) <= a < n and len(special) <= b < n):
                raise ValueError(f"merges 的第 {r} 条 {pair!r} "
                                 "引用了不存在或特殊的词元（有效范围 "
                                 f"[{len(special)}, {n})）")
            if (a, b) in self._ranks:
                raise ValueError(f"merges 的第 {r} 条 {pair!r} 与前面的合并重复")
            self._ranks[(a, b)] = r
            self.merges.append((a, b))
            self.id_to_token.append(self.id_to_token[a] + self.id_to_token[b])
        # 每个词元展开成的字节：解码时先连成字节串再按 UTF-8 解码
        self._bytes = ([t.encode("utf-8", "surrogatepass") for t in special]
                       + [bytes([b]) for b in range(256)]
                       + [c.encode("utf-8", "surrogatepass") for c in chars])
        for a, b in self.merges:
            self._bytes.append(self._bytes[a] + self._bytes[b])
        self._cache = {}

    # ---------- 训练 ----------
    @classmethod
    def train(cls, texts, num_merges=None, vocab_size=None, min_frequency=1,
              special_tokens=SPECIAL_TOKENS):
        """在训练文本上学习合并规则。

        参数：
            texts: 字符串的列表（如训练集的每首诗）。
            num_merges: 合并的次数；与 ``vocab_size`` 二选一。
            vocab_size: 目标词表大小（特殊词元 + 256 个字节 + 基础字符 + 合并），
                不能小于前三者之和。
            min_frequency: 出现不少于这么多次的字符才进入基础字符，其余字符（以及孤
                立的代理码位）走字节回退。
            special_tokens: 特殊词元。
        每步合并出现次数最多的相邻对，次数相同时取 (左词元字符串, 右词元字符串)
        最小的一对；最多的次数小于 2 时提前停止，所以合并数可能少于要求。
        相同的输入总是给出相同的结果。实现：块按内容去重并记下频率；相邻对的计数在每
        次合并后只对受影响的块增量更新，用带惰性删除的堆找计数最大的对。
        """
        texts = _check_texts(texts)
        check_positive_int(min_frequency, "min_frequency")
        special = _check_special(special_tokens)
        if (num_merges is None) == (vocab_size is None):
            raise ValueError("num_merges 与 vocab_size 应恰好给出一个")
        char_counts = collections.Counter()
        chunk_counts = collections.Counter()
        for t in texts:
            chunk_counts.update(pre_tokenize(t))
        for chunk, n in chunk_counts.items():
            for c in chunk:
                char_counts[c] += n
        chars = sorted((c for c, n in char_counts.items()
                        if n >= min_frequency and not _surrogate(c)),
                       key=lambda c: (-char_counts[c], c))
        base = len(special) + 256 + len(chars)
        if vocab_size is not None:
            check_positive_int(vocab_size, "vocab_size")
            if vocab_size < base:
                raise ValueError(f"vocab_size 至少应为 {base}（{len(special)} "
                                 "个特殊词元 + 256 个字节 + "
                                 f"{len(chars)} 个基础字符），实际得到 "
                                 f"{vocab_size}；"
                                 "可以调大 min_frequency 减少基础字符")
            num_merges = vocab_size - base
        else:
            check_nonnegative_int(num_merges, "num_merges")
        tok = cls(chars, (), special)
        words = [tok._base_ids(chunk) for chunk in chunk_counts]
        freqs = list(chunk_counts.values())
        merges = _learn_merges(words, freqs, tok.id_to_token[:], num_merges)
        return cls(chars, merges, special)

    # ---------- 编码与解码 ----------
    def _base_ids(self, chunk):
        try:
            return [self._char_to_id[c] for c in chunk]   # 常见情形：全部是基础字符
        except KeyError:
            pass
        ids = []
        for c in chunk:
            i = self._char_to_id.get(c)
            if i is None:   # 字节回退；surrogatepass 让孤立的代理码位也能往返
                raw = c.encode("utf-8", "surrogatepass")
                ids.extend(self.byte_offset + b for b in raw)
            else:
                ids.append(i)
        return ids

    def _encode_chunk(self, chunk):
        cached = self._cache.get(chunk)
        if cached is not None:
            return cached
        ids = self._base_ids(chunk)
        ranks = self._ranks
        while len(ids) > 1:
            pairs = enumerate(zip(ids, ids[1:]))
            best = min((ranks.get(p, len(ranks)), j) for j, p in pairs)
            rank = best[0]
            if rank == len(ranks):
                break
            ids = _merge_ids(ids, self.merges[rank],
                             self.char_offset + len(self.chars) + rank)
        if len(self._cache) < 200_000:
            self._cache[chunk] = ids
        return ids

    def encode(self, text):
        """文本 → 词元索引的列表。任何字符串都能编码（没见过的字符走字节回退）。"""
        check_str(text, "text")
        ids = []
        for chunk in pre_tokenize(text):
            ids.extend(self._encode_chunk(chunk))
        return ids

    def decode(self, ids, skip_special=False):
        """词元索引 → 文本。每个词元先展开成它的 UTF-8 字节（字节词元就是那个字
        节），全部连起来再解码，
        所以被拆成字节的字符总能还原；任意拼凑、不是有效 UTF-8 的索引序列解码时无效
        部分写成 U+FFFD。特殊词元写成它的字符串（``skip_special=True`` 时略去）。"""
        ids = self._check_ids(ids)
        nspecial = len(self.special_tokens)
        data = b"".join(self._bytes[i] for i in ids
                        if not (skip_special and i < nspecial))
        try:
            return data.decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:
            return data.decode("utf-8", "replace")

    def _payload(self):
        return {"special_tokens": self.special_tokens, "chars": self.chars,
                "merges": [list(m) for m in self.merges]}


def _merge_ids(ids, pair, new_id):
    """把 ``ids`` 中 ``pair`` 的所有出现（从左到右、不重叠）换成 ``new_id``。"""
    a, b = pair
    out, j, n = [], 0, len(ids)
    while j < n:
        if j + 1 < n and ids[j] == a and ids[j + 1] == b:
            out.append(new_id)
            j += 2
        else:
            out.append(ids[j])
            j += 1
    return out


def _learn_merges(words, freqs, names, num_merges):
    """BPE 训练的核心：``words`` 是块的基础词元索引（就地更新），``freqs``
    是块的频率。"""
    counts = collections.defaultdict(int)      # 相邻对 → 加权出现次数
    # 相邻对 → 含有它的块（惰性：可能多出已不含它的块）
    where = collections.defaultdict(set)
    for w, (ids, f) in enumerate(zip(words, freqs)):
        for p in zip(ids, ids[1:]):
            counts[p] += f
            where[p].add(w)
    heap = [(-n, names[p[0]], names[p[1]], p) for p, n in counts.items()]
    heapq.heapify(heap)
    merges = []
    while len(merges) < num_merges and heap:
        neg, _, _, pair = heapq.heappop(heap)
        if counts.get(pair, 0) != -neg:
            continue    # 过时的堆项
        if -neg < 2:
            break
        new_id = len(names)
        names.append(names[pair[0]] + names[pair[1]])
        merges.append(pair)
        changed = set()
        for w in where.pop(pair):
            ids, f = words[w], freqs[w]
            merged = _merge_ids(ids, pair, new_id)
            if len(merged) == len(ids):
                continue
            for p in zip(ids, ids[1:]):
                counts[p] -= f
                changed.add(p)
            for p in zip(merged, merged[1:]):
                counts[p] += f
                where[p].add(w)
                changed.add(p)
            words[w] = merged
        counts.pop(pair, None)
        for p in changed:
            n = counts.get(p, 0)
            if n > 0:
                heapq.heappush(heap, (-n, names[p[0]], names[p[1]], p))
            else:
                counts.pop(p, None)
    return merges
