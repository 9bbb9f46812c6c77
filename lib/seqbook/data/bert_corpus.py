"""BERT 预训练的数据：语料、字符词表、80/10/10 掩蔽、打包的小批量、
下一句预测的句对，以及把文本变成模型输入的 :func:`bert_inputs`。

**先留出测试集，再建语料**：评论与《人民日报》的测试集由 :func:`load_reviews` 与
:func:`split_examples` 固定下来，预训练语料只取训练部分，并去掉任何与测试文本相同的
文档，所以后面几节在测试集上量到的结果没有见过测试句子。
"""

import dataclasses
import hashlib
import random
import re

import torch

from .._checks import check_positive_int, check_probability, check_sized, check_str
from .bert_data import load_reviews, read_people_daily, split_examples
from .download import download_extract
from .tokenizers import CharTokenizer

BERT_SPECIAL_TOKENS = ("<pad>", "<unk>", "<cls>", "<sep>", "<mask>")  # 索引 0–4


_SENTENCE_END = re.compile(r"(?<=[。！？!?])")


@dataclasses.dataclass
class BERTCorpus:
    """预训练语料与各任务固定好的划分。

    documents: ``{来源: 文档（字符串）的列表}``，只含训练部分；
    tokenizer: 字符分词器（语料中出现至少 2 次的字符，按频率排序，
    特殊词元见 :data:`BERT_SPECIAL_TOKENS`，词表外的字符映射为 ``<unk>``）；
    reviews / people_daily: ``(train, test)``，评论 ``(text, label)`` 与
    《人民日报》``(chars, tags)``；fingerprint: 内容的 SHA-1（缓存模型用）。
    """
    documents: dict
    tokenizer: CharTokenizer
    reviews: tuple
    people_daily: tuple
    fingerprint: str

    @property
    def num_chars(self):
        return sum(len(d) for docs in self.documents.values() for d in docs)

    def stream(self, seed=0):
        """全部训练文档打乱后首尾相接（中间用 ``<sep>`` 隔开）成一个一维张量。"""
        docs = [d for docs in self.documents.values() for d in docs]
        random.Random(seed).shuffle(docs)
        sep = self.tokenizer.special_id("<sep>")
        ids = []
        for d in docs:
            ids += self.tokenizer.encode(d) + [sep]
        return torch.tensor(ids)


def read_cmn_chinese():
    """cmn-eng 句对中去重后的中文句子（按首次出现的顺序）。"""
    path = download_extract("cmn-eng") / "cmn-eng" / "cmn.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    chinese = (line.split("\t")[1].strip() for line in lines if "\t" in line)
    return list(dict.fromkeys(t for t in chinese if t))


def load_bert_corpus(seed=0):
    """固定测试集，再建立预训练语料与字符词表，返回 :class:`BERTCorpus`。"""
    reviews = load_reviews(0.2, seed)
    people_daily = split_examples(read_people_daily(), 0.2, seed)
    test = {t for t, _ in reviews[1]} | {"".join(c) for c, _ in people_daily[1]}
    documents = {"评论": [t for t, _ in reviews[0]],
                 "人民日报": ["".join(c) for c, _ in people_daily[0]],
                 "cmn-eng 中文": read_cmn_chinese()}
    documents = {k: [d for d in docs if d not in test]
                 for k, docs in documents.items()}
    texts = [d for docs in documents.values() for d in docs]
    tokenizer = CharTokenizer.train(texts, min_frequency=2, unknown="unk",
                                    special_tokens=BERT_SPECIAL_TOKENS)
    h = hashlib.sha1(tokenizer.fingerprint.encode())
    for t in texts + sorted(test):
        h.update(t.encode("utf-8") + b"\n")
    return BERTCorpus(documents, tokenizer, reviews, people_daily, h.hexdigest())


def mlm_mask(tokens, vocab_size, rate=0.15, generator=None, num_special=5):
    """按 80/10/10 规则遮住词元（BERT 论文 3.1 节）。

    每个普通词元（索引 ``>= num_special``；``<pad>``、``<cls>``、``<sep>``
    等特殊词元从不被选中）以概率 ``rate`` 被选中；选中的位置 80% 换成 ``<mask>``，
    10% 换成随机的普通词元，10% 保持不变。返回 ``(inputs, selected, targets)``：
    inputs 与 tokens 同形状（新张量），selected ``(b, n)`` 布尔，targets ``(m,)``
    是被选中位置上的原词元。
    """
    check_probability(rate, "rate")
    mask_id = BERT_SPECIAL_TOKENS.index("<mask>")
    selected = (torch.rand(tokens.shape, generator=generator) < rate)
    selected &= tokens >= num_special  # (b, n)
    r = torch.rand(tokens.shape, generator=generator)  # 决定怎样替换
    inputs = tokens.clone()
    inputs[selected & (r < 0.8)] = mask_id
    rand = selected & (r >= 0.8) & (r < 0.9)
    inputs[rand] = torch.randint(num_special, vocab_size, (int(rand.sum()),),
                                 generator=generator)
    return inputs, selected, tokens[selected]


def packed_batch(stream, batch_size, num_steps, generator=None, cls_id=2):
    """从语料流中随机截取 batch_size 段，每行 ``<cls>`` + ``num_steps - 1`` 个词元
    （一行可以跨过文档边界的 ``<sep>``，没有填充）。返回 ``(b, num_steps)``。"""
    starts = torch.randint(0, len(stream) - num_steps, (batch_size,),
                           generator=generator)
    rows = torch.stack([stream[s:s + num_steps - 1] for s in starts.tolist()])
    cls = torch.full((batch_size, 1), cls_id, dtype=rows.dtype)
    return torch.cat([cls, rows], dim=1)  # (b, num_steps)


def split_sentences(text):
    """按句末标点（。！？!?）切句，去掉空句。"""
    return [s for s in _SENTENCE_END.split(text) if s.strip()]


def nsp_batch(documents, batch_size, num_steps, tokenizer, generator=None):
    """下一句预测的小批量。``documents`` 是文档的列表，每个文档是句子的列表。

    每个样本：从至少两句的文档中随机取第 i 句作 A；一半取第 i + 1 句作 B
    （标签 1，“是下一句”），一半从随机的文档中随机取一句作 B（标签 0）。
    A、B 各截到至多 ``(num_steps - 3) // 2`` 个字，拼成
    ``<cls> A <sep> B <sep>``，片段编号 0/1。返回 ``(tokens, segments,
    valid_lens, labels)``。
    """
    rand = random.Random(int(torch.randint(2 ** 31, (1,), generator=generator)))
    multi = [d for d in documents if len(d) >= 2]
    firsts, seconds, labels = [], [], []
    for _ in range(batch_size):
        doc = rand.choice(multi)
        i = rand.randrange(len(doc) - 1)
        if rand.random() < 0.5:
            second, label = doc[i + 1], 1
        else:
            second, label = rand.choice(rand.choice(documents)), 0
        firsts.append(doc[i])
        seconds.append(second)
        labels.append(label)
    tokens, segments, valid_lens = bert_inputs(tokenizer, firsts, seconds,
                                               num_steps)
    return tokens, segments, valid_lens, torch.tensor(labels)


def bert_inputs(tokenizer, first, second=None, max_len=128):
    """把文本（或文本对）变成 BERT 的输入，返回 ``(tokens, segments,
    valid_lens)``，前两者 ``(b, n)``，按这批中最长的一行填充。

    单句：``<cls> 文本 <sep>``，文本截到 ``max_len - 2`` 个字。
    句对：``<cls> A <sep> B <sep>``，A、B 各截到 ``(max_len - 3) // 2`` 个字；
    A 及其前后的 ``<cls>``、``<sep>`` 属于片段 0，B 及末尾的 ``<sep>`` 属于片段 1。
    """
    first = _check_texts(first, "first")
    if second is not None:
        second = _check_texts(second, "second")
        if len(second) != len(first):
            raise ValueError(f"first 与 second 的文本数应相同，实际为 "
                             f"{len(first)} 与 {len(second)}")
    check_positive_int(max_len, "max_len")
    least = 3 if second is None else 5  # 特殊词元之外，每句至少留一个字
    if max_len < least:
        raise ValueError(f"max_len 至少为 {least}（<cls>、<sep> 之外每句至少"
                         f"一个字），实际得到 {max_len}")
    cls, sep = tokenizer.special_id("<cls>"), tokenizer.special_id("<sep>")
    rows, segs = [], []
    for i, a in enumerate(first):
        if second is None:
            ids = tokenizer.encode(a)[:max_len - 2]
            rows.append([cls] + ids + [sep])
            segs.append([0] * (len(ids) + 2))
        else:
            half = (max_len - 3) // 2
            a_ids = tokenizer.encode(a)[:half]
            b_ids = tokenizer.encode(second[i])[:half]
            rows.append([cls] + a_ids + [sep] + b_ids + [sep])
            segs.append([0] * (len(a_ids) + 2) + [1] * (len(b_ids) + 1))
    tokens, segments = pad_rows(rows, tokenizer.pad_id, segs)
    return tokens, segments, torch.tensor([len(r) for r in rows])


def pad_rows(rows, pad_id, segments=None):
    """把长短不一的行填充成 ``(b, n)`` 的张量；同时返回片段编号 ``(b, n)``
    （``segments`` 为 None 时全为 0）。"""
    n = max(len(r) for r in rows)
    tokens = torch.full((len(rows), n), pad_id, dtype=torch.long)
    segs = torch.zeros((len(rows), n), dtype=torch.long)
    for i, r in enumerate(rows):
        tokens[i, :len(r)] = torch.tensor(r)
        if segments is not None:
            segs[i, :len(r)] = torch.tensor(segments[i])
    return tokens, segs


def _check_texts(texts, name):
    if isinstance(texts, str):
        raise TypeError(f"{name} 应为文本的列表，而不是单个字符串；可以用 [text]")
    check_sized(texts, name)
    for i, t in enumerate(texts):
        check_str(t, f"{name}[{i}]")
        if not t:
            raise ValueError(f"{name}[{i}] 是空文本：BERT 的输入至少要有一个字")
    return list(texts)
