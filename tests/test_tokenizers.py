"""分词器：字符分词器与 BPE 的往返、确定性、合并顺序、保存与核对、错误输入。"""
import json
import random

import pytest

from seqbook.data.bpe import BPETokenizer
from seqbook.data.tokenizers import CharTokenizer, load_tokenizer, pre_tokenize

POEMS = ["床前明月光，疑是地上霜。举头望明月，低头思故乡。",
         "春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少。",
         "白日依山尽，黄河入海流。欲穷千里目，更上一层楼。",
         "明月松间照，清泉石上流。竹喧归浣女，莲动下渔舟。",
         "明月几时有？把酒问青天。不知天上宫阙，今夕是何年。"] * 3


def random_unicode(rng, n):
    """随机的 Unicode 字符串：汉字、扩展区汉字、拉丁字母、表情、控制字符、孤立的代理码位都有。"""
    pools = [(0x4E00, 0x9FFF), (0x20000, 0x2A6DF), (0x20, 0x7E), (0x1F600, 0x1F64F),
             (0x0, 0x1F), (0xD800, 0xDFFF), (0x0, 0x10FFFF)]
    return "".join(chr(rng.randint(*rng.choice(pools))) for _ in range(n))


@pytest.fixture(scope="module")
def bpe():
    return BPETokenizer.train(POEMS, num_merges=40)


def test_pre_tokenize():
    assert pre_tokenize("床前明月光，疑是 Tom 2024年\n") == ["床前明月光", "，", "疑是", " ", "Tom", " ",
                                                        "2024", "年", "\n"]


def test_bpe_round_trip_random_and_real(bpe):
    rng = random.Random(0)
    for _ in range(300):
        s = random_unicode(rng, rng.randint(0, 30))
        assert bpe.decode(bpe.encode(s)) == s
    for s in POEMS + ["", " ", "<eos>", "Hello,  world!\n\t", "𠀀𪚥龘", "🙂👍🏽", "\ud800x\udfff", "\x00"]:
        assert bpe.decode(bpe.encode(s)) == s


def test_bpe_learns_frequent_pairs_and_compresses(bpe):
    assert "明月" in bpe.id_to_token
    text = POEMS[0]
    assert len(bpe.encode(text)) < len(text)
    # 没见过的字符走字节回退：一个汉字 3 个字节词元
    ids = bpe.encode("龘")
    assert [bpe.id_to_token[i] for i in ids] == ["<0xE9>", "<0xBE>", "<0x98>"]


def test_bpe_is_deterministic_and_order_independent_of_globals():
    a = BPETokenizer.train(POEMS, num_merges=30)
    random.seed(123)
    b = BPETokenizer.train(list(POEMS), num_merges=30)
    assert a.merges == b.merges and a.fingerprint == b.fingerprint


def test_bpe_tie_break_rule():
    # "ab" 与 "cd" 各出现 2 次：次数相同，取 (左, 右) 字符串最小的一对 ("a", "b")
    tok = BPETokenizer.train(["cd ab", "ab cd"], num_merges=1, special_tokens=())
    (pair,) = tok.merges
    assert (tok.id_to_token[pair[0]], tok.id_to_token[pair[1]]) == ("a", "b")
    tok2 = BPETokenizer.train(["cd ab", "ab cd"], num_merges=2, special_tokens=())
    assert tok2.id_to_token[-2:] == ["ab", "cd"]


def test_bpe_stops_when_no_pair_repeats():
    tok = BPETokenizer.train(["abcd"], num_merges=10)
    assert tok.merges == []   # 每个相邻对只出现 1 次


def test_merges_applied_in_training_order(bpe):
    """encode 的结果等于对基础符号依次应用每一条合并。"""
    from seqbook.data.bpe import _merge_ids
    first = bpe.char_offset + len(bpe.chars)
    for text in POEMS[:5] + ["明月明月明月光"]:
        for chunk in pre_tokenize(text):
            ids = bpe._base_ids(chunk)
            for r, pair in enumerate(bpe.merges):
                ids = _merge_ids(ids, pair, first + r)
            assert bpe.encode(chunk) == ids


def test_training_segmentation_equals_encode():
    """训练结束时块的切分与 encode 的结果一致（训练与编码用同样的合并规则）。"""
    from seqbook.data.bpe import _learn_merges
    tok0 = BPETokenizer.train(POEMS, num_merges=0)
    chunks = sorted({c for t in POEMS for c in pre_tokenize(t)})
    words = [tok0._base_ids(c) for c in chunks]
    merges = _learn_merges(words, [1] * len(words), tok0.id_to_token[:], 25)
    tok = BPETokenizer(tok0.chars, merges)
    assert [tok.encode(c) for c in chunks] == words


def test_vocab_size_and_min_frequency():
    tok = BPETokenizer.train(POEMS, vocab_size=3 + 256 + len(set("".join(POEMS))) + 5)
    assert len(tok) == tok.vocab_size and len(tok.merges) == 5
    rare = BPETokenizer.train(POEMS + ["龘"], num_merges=0, min_frequency=2)
    assert "龘" not in rare.chars and rare.decode(rare.encode("龘")) == "龘"
    with pytest.raises(ValueError, match="vocab_size 至少应为"):
        BPETokenizer.train(POEMS, vocab_size=100)


def test_special_tokens_never_produced_by_encode(bpe):
    ids = bpe.encode("<pad><bos><eos>")
    assert not set(ids) & {bpe.pad_id, bpe.bos_id, bpe.eos_id}
    assert (bpe.pad_id, bpe.bos_id, bpe.eos_id) == (0, 1, 2)
    seq = [bpe.bos_id] + bpe.encode("明月") + [bpe.eos_id]
    assert bpe.decode(seq) == "<bos>明月<eos>"
    assert bpe.decode(seq, skip_special=True) == "明月"


def test_decode_invalid_bytes_is_replacement(bpe):
    assert bpe.decode([bpe.byte_offset + 0xE4]) == "\ufffd"


def test_save_load_and_check(tmp_path, bpe):
    path = bpe.save(tmp_path / "bpe.json")
    back = load_tokenizer(path, fingerprint=bpe.fingerprint, vocab_size=len(bpe))
    assert back == bpe and back.encode(POEMS[0]) == bpe.encode(POEMS[0])
    other = BPETokenizer.train(POEMS, num_merges=10)
    with pytest.raises(ValueError, match="不匹配.*指纹"):
        load_tokenizer(other.save(tmp_path / "other.json"), fingerprint=bpe.fingerprint)
    with pytest.raises(ValueError, match="不匹配.*词表大小"):
        load_tokenizer(path, vocab_size=len(bpe) + 1)


def test_load_bad_files(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="JSON"):
        load_tokenizer(bad)
    bad.write_text(json.dumps({"hello": 1}), encoding="utf-8")
    with pytest.raises(ValueError, match="不是 seqbook 的分词器文件"):
        load_tokenizer(bad)
    bad.write_text(json.dumps({"format": "seqbook-tokenizer", "version": 1, "type": "bpe",
                               "chars": ["a"], "special_tokens": []}), encoding="utf-8")
    with pytest.raises(ValueError, match="缺少字段 'merges'"):
        load_tokenizer(bad)
    bad.write_text(json.dumps({"format": "seqbook-tokenizer", "version": 1, "type": "bpe",
                               "chars": ["a"], "special_tokens": [], "merges": [[0, 9999]]}),
                   encoding="utf-8")
    with pytest.raises(ValueError, match="merges 的第 0 条"):
        load_tokenizer(bad)


def test_bad_inputs(bpe):
    with pytest.raises(TypeError, match="texts"):
        BPETokenizer.train("床前明月光", num_merges=1)
    with pytest.raises(TypeError, match="第 1 个元素"):
        BPETokenizer.train(["a", 1], num_merges=1)
    with pytest.raises(ValueError, match="恰好给出一个"):
        BPETokenizer.train(POEMS)
    with pytest.raises(ValueError, match="num_merges"):
        BPETokenizer.train(POEMS, num_merges=-1)
    with pytest.raises(TypeError, match="text"):
        bpe.encode(["床"])
    with pytest.raises(ValueError, match="超出词表范围"):
        bpe.decode([len(bpe)])
    with pytest.raises(TypeError, match="ids"):
        bpe.decode("明月")
    with pytest.raises(ValueError, match="不是这个分词器的特殊词元"):
        bpe.special_id("<cls>")


def test_char_tokenizer_round_trip_and_unknown_error():
    tok = CharTokenizer.train(POEMS)
    assert tok.chars[0] == "，" or tok.chars[0] == "。"   # 最常见的字符排在前面
    assert tok.decode(tok.encode(POEMS[0])) == POEMS[0]
    assert len(tok.encode(POEMS[0])) == len(POEMS[0])
    with pytest.raises(ValueError, match=r"2 种字符不在.*'龘'（U\+9F98）.*'😀'（U\+1F600）.*BPETokenizer"):
        tok.encode("明月龘😀龘")


def test_char_tokenizer_unk_policy(tmp_path):
    tok = CharTokenizer.train(POEMS, unknown="unk")
    unk = tok.special_id("<unk>")
    assert tok.encode("明龘") == [tok.encode("明")[0], unk]
    back = load_tokenizer(tok.save(tmp_path / "char.json"), fingerprint=tok.fingerprint)
    assert back == tok and back.special_tokens == tok.special_tokens
    assert tok.fingerprint != CharTokenizer.train(POEMS).fingerprint
    with pytest.raises(ValueError, match="unknown"):
        CharTokenizer(["a"], unknown="drop")
    with pytest.raises(ValueError, match="重复"):
        CharTokenizer(["a", "a"])
    with pytest.raises(ValueError, match="单个字符"):
        CharTokenizer(["ab"])
    with pytest.raises(ValueError, match="special_tokens 中有重复"):
        CharTokenizer(["a"], special_tokens=["<pad>", "<pad>"])
