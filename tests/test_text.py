"""seqbook.data.text：词元化、词表、《时间机器》语料库。"""
import pytest

import seqbook
from seqbook.data.text import (
    Vocab,
    count_corpus,
    load_corpus_time_machine,
    preprocess_line,
    tokenize,
)


def test_tokenize_word_and_char():
    lines = ["the time machine", "by h g wells"]
    assert tokenize(lines, "word") == [["the", "time", "machine"], ["by", "h", "g", "wells"]]
    assert tokenize(["ab c"], "char") == [["a", "b", " ", "c"]]


def test_tokenize_bad_arguments():
    with pytest.raises(TypeError, match="lines"):
        tokenize("a single string")
    with pytest.raises(ValueError, match="词元类型"):
        tokenize(["abc"], "byte")


def test_count_corpus_flat_and_nested():
    assert count_corpus(["a", "b", "a"])["a"] == 2
    assert count_corpus([["a", "b"], ["a"]])["a"] == 2


def test_vocab_order_unk_and_round_trip():
    tokens = ["b", "a", "c", "a", "b", "a"]
    vocab = Vocab(tokens)
    assert vocab.idx_to_token == ["<unk>", "a", "b", "c"]  # 频率从高到低
    assert vocab.token_freqs == [("a", 3), ("b", 2), ("c", 1)]
    assert vocab["zzz"] == vocab.unk == 0
    assert vocab.to_tokens(vocab[["c", "a", "b"]]) == ["c", "a", "b"]
    assert "a" in vocab and "zzz" not in vocab
    assert len(vocab) == 4


def test_vocab_ties_keep_first_occurrence():
    vocab = Vocab(["y", "x", "x", "y", "z"])
    assert vocab.idx_to_token == ["<unk>", "y", "x", "z"]


def test_vocab_min_freq_and_reserved_tokens():
    vocab = Vocab(["a", "a", "b"], min_freq=2, reserved_tokens=["<pad>", "<bos>"])
    assert vocab.idx_to_token == ["<unk>", "<pad>", "<bos>", "a"]
    assert vocab["b"] == vocab.unk  # 频率太低，映射到 <unk>
    assert vocab["<pad>"] == 1


def test_vocab_tensor_to_tokens():
    import torch
    vocab = Vocab(list("abca"))
    assert vocab.to_tokens(torch.tensor([1, 2])) == ["a", "b"]


def test_vocab_bad_arguments():
    with pytest.raises(ValueError, match="min_freq"):
        Vocab(["a"], min_freq=-1)
    with pytest.raises(ValueError, match="重复"):
        Vocab(["a"], reserved_tokens=["<pad>", "<pad>"])
    with pytest.raises(ValueError, match="<unk>"):
        Vocab(["a"], reserved_tokens=["<unk>"])
    with pytest.raises(IndexError, match="超出"):
        Vocab(["a"]).to_tokens(5)


def test_preprocess_line():
    assert preprocess_line("  The Time-Machine, 1898!  ") == "the time machine"
    assert preprocess_line("123 ...") == ""


def test_read_time_machine_lines_are_clean():
    lines = seqbook.read_time_machine()
    assert lines[0] == "the time machine by h g wells"
    assert all(line and set(line) <= set("abcdefghijklmnopqrstuvwxyz ") for line in lines)


def test_load_corpus_time_machine_char_and_word():
    corpus, vocab = load_corpus_time_machine("char")
    assert len(vocab) == 28 and vocab.to_tokens(0) == "<unk>"
    assert "".join(vocab.to_tokens(corpus[:16])) == "the time machine"
    assert vocab.unk not in corpus
    # 行与行之间用空格连接：前一行的最后一个单词不会和下一行的第一个粘在一起
    text = "".join(vocab.to_tokens(corpus[:200]))
    assert "wells i the time traveller" in text
    corpus_w, vocab_w = load_corpus_time_machine("word", max_tokens=100)
    assert len(corpus_w) == 100
    assert vocab_w.to_tokens(corpus_w[:3]) == ["the", "time", "machine"]


def test_load_corpus_bad_max_tokens():
    with pytest.raises(ValueError, match="max_tokens"):
        load_corpus_time_machine(max_tokens=0)
