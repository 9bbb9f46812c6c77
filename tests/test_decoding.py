"""解码：贪心、束搜索、穷举搜索、翻译与 BLEU 评估。"""
import itertools
import math

import pytest
import torch

import seqbook

BOS, EOS = 2, 3


def _gru_model(src_vocab=11, tgt_vocab=9):
    seqbook.set_seed(0)
    enc = seqbook.Seq2SeqEncoder(src_vocab, 8, 16, 2)
    dec = seqbook.Seq2SeqDecoder(tgt_vocab, 8, 16, 2)
    model = seqbook.EncoderDecoder(enc, dec).eval()
    # 放大输出层，让分布更尖锐、路径更分明
    with torch.no_grad():
        model.decoder.dense.weight.mul_(8)
    return model


def _inputs(batch_size=5):
    torch.manual_seed(1)
    X = torch.randint(4, 11, (batch_size, 6))
    lens = torch.randint(1, 7, (batch_size,))
    return X, lens


def _toy_probs(vocab_size=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.softmax(torch.randn(vocab_size, vocab_size, generator=g) * 2, dim=-1)


def _brute_force(probs, max_len, alpha):
    """不经过模型接口，直接在概率表上枚举所有序列。"""
    best = (-math.inf, None)
    V = probs.shape[0]
    for L in range(1, max_len + 1):
        for seq in itertools.product(range(V), repeat=L):
            if EOS in seq[:-1] or (L < max_len and seq[-1] != EOS) or BOS in seq:
                continue  # 不合法的序列；<bos> 永远不会被生成
            prev, lp = BOS, 0.0
            for tok in seq:
                lp += math.log(probs[prev, tok].item())
                prev = tok
            score = lp / L ** alpha
            if score > best[0]:
                best = (score, [t for t in seq if t != EOS])
    return best


def test_beam_size_one_equals_greedy():
    model = _gru_model()
    X, lens = _inputs(8)
    greedy, greedy_lp = seqbook.greedy_search(model, X, lens, BOS, EOS, 7)
    for alpha in (0.0, 0.75):
        beam, scores = seqbook.beam_search(model, X, lens, BOS, EOS, 7, 1, alpha=alpha)
        assert beam == greedy
    beam, scores = seqbook.beam_search(model, X, lens, BOS, EOS, 7, 1, alpha=0.0)
    assert torch.allclose(scores, greedy_lp, atol=1e-4)


def test_greedy_matches_manual_loop():
    model = _gru_model()
    X, lens = _inputs(1)
    state = model.init_decoder_state(X, lens)
    inputs, out = torch.tensor([[BOS]]), []
    for _ in range(7):
        logits, state = model.decoder(inputs, state)
        inputs = logits.argmax(-1)
        if inputs.item() == EOS:
            break
        out.append(inputs.item())
    assert seqbook.greedy_search(model, X, lens, BOS, EOS, 7)[0] == [out]


@pytest.mark.parametrize("alpha", [0.0, 0.75])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_large_beam_equals_exhaustive_on_toy_model(alpha, seed):
    probs = _toy_probs(5, seed)
    model = seqbook.markov_model(probs).eval()
    X = torch.zeros(1, 1, dtype=torch.long)
    max_len = 4
    best_score, best_seq = _brute_force(probs, max_len, alpha)
    seq, score = seqbook.exhaustive_search(model, X, None, BOS, EOS, max_len, alpha)
    assert seq == best_seq and score == pytest.approx(best_score, abs=1e-5)
    beam, scores = seqbook.beam_search(model, X, None, BOS, EOS, max_len, 5 ** max_len, alpha)
    assert beam == [best_seq] and scores[0].item() == pytest.approx(best_score, abs=1e-5)


def test_greedy_is_not_optimal_on_toy_model():
    # 第一步 A 最可能，但 A 之后只有很平的分布；B 之后几乎确定地结束
    probs = torch.full((5, 5), 0.01)
    probs[BOS] = torch.tensor([0.01, 0.5, 0.01, 0.08, 0.4])     # 先选 1（A）或 4（B）
    probs[1] = torch.tensor([0.25, 0.25, 0.01, 0.24, 0.25])
    probs[4] = torch.tensor([0.01, 0.01, 0.01, 0.96, 0.01])
    probs = probs / probs.sum(1, keepdim=True)
    model = seqbook.markov_model(probs).eval()
    X = torch.zeros(1, 1, dtype=torch.long)
    greedy, _ = seqbook.greedy_search(model, X, None, BOS, EOS, 3)
    beam, _ = seqbook.beam_search(model, X, None, BOS, EOS, 3, 2, alpha=0.0)
    best, _ = seqbook.exhaustive_search(model, X, None, BOS, EOS, 3, alpha=0.0)
    assert greedy[0][0] == 1 and beam == [best] == [[4]]


@pytest.mark.parametrize("beam_size", [2, 3, 6])
def test_batched_beam_equals_per_sentence(beam_size):
    model = _gru_model()
    X, lens = _inputs(6)
    batch, scores = seqbook.beam_search(model, X, lens, BOS, EOS, 7, beam_size)
    for i in range(6):
        single, s = seqbook.beam_search(model, X[i:i + 1], lens[i:i + 1], BOS, EOS, 7, beam_size)
        assert single[0] == batch[i]
        assert s[0].item() == pytest.approx(scores[i].item(), abs=1e-4)


def test_beam_handles_eos_and_nested_state():
    probs = _toy_probs(6, 3)
    model = seqbook.markov_model(probs).eval()
    X = torch.zeros(4, 1, dtype=torch.long)
    outs, scores = seqbook.beam_search(model, X, None, BOS, EOS, 5, 3)
    assert all(EOS not in out and len(out) <= 5 for out in outs)
    assert outs == [outs[0]] * 4                          # 相同输入，相同输出
    greedy, _ = seqbook.greedy_search(model, X, None, BOS, EOS, 5)
    assert all(EOS not in g for g in greedy)


def test_bad_arguments():
    model = _gru_model()
    X, lens = _inputs(2)
    for bad, exc in ((0, ValueError), (-1, ValueError), (1.5, TypeError)):
        with pytest.raises(exc, match="beam_size"):
            seqbook.beam_search(model, X, lens, BOS, EOS, 5, bad)
        with pytest.raises(exc, match="max_len"):
            seqbook.greedy_search(model, X, lens, BOS, EOS, bad)
    with pytest.raises(TypeError, match="model"):
        seqbook.greedy_search(model.decoder, X, lens, BOS, EOS, 5)
    with pytest.raises(ValueError, match="一个句子"):
        seqbook.exhaustive_search(model, X, lens, BOS, EOS, 2)


@pytest.fixture(scope="module")
def fra():
    data = seqbook.load_translation("fra-eng", num_steps=10, max_tokens=None, num_test=50,
                                    num_examples=300)
    seqbook.set_seed(0)
    model = seqbook.build_seq2seq(data.src_vocab, data.tgt_vocab, 16, 16, 1, 0.0)
    return data, model.eval()


def test_translate_and_vocab_checks(fra):
    data, model = fra
    out = seqbook.translate(model, ["go .", "xyzzy plugh !"], data.src_vocab, data.tgt_vocab, 10)
    assert len(out) == 2 and all(isinstance(t, str) for o in out for t in o)
    beam = seqbook.translate(model, "go .", data.src_vocab, data.tgt_vocab, 10, beam_size=3)
    assert len(beam) == 1
    with pytest.raises(ValueError, match="不匹配"):
        seqbook.translate(model, ["go ."], data.tgt_vocab, data.src_vocab, 10)
    with pytest.raises(ValueError, match="为空"):
        seqbook.translate(model, [""], data.src_vocab, data.tgt_vocab, 10)
    with pytest.raises(ValueError, match="num_steps"):
        seqbook.translate(model, ["go ."], data.src_vocab, data.tgt_vocab, 0)
    with pytest.raises(ValueError, match="beam_size"):
        seqbook.translate(model, ["go ."], data.src_vocab, data.tgt_vocab, 10, beam_size=0)


def test_evaluate_bleu_matches_corpus_bleu(fra):
    data, model = fra
    bleu, preds = seqbook.evaluate_bleu(model, data, batch_size=16)
    assert len(preds) == len(data.test_pairs) == 50
    refs = [r for _, r in data.test_pairs]
    assert bleu == seqbook.inference.bleu.corpus_bleu(preds, refs)
    bleu_small, _ = seqbook.evaluate_bleu(model, data, num_examples=10)
    assert bleu_small == seqbook.inference.bleu.corpus_bleu(preds[:10], refs[:10])
    empty = seqbook.load_translation("fra-eng", num_steps=10, max_tokens=None, num_test=0,
                                     num_examples=50)
    with pytest.raises(ValueError, match="测试集"):
        seqbook.evaluate_bleu(model, empty)


def test_markov_decoder_checks_and_state_not_mutated():
    with pytest.raises(ValueError, match="方阵"):
        seqbook.markov_model(torch.ones(3, 4))
    model = seqbook.markov_model(_toy_probs(5)).eval()
    state = model.init_decoder_state(torch.zeros(2, 1, dtype=torch.long), None)
    _, new_state = model.decoder(torch.tensor([[2], [2]]), state)
    assert state["history"][0].shape == (2, 0) and new_state["history"][0].shape == (2, 1)
    assert new_state["step"].tolist() == [1, 1] and state["step"].tolist() == [0, 0]


# ---------------- 坏输入与不许生成的词元（issue 8 第 4 节） ----------------

class _FixedDecoder(seqbook.Decoder):
    """每一步都输出同一行 logits 的解码器（测试用）。"""

    def __init__(self, logits):
        super().__init__()
        self.register_buffer("row", torch.as_tensor(logits, dtype=torch.float32))
        self.vocab_size = self.row.shape[0]

    def init_state(self, enc_outputs, enc_valid_lens):
        return torch.zeros(enc_outputs.shape[0], 1)

    def forward(self, X, state):
        return self.row.expand(X.shape[0], X.shape[1], -1).clone(), state


def _fixed_model(logits):
    return seqbook.EncoderDecoder(seqbook.models.markov._IdentityEncoder(), _FixedDecoder(logits)).eval()


def _all_searches(model, X, lens, bos=BOS, eos=EOS, max_len=3, **kwargs):
    """三种搜索各跑一次（穷举搜索只用第一个句子）。"""
    return [seqbook.greedy_search(model, X, lens, bos, eos, max_len, **kwargs)[0],
            seqbook.beam_search(model, X, lens, bos, eos, max_len, 3, **kwargs)[0],
            [seqbook.exhaustive_search(model, X[:1], None if lens is None else lens[:1], bos, eos,
                                       max_len, **kwargs)[0]]]


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_nan_or_inf_logits_raise_clear_error_in_every_search(bad):
    logits = torch.tensor([0.5, 1.0, -1.0, 0.2, 2.0])
    logits[4] = bad
    model = _fixed_model(logits)
    X = torch.zeros(2, 1, dtype=torch.long)
    for search in (lambda: seqbook.greedy_search(model, X, None, BOS, EOS, 4),
                   lambda: seqbook.beam_search(model, X, None, BOS, EOS, 4, 2),
                   lambda: seqbook.exhaustive_search(model, X[:1], None, BOS, EOS, 3)):
        with pytest.raises(ValueError, match="NaN"):
            search()
    # 真实模型的权重坏掉（例如训练发散）时同样如此
    gru = _gru_model()
    with torch.no_grad():
        gru.decoder.dense.bias[5] = float("nan")
    X, lens = _inputs(2)
    with pytest.raises(ValueError, match="NaN"):
        seqbook.greedy_search(gru, X, lens, BOS, EOS, 5)
    with pytest.raises(ValueError, match="NaN"):
        seqbook.beam_search(gru, X, lens, BOS, EOS, 5, 3)
    with pytest.raises(ValueError, match="NaN"):
        seqbook.exhaustive_search(gru, X[:1], lens[:1], BOS, EOS, 2)


def test_searches_never_emit_bos_or_banned_tokens():
    # <unk>=0、<pad>=1、<bos>=2 的 logits 最大，但它们不许生成
    model = _fixed_model(torch.tensor([9.0, 8.0, 10.0, -10.0, 1.0, 0.5]))
    X = torch.zeros(2, 1, dtype=torch.long)
    for outs in _all_searches(model, X, None, max_len=3, banned=(0, 1)):
        assert outs and all(not {0, 1, 2} & set(out) for out in outs)
        assert all(out == [4, 4, 4] for out in outs)
    # 默认只排除 <bos>
    for outs in _all_searches(model, X, None, max_len=3):
        assert all(out == [0, 0, 0] for out in outs)


def test_translate_never_emits_unk_pad_bos(fra):
    data, _ = fra
    seqbook.set_seed(0)
    for model in (seqbook.build_seq2seq(data.src_vocab, data.tgt_vocab, 16, 16, 1, 0.0),
                  seqbook.models.bahdanau.build_bahdanau(data.src_vocab, data.tgt_vocab, 16, 16, 1, 0.0),
                  seqbook.build_transformer(len(data.src_vocab), len(data.tgt_vocab), 16, 32, 2, 1)):
        model.eval()
        with torch.no_grad():  # 让 <unk>、<pad>、<bos> 成为最可能的输出
            for token in ("<unk>", "<pad>", "<bos>"):
                model.decoder.dense.bias[data.tgt_vocab[token]] = 50.0
        for beam_size in (1, 3):
            out = seqbook.translate(model, ["go .", "i won !"], data.src_vocab, data.tgt_vocab, 10,
                                    beam_size=beam_size)
            assert all(len(o) > 0 for o in out)
            assert not {"<unk>", "<pad>", "<bos>"} & {t for o in out for t in o}, (type(model.decoder), out)


def test_all_tokens_banned_or_impossible_gives_clear_error():
    model = _fixed_model(torch.tensor([0.0, float("-inf"), 5.0, float("-inf"), float("-inf")]))
    X = torch.zeros(1, 1, dtype=torch.long)
    for search in (lambda: seqbook.greedy_search(model, X, None, BOS, EOS, 3, banned=(0,)),
                   lambda: seqbook.beam_search(model, X, None, BOS, EOS, 3, 2, banned=(0,)),
                   lambda: seqbook.exhaustive_search(model, X, None, BOS, EOS, 3, banned=(0,))):
        with pytest.raises(ValueError, match="概率都是 0"):
            search()
    with pytest.raises(ValueError, match="eos"):
        seqbook.greedy_search(model, X, None, BOS, EOS, 3, banned=(EOS,))


def test_translate_checks_vocab_sizes_for_every_model_kind(fra):
    data, _ = fra
    small = seqbook.Vocab([list("短词表")], reserved_tokens=seqbook.data.mt_data.RESERVED_TOKENS)
    big = seqbook.Vocab([list(data.tgt_vocab.idx_to_token) + ["多一个", "再多一个"]],
                        reserved_tokens=seqbook.data.mt_data.RESERVED_TOKENS)
    seqbook.set_seed(0)
    models = {"gru": seqbook.build_seq2seq(data.src_vocab, data.tgt_vocab, 16, 16, 1, 0.0),
              "bahdanau": seqbook.models.bahdanau.build_bahdanau(data.src_vocab, data.tgt_vocab, 16, 16, 1, 0.0),
              "transformer": seqbook.build_transformer(len(data.src_vocab), len(data.tgt_vocab),
                                                      16, 32, 2, 1)}
    for kind, model in models.items():
        model.eval()
        for wrong in (small, big):
            with pytest.raises(ValueError, match="tgt_vocab.*不匹配"):
                seqbook.translate(model, ["go ."], data.src_vocab, wrong, 10)
        with pytest.raises(ValueError, match="src_vocab.*不匹配"):
            seqbook.translate(model, ["go ."], small, data.tgt_vocab, 10)
        with pytest.raises(ValueError, match="src_vocab.*不匹配.*弄反"):  # 源、目标词表弄反了
            seqbook.translate(model, ["go ."], data.tgt_vocab, data.src_vocab, 10)


@pytest.mark.parametrize("search", ["greedy", "beam", "exhaustive"])
def test_bos_eos_and_valid_lens_are_checked_at_entry(search):
    def call(model, X, lens, bos, eos):
        if search == "greedy":
            return seqbook.greedy_search(model, X, lens, bos, eos, 4)
        if search == "beam":
            return seqbook.beam_search(model, X, lens, bos, eos, 4, 2)
        return seqbook.exhaustive_search(model, X[:1], None if lens is None else lens[:1], bos, eos, 2)

    gru = _gru_model()              # 目标词表大小 9
    X, lens = _inputs(2)
    with pytest.raises(ValueError, match=r"bos 应在 \[0, 9\)"):
        call(gru, X, lens, 99, EOS)
    with pytest.raises(ValueError, match="eos"):
        call(gru, X, lens, BOS, 9)
    with pytest.raises(ValueError, match="eos"):
        call(gru, X, lens, BOS, -1)
    with pytest.raises(TypeError, match="bos"):
        call(gru, X, lens, 2.0, EOS)
    with pytest.raises(ValueError, match="bos.*eos"):
        call(gru, X, lens, BOS, BOS)
    toy = seqbook.markov_model(_toy_probs(5))  # 编码器原样返回输入，本身不检查有效长度
    X = torch.zeros(2, 1, dtype=torch.long)
    with pytest.raises(ValueError, match="enc_valid_lens.*负"):
        call(toy, X, torch.tensor([-1, -1]), BOS, EOS)
    with pytest.raises(TypeError, match="enc_valid_lens"):
        call(toy, X, torch.tensor([1.0, 1.0]), BOS, EOS)
