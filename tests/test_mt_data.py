"""机器翻译数据集：清洗、词元化、截断填充、划分与小批量。"""
import pytest
import torch

import seqbook
from seqbook.data import mt_data


@pytest.fixture(scope="module")
def data():
    return seqbook.load_translation("cmn-eng", num_steps=12, max_tokens=10, num_test=1000)


def test_preprocess_and_tokenize():
    assert seqbook.preprocess_english("Hi, Tom!") == "hi , tom !"
    assert seqbook.preprocess_english("Go.\u202fNow\xa0!") == "go . now !"
    assert seqbook.tokenize_english("He's calm.") == ["he's", "calm", "."]
    assert seqbook.tokenize_chinese("湯姆，你好！") == ["汤", "姆", "，", "你", "好", "！"]
    assert seqbook.tokenize_chinese("Tom喜歡 2個") == ["Tom", "喜", "欢", "2", "个"]


def test_truncate_pad_and_build_array():
    assert seqbook.truncate_pad([1, 2, 3], 5, 0) == [1, 2, 3, 0, 0]
    assert seqbook.truncate_pad([1, 2, 3], 2, 0) == [1, 2]
    for bad, exc in ((0, ValueError), (-1, ValueError), (2.5, TypeError)):
        with pytest.raises(exc, match="num_steps"):
            seqbook.truncate_pad([1], bad, 0)
    vocab = seqbook.Vocab([["a", "b"]], reserved_tokens=mt_data.RESERVED_TOKENS)
    array, valid = seqbook.build_array([["a"], ["a", "b", "zzz"]], vocab, 3)
    pad, eos = vocab["<pad>"], vocab["<eos>"]
    assert array.tolist() == [[vocab["a"], eos, pad], [vocab["a"], vocab["b"], vocab.unk]]
    assert valid.tolist() == [2, 3]
    with pytest.raises(ValueError, match="保留词元"):
        seqbook.build_array([["a"]], seqbook.Vocab([["a"]]), 3)


def test_exactly_600_fra_pairs():
    src, tgt = seqbook.read_translation_pairs("fra-eng", num_examples=600)
    assert len(src) == len(tgt) == 600   # 不是 601
    assert src[0] == ["go", "."] and tgt[0] == ["va", "!"]
    with pytest.raises(ValueError, match="num_examples"):
        seqbook.read_translation_pairs("fra-eng", num_examples=0)
    with pytest.raises(ValueError, match="name"):
        seqbook.read_translation_pairs("deu-eng")


def test_split_keeps_source_sentences_on_one_side():
    src = [["a"], ["b"], ["a"], ["c"], ["d"], ["b"]]
    tgt = [["1"], ["2"], ["3"], ["4"], ["5"], ["6"]]
    train, test = seqbook.split_by_source(src, tgt, 2, seed=1)
    assert len(test) == 2
    test_src = {tuple(s) for s, _ in test}
    assert not test_src & {tuple(s) for s, _ in train}
    for s, refs in test:   # 每个测试句子带上它的全部译文
        assert refs == [t for x, t in zip(src, tgt) if x == s]
    assert len(train) + sum(len(r) for _, r in test) == len(src)
    assert seqbook.split_by_source(src, tgt, 2, seed=1) == (train, test)
    with pytest.raises(ValueError, match="num_test"):
        seqbook.split_by_source(src, tgt, 4)
    with pytest.raises(ValueError, match="等长"):
        seqbook.split_by_source(src, tgt[:2], 1)


def test_dataset_properties(data):
    assert len(data.test_pairs) == 1000
    train_src = {tuple(s) for s, _ in data.train_pairs}
    assert all(tuple(s) not in train_src for s, _ in data.test_pairs)   # 测试句子不在训练集中
    assert all(0 < len(s) <= 10 and 0 < len(t) <= 10 for s, t in data.train_pairs)
    assert all(refs and all(0 < len(r) <= 10 for r in refs) for _, refs in data.test_pairs)
    for array, valid, vocab in [(data.src, data.src_valid_len, data.src_vocab),
                                (data.tgt, data.tgt_valid_len, data.tgt_vocab)]:
        assert array.shape == (len(data), 12) and (valid >= 2).all()
        pad, eos = vocab["<pad>"], vocab["<eos>"]
        mask = seqbook.sequence_mask(valid, 12)
        assert ((array == pad) == ~mask).all()                  # 填充只在有效长度之后
        assert (array.gather(1, (valid - 1).unsqueeze(1)) == eos).all()  # 有效部分以 <eos> 结尾
    assert [data.tgt_vocab[t] for t in ("<unk>", "<pad>", "<bos>", "<eos>")] == [0, 1, 2, 3]
    # 中文已统一为简体
    chars = {c for _, t in data.train_pairs for c in t}
    assert "们" in chars and "們" not in chars


def test_same_seed_same_split(data):
    again = seqbook.load_translation("cmn-eng", num_steps=12, max_tokens=10, num_test=1000)
    assert again.fingerprint == data.fingerprint
    other = seqbook.load_translation("cmn-eng", num_steps=12, max_tokens=10, num_test=1000, seed=1)
    assert other.fingerprint != data.fingerprint


def test_train_iter(data):
    seen, n = set(), 0
    g = torch.Generator().manual_seed(0)
    for X, X_len, Y, Y_len in data.train_iter(64, generator=g):
        assert X.shape[1] == int(X_len.max()) and Y.shape[1] == int(Y_len.max())
        assert X.shape[0] == Y.shape[0] <= 64
        n += X.shape[0]
    assert n == len(data)
    X, X_len, Y, Y_len = next(data.train_iter(5, shuffle=False, bucket=False, trim=False))
    assert torch.equal(X, data.src[:5]) and torch.equal(Y_len, data.tgt_valid_len[:5])
    with pytest.raises(ValueError, match="batch_size"):
        next(data.train_iter(0))


def test_encode_source_unknown_and_empty(data):
    X, valid = seqbook.encode_source(["I love xyzzyq .", ["go", "."]], data.src_vocab, 6)
    assert X.shape == (2, 6) and valid.tolist() == [5, 3]
    assert X[0, 2].item() == data.src_vocab.unk
    X1, _ = seqbook.encode_source("go .", data.src_vocab, 6)
    assert torch.equal(X1[0], X[1])
    with pytest.raises(ValueError, match="为空"):
        seqbook.encode_source(["go .", "  "], data.src_vocab, 6)
    with pytest.raises(ValueError, match="sentences"):
        seqbook.encode_source([], data.src_vocab, 6)
    with pytest.raises(ValueError, match="num_steps"):
        seqbook.encode_source("go .", data.src_vocab, 0)


def test_load_translation_bad_args():
    with pytest.raises(ValueError, match="num_steps"):
        seqbook.load_translation("fra-eng", num_steps=0, num_examples=50, num_test=0)
    with pytest.raises(ValueError, match="max_tokens"):
        seqbook.load_translation("fra-eng", max_tokens=-1, num_examples=50, num_test=0)
