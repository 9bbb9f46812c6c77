"""诗词数据：读取（繁→简、去重、顺序）、按首划分、诗形检查。用小的假数据集，不读全量语料。"""
import hashlib
import json

import pytest

from seqbook.data import datasets, poetry
from seqbook.data.poetry import Poem

TANG = {
    "poet.tang.0.json": [
        {"author": "李白", "title": "靜夜思", "paragraphs": ["床前明月光，疑是地上霜。", "舉頭望明月，低頭思故鄉。"]},
        {"author": "無名", "title": "空", "paragraphs": []},
        {"author": "孟浩然", "title": "春曉", "paragraphs": ["春眠不覺曉，處處聞啼鳥。", "夜來風雨聲，花落知多少。"]},
    ],
    "poet.tang.1000.json": [
        {"author": "某人", "title": "靜夜思", "paragraphs": ["床前明月光，疑是地上霜。", "舉頭望明月，低頭思故鄉。"]},
        {"author": "王之渙", "title": "登鸛雀樓", "paragraphs": ["白日依山盡，黃河入海流。", "欲窮千里目，更上一層樓。"]},
    ],
    "poet.tang.200.json": [   # 按数字排序：200 在 1000 之前
        {"author": "賀知章", "title": "詠柳", "paragraphs": ["碧玉妝成一樹高，萬條垂下綠絲絛。", "不知細葉誰裁出，二月春風似剪刀。"]},
    ],
}
SONG = {"ci.song.0.json": [{"author": "苏轼", "rhythmic": "水调歌头", "paragraphs": ["明月几时有？把酒问青天。"]}]}


@pytest.fixture
def toy_poetry(tmp_path, monkeypatch):
    """在临时数据目录里放一份小的 chinese-poetry，并把登记项换成它的清单。"""
    root = tmp_path / "data" / "chinese-poetry"
    manifest = []
    for sub, files in (("quan_tang_shi", TANG), ("song_ci", SONG)):
        (root / sub).mkdir(parents=True)
        for name, records in files.items():
            body = json.dumps(records, ensure_ascii=False).encode()
            (root / sub / name).write_bytes(body)
            manifest.append(f"{hashlib.sha1(body).hexdigest()}  {sub}/{name}")
    info = datasets._folder_dataset("chinese-poetry", "http://127.0.0.1:9/", "\n".join(manifest), {}, "")
    monkeypatch.setitem(datasets.DATASETS, "chinese-poetry", info)
    monkeypatch.setenv("SEQBOOK_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("SEQBOOK_CACHE", str(tmp_path / "cache"))


def test_read_tang_simplified_deduped_in_file_order(toy_poetry):
    poems = poetry.read_poems("tang")
    assert [p.title for p in poems] == ["静夜思", "春晓", "咏柳", "登鹳雀楼"]   # 0, 200, 1000
    assert poems[0] == Poem("静夜思", "李白", ("床前明月光，疑是地上霜。", "举头望明月，低头思故乡。"))
    assert poems[0].text == "床前明月光，疑是地上霜。举头望明月，低头思故乡。"
    # 不去重时保留重复的那首（空诗总是跳过）
    assert len(poetry.read_poems("tang", dedupe=False)) == 5


def test_read_song_uses_rhythmic_as_title(toy_poetry):
    (ci,) = poetry.read_poems("song")
    assert ci.title == "水调歌头" and ci.author == "苏轼" and ci.lines == ("明月几时有？把酒问青天。",)


def test_unknown_corpus():
    with pytest.raises(ValueError, match="corpus"):
        poetry.read_poems("yuan")


def test_split_is_deterministic_disjoint_and_by_poem():
    poems = [Poem(f"题{i}", "某", (f"第{i}首，",)) for i in range(100)]
    train, test = poetry.split_poems(poems, test_fraction=0.1, seed=3)
    assert len(test) == 10 and len(train) == 90
    assert set(train).isdisjoint(test) and set(train) | set(test) == set(poems)
    assert train == sorted(train, key=poems.index)   # 保持原顺序
    assert poetry.split_poems(poems, 0.1, seed=3) == (train, test)
    assert poetry.split_poems(poems, 0.1, seed=4)[1] != test


def test_load_poems_splits_right_after_reading(toy_poetry):
    train, test = poetry.load_poems("tang", test_fraction=0.25, seed=0)
    assert len(train) == 3 and len(test) == 1
    assert (train, test) == poetry.split_poems(poetry.read_poems("tang"), 0.25, 0)


@pytest.mark.parametrize("bad, exc", [(0, ValueError), (1, ValueError), (-0.1, ValueError),
                                      ("0.1", TypeError), (True, TypeError)])
def test_split_bad_fraction(bad, exc):
    with pytest.raises(exc, match="test_fraction"):
        poetry.split_poems([Poem("a", "b", ("c",))] * 3, bad)


def test_split_bad_poems():
    with pytest.raises(TypeError, match="poems"):
        poetry.split_poems(iter([1, 2, 3]))
    with pytest.raises(ValueError, match="至少要有 2 首"):
        poetry.split_poems([Poem("a", "b", ("c",))])


def test_verse_lines():
    assert poetry.verse_lines("床前明月光，疑是地上霜。\n举头") == ["床前明月光，", "疑是地上霜。", "举头"]
    with pytest.raises(TypeError, match="text"):
        poetry.verse_lines(["床前明月光"])


@pytest.mark.parametrize("text, shape", [
    ("床前明月光，疑是地上霜。举头望明月，低头思故乡。", (4, 5)),
    ("床前明月光，疑是地上霜。\n举头望明月，低头思故乡。\n", (4, 5)),   # 换行被忽略
    ("床前明月光，疑是地上霜？举头望明月，低头思故乡！", (4, 5)),
    ("碧玉妆成一树高，万条垂下绿丝绦。不知细叶谁裁出，二月春风似剪刀。", (4, 7)),
    ("床前明月光，疑是地上霜。", (2, 5)),
    ("床前明月光。疑是地上霜，举头望明月，低头思故乡。", None),   # 标点位置不对
    ("床前明月光，疑是地上霜。举头望明月，低头思故乡", None),      # 缺结尾标点
    ("床前明月光，疑是地上霜。举头望明月，低头思故。", None),      # 一句只有 4 字
    ("床前明月光，疑是地上霜。举头望明月，", None),                # 奇数句
    ("床前明月□，疑是地上霜。举头望明月，低头思故乡。", None),    # 缺字符号不是汉字
    ("床前明月光,疑是地上霜.举头望明月,低头思故乡.", None),        # 半角标点
    ("", None),
])
def test_poem_shape_and_quatrain(text, shape):
    assert poetry.poem_shape(text) == shape
    assert poetry.is_five_char_quatrain(text) == (shape == (4, 5))


def test_is_clean_and_fingerprint():
    assert poetry.is_clean("床前明月光，疑是地上霜。")
    assert not poetry.is_clean("闌风长雨（一作「东风细雨」）秋纷纷。")
    assert not poetry.is_clean("冰□已镂津。")
    a = [Poem("静夜思", "李白", ("床前明月光，",))]
    b = [Poem("静夜思", "某人", ("床前明月光，",))]
    assert poetry.poems_fingerprint(a) == poetry.poems_fingerprint(list(a))
    assert poetry.poems_fingerprint(a) != poetry.poems_fingerprint(b)
