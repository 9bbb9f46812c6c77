"""诗词数据：全唐诗与宋词（chinese-poetry 项目）的读取、繁简转换、去重、按首划分，
以及诗形的检查。

数据来自多文件数据集 ``chinese-poetry``（见 :func:`seqbook.download_files`）：
``quan_tang_shi/poet.tang.*.json``（全唐诗，繁体）与 ``song_ci/ci.song.*.json``（宋
词）。每首诗是一条 :class:`Poem` 记录：标题、作者、诗句（数据中的 ``paragraphs``，
通常一联一个元素，如 ``"床前明月光，疑是地上霜。"``）。

读入时全部转为简体（``zhconv``，与 :func:`seqbook.tokenize_chinese` 相同），
并去掉转换后正文完全相同的重复诗（全唐诗中同一首诗常以不同作者重复收录），
只留第一次出现的那一首。之后 **先** 按首划分训练集与测试集（:func:`split_poems`），
再做别的事（筛选、建词表、训练分词器），
测试诗的任何一句都不会进入训练数据。

数据用的标点：句中停顿是全角逗号“，”，一联结束是全角句号“。”（少数为“？”“！”）。
:func:`poem_shape` 据此判断一首诗是否为整齐的近体诗形（如五言绝句：4 句 × 5 字）。
"""

import dataclasses
import hashlib
import json
import random
import re

from .._checks import check_probability, check_sized, check_str
from .download import download_files

CORPORA = {"tang": "quan_tang_shi/", "song": "song_ci/"}   # 语料名 → 数据集内的目录


# 汉字（含扩展区）
HANZI = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff"


PAUSE, STOPS = "，", "。？！"   # 句中停顿；一联的结尾


_VERSE = re.compile("[^，。？！；：、]+[，。？！；：、]|[^，。？！；：、]+$")


_CLEAN = re.compile(f"[{HANZI}，。？！；：、]+")


@dataclasses.dataclass(frozen=True)
class Poem:
    """一首诗（或一首词）：``title`` 标题（词为词牌），``author`` 作者，``lines``
    诗句的元组。"""
    title: str
    author: str
    lines: tuple

    @property
    def text(self):
        """正文：各句直接连接，例如
        ``"床前明月光，疑是地上霜。举头望明月，低头思故乡。"``。"""
        return "".join(self.lines)


def _file_order(path):
    """poet.tang.1000.json 按数字排序（0, 1000, 2000, …）；ci.song.2019y.json
    排在最后。"""
    stem = path.rsplit("/", 1)[-1].split(".")[-2]
    return (0, int(stem), "") if stem.isdigit() else (1, 0, stem)


def read_poems(corpus="tang", dedupe=True, folder=None):
    """读入一个语料的全部诗词，返回 :class:`Poem` 的列表（按文件顺序）。

    参数：
        corpus: ``"tang"``（全唐诗，57,607 首，转为简体）或 ``"song"``（宋词，
            标题为词牌）。
        dedupe: 去掉简体正文与前面某首完全相同的诗（只留第一次出现的）。
        folder: 数据目录，默认 :func:`seqbook.data_dir`。
    正文为空的记录被跳过；每句去掉首尾空白，空句丢弃。
    """
    import zhconv  # 只在处理中文时需要
    if corpus not in CORPORA:
        raise ValueError(f"corpus 应为 {sorted(CORPORA)} 之一，实际得到 {corpus!r}")
    paths = download_files("chinese-poetry", folder=folder, prefix=CORPORA[corpus])
    poems, seen = [], set()
    for rel in sorted((p for p in paths if p.endswith(".json")), key=_file_order):
        with open(paths[rel], encoding="utf-8") as f:
            records = json.load(f)
        for rec in records:
            title = rec.get("title") if corpus == "tang" else rec.get("rhythmic")
            lines = [line.strip() for line in rec.get("paragraphs") or []]
            # 一次转换整首（标题、作者、各句用换行分开），比逐句转换快
            whole = "\n".join([title or "", rec.get("author") or ""] + lines)
            converted = zhconv.convert(whole, "zh-cn").split("\n")
            title, author = converted[0], converted[1]
            lines = tuple(x for x in converted[2:] if x)
            if not lines:
                continue
            poem = Poem(title, author, lines)
            if dedupe:
                if poem.text in seen:
                    continue
                seen.add(poem.text)
            poems.append(poem)
    return poems


def split_poems(poems, test_fraction=0.05, seed=0):
    """按首随机划分训练集与测试集，返回 ``(train, test)``（两边都保持原顺序）。

    参数：
        poems: 诗的列表（也可以是任何记录的列表）。
        test_fraction: 测试集所占比例，在 (0, 1) 之内；测试集大小为
            ``round(len(poems) * test_fraction)``，至少 1 首。
        seed: 随机种子；相同的输入与种子给出相同的划分（``random.Random(seed)``，
            与全局随机状态无关）。
    """
    check_sized(poems, "poems")
    check_probability(test_fraction, "test_fraction", low_open=True, high_open=True)
    if len(poems) < 2:
        raise ValueError(f"poems 至少要有 2 首才能划分，实际只有 {len(poems)} 首")
    num_test = min(max(1, round(len(poems) * test_fraction)), len(poems) - 1)
    test_idx = set(random.Random(seed).sample(range(len(poems)), num_test))
    train = [p for i, p in enumerate(poems) if i not in test_idx]
    test = [p for i, p in enumerate(poems) if i in test_idx]
    return train, test


def load_poems(corpus="tang", test_fraction=0.05, seed=0, folder=None):
    """读入（:func:`read_poems`，已去重）并立即按首划分（:func:`split_poems`），返回
    ``(train, test)``。"""
    return split_poems(read_poems(corpus, folder=folder), test_fraction, seed)


def verse_lines(text):
    """把正文切成诗句，每句带着它结尾的标点，例如
    ``"床前明月光，疑是地上霜。"`` → ``["床前明月光，", "疑是地上霜。"]``。
    换行被忽略。"""
    check_str(text, "text")
    return _VERSE.findall(text.replace("\n", ""))


def poem_shape(text):
    """整齐诗形的 ``(句数, 每句字数)``，不整齐时返回 ``None``。

    整齐的条件：句数为偶数；每句都由同样多个汉字组成；奇数句以“，”结尾，
    偶数句以“。”“？”“！”之一结尾。例如五言绝句 → ``(4, 5)``，七言律诗 → ``(8, 7)``。
    正文中的换行被忽略；``text`` 也可以是 :class:`Poem`。
    """
    if isinstance(text, Poem):
        text = text.text
    lines = verse_lines(text)
    if not lines or len(lines) % 2:
        return None
    n = len(lines[0]) - 1
    for i, line in enumerate(lines):
        body, end = line[:-1], line[-1]
        if len(body) != n or not re.fullmatch(f"[{HANZI}]+", body):
            return None
        if end not in (PAUSE if i % 2 == 0 else STOPS):
            return None
    return (len(lines), n) if n else None


def is_five_char_quatrain(text):
    """是否为格式正确的五言绝句：4 句 × 5 个汉字，标点为“，”“。”“，”“。”（句号也可以
    是“？”“！”）。"""
    return poem_shape(text) == (4, 5)


def is_clean(text):
    """正文是否只含汉字和常用句读（，。？！；：、），没有注释括号、缺字符号“□”、
    数字等。"""
    if isinstance(text, Poem):
        text = text.text
    return bool(_CLEAN.fullmatch(text))


def poems_fingerprint(poems):
    """一组诗的 SHA-1（标题、作者、诗句都计入），用作训练缓存的键。"""
    h = hashlib.sha1()
    for p in poems:
        h.update(repr((p.title, p.author, tuple(p.lines))).encode("utf-8"))
    return h.hexdigest()


def distinct_n(texts, n=2):
    """distinct-n：全部文本中不同的 n 字组数 / n 字组总数（只在每句的汉字内取，
    不跨标点）。越接近 1，用词越不重复；没有任何 n 字组时返回 0。"""
    check_sized(texts, "texts")
    grams = []
    for t in texts:
        for line in verse_lines(t):
            body = line.rstrip(PAUSE + STOPS + "；：、")
            grams += [body[i:i + n] for i in range(len(body) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def copied_lines(texts, train_lines, skip=0):
    """生成的诗句中一字不差地出现在训练集里的比例。``train_lines`` 是训练诗全部
    诗句（去掉句末标点）的集合；每首跳过前 ``skip`` 句（提示给出的句子）。
    返回 ``(比例, 句数)``。"""
    total = copied = 0
    for t in texts:
        for line in verse_lines(t)[skip:]:
            body = line.rstrip(PAUSE + STOPS + "；：、")
            if body:
                total += 1
                copied += body in train_lines
    return (copied / total if total else 0.0), total


def line_set(poems):
    """训练诗全部诗句（去掉句末标点）的集合，供 :func:`copied_lines` 使用。"""
    return {line.rstrip(PAUSE + STOPS + "；：、")
            for p in poems for line in verse_lines(p.text)}
