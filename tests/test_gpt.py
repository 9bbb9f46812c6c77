"""第 5 章 GPT：因果性、键值缓存、权重绑定与初始损失、旋转位置编码、输入检查、
生成（贪心/采样/缓存/停止/强制）、提示编码、写诗与藏头诗、多样性与抄袭指标、
训练窗口、每字比特数、n 元模型基线与一次小的预训练。全部用很小的模型。"""
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from seqbook.data.bpe import BPETokenizer
from seqbook.data.gpt_data import PoemCorpus, lm_windows, load_poem_corpus
from seqbook.data.poetry import (
    Poem,
    copied_lines,
    distinct_n,
    line_set,
    verse_lines,
)
from seqbook.data.tokenizers import CharTokenizer
from seqbook.inference.generate import encode_prompt, generate, write_poems
from seqbook.models.gpt import GPT, gpt_num_params
from seqbook.models.positional import apply_rotary, rotary_tables
from seqbook.training.gpt import (
    GPTConfig,
    bits_per_char,
    lm_loss,
    ngram_bits_per_char,
    poem_nll,
    pretrain_gpt,
)

V = 50
POSITIONS = ["learned", "rotary"]

# 训练分词器用的几首诗。特意含“？”“！”：write_poems 用 “，。？！” 判断句末，
# 词表里缺了其中的字时这些标点会被编码成 <unk>（见报告），这里不测那种情形。
POEMS = [
    "床前明月光，疑是地上霜。举头望明月，低头思故乡。",
    "白日依山尽，黄河入海流。欲穷千里目，更上一层楼。",
    "春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少？",
    "春风又绿江南岸，明月何时照我还！",
    "夏日秋风冬雪，春花秋月何时了？",
]


def tiny_gpt(position="learned", vocab_size=V, max_len=64, seed=0):
    torch.manual_seed(seed)
    return GPT(vocab_size, num_hiddens=32, ffn_num_hiddens=64, num_heads=2,
               num_layers=2, max_len=max_len, position=position).eval()


@pytest.fixture(params=POSITIONS)
def model(request):
    return tiny_gpt(request.param)


def poem(text, title="题", author="某"):
    """由正文构造 Poem：按句末标点切成联（一联一个元素）。"""
    lines, cur = [], ""
    for line in verse_lines(text):
        cur += line
        if line[-1] in "。？！":
            lines.append(cur)
            cur = ""
    if cur:
        lines.append(cur)
    return Poem(title, author, tuple(lines))


# ---------------------------------------------------------------- 模型


def test_causality(model):
    g = torch.Generator().manual_seed(1)
    X = torch.randint(0, V, (3, 12), generator=g)
    logits, _ = model(X)
    assert logits.shape == (3, 12, V)
    for j in (0, 5, 11):
        X2 = X.clone()
        X2[:, j] = (X2[:, j] + 1 + torch.arange(3)) % V
        logits2, _ = model(X2)
        # 之前的位置完全不变（逐位相等），位置 j 本身变了
        assert torch.equal(logits2[:, :j], logits[:, :j])
        assert (logits2[:, j] - logits[:, j]).abs().amax(-1).min() > 1e-3


def test_cache_matches_full_forward(model):
    g = torch.Generator().manual_seed(2)
    X = torch.randint(0, V, (2, 14), generator=g)
    full, full_cache = model(X)
    assert len(full_cache) == 2  # 每层一个 (K, V)
    K, Vv = full_cache[0]
    assert K.shape == Vv.shape == (2, 2, 14, 16)  # (b, nh, t, hd)
    # 逐个词元
    cache, steps = None, []
    for t in range(X.shape[1]):
        out, cache = model(X[:, t:t + 1], cache)
        steps.append(out)
    torch.testing.assert_close(torch.cat(steps, 1), full, atol=1e-5, rtol=1e-5)
    # 先送 5 个词元的提示，再一个一个地送
    out, cache = model(X[:, :5])
    chunks = [out]
    for t in range(5, X.shape[1]):
        out, cache = model(X[:, t:t + 1], cache)
        chunks.append(out)
    torch.testing.assert_close(torch.cat(chunks, 1), full, atol=1e-5, rtol=1e-5)
    for (k1, v1), (k2, v2) in zip(cache, full_cache):
        torch.testing.assert_close(k1, k2, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(v1, v2, atol=1e-5, rtol=1e-5)


def test_cache_is_not_modified_in_place(model):
    X = torch.randint(0, V, (2, 6), generator=torch.Generator().manual_seed(3))
    _, cache = model(X[:, :4])
    saved = [(k.clone(), v.clone()) for k, v in cache]
    out1, new = model(X[:, 4:5], cache)
    for (k, v), (k0, v0) in zip(cache, saved):
        assert k.shape[2] == 4 and torch.equal(k, k0) and torch.equal(v, v0)
    assert all(k.shape[2] == 5 for k, _ in new)
    # 同一个缓存可以再用一次（例如分叉续写），结果相同
    out2, _ = model(X[:, 4:5], cache)
    assert torch.equal(out1, out2)


@pytest.mark.parametrize("position", POSITIONS)
def test_weight_tying_and_parameter_count(position):
    model = tiny_gpt(position)
    # 没有单独的输出层：没有输出维数为 V 的线性层
    assert not any(isinstance(m, nn.Linear) and m.out_features == V
                   for m in model.modules())
    assert sum(p.numel() for p in model.parameters()) == gpt_num_params(
        V, 32, 64, 2, 64, position)
    # logits 就是最后的表示乘以词嵌入矩阵的转置
    X = torch.randint(0, 10, (2, 7))
    logits, _ = model(X)
    H = model.embedding(X)
    if position == "learned":
        H = H + model.pos_embedding(torch.arange(7))
    rot = (rotary_tables(7, model.head_dim) if position == "rotary" else None)
    for blk in model.blocks:
        H, _ = blk(H, None, rot)
    by_hand = model.final_norm(H) @ model.embedding.weight.T
    torch.testing.assert_close(logits, by_hand)
    # 输入里只有 0..9，词元 42 的嵌入行只能经由输出层得到梯度
    model.zero_grad()
    logits[..., 42].sum().backward()
    grad = model.embedding.weight.grad
    assert grad[42].abs().sum() > 0
    assert torch.all(grad[10:42] == 0) and torch.all(grad[43:] == 0)


def test_gpt_num_params_formula():
    assert gpt_num_params(10, 4, 8, 1, 6) == (
        10 * 4 + 6 * 4 + 4 * (16 + 4) + 2 * 4 * 8 + 8 + 4 + 4 * 4 + 2 * 4)
    assert gpt_num_params(10, 4, 8, 1, 6, "rotary") == gpt_num_params(
        10, 4, 8, 1, 6) - 6 * 4


def test_initial_loss_is_ln_vocab_and_the_unit_embedding_pitfall():
    torch.manual_seed(0)
    model = GPT(500, num_hiddens=64, ffn_num_hiddens=128, num_heads=2,
                num_layers=2, max_len=64).eval()
    g = torch.Generator().manual_seed(0)
    X = torch.randint(0, 500, (8, 64), generator=g)
    Y = torch.randint(0, 500, (8, 64), generator=g)
    with torch.no_grad():
        loss = lm_loss(model(X)[0], Y).item()
        assert abs(loss - math.log(500)) < 0.05 * math.log(500)
        # 词嵌入同时是输出层：若按 N(0, 1) 初始化，logits 很大，初始损失远高于 ln V
        nn.init.normal_(model.embedding.weight, std=1.0)
        bad = lm_loss(model(X)[0], Y).item()
    assert bad > 2 * math.log(500)


def test_lm_loss_is_mean_cross_entropy():
    logits = torch.randn(2, 3, 5)
    Y = torch.randint(0, 5, (2, 3))
    manual = -torch.log_softmax(logits, -1).gather(-1, Y[..., None]).mean()
    torch.testing.assert_close(lm_loss(logits, Y), manual)


# ---------------------------------------------------------------- 旋转位置编码


def test_rotary_preserves_norm():
    X = torch.randn(2, 3, 10, 16)
    cos, sin = rotary_tables(10, 16)
    R = apply_rotary(X, cos, sin)
    assert R.shape == X.shape
    torch.testing.assert_close(R.norm(dim=-1), X.norm(dim=-1), atol=1e-5, rtol=1e-5)
    # 位置 0 不旋转
    torch.testing.assert_close(R[..., 0, :], X[..., 0, :])


def test_rotary_score_depends_only_on_relative_offset():
    g = torch.Generator().manual_seed(0)
    hd = 16
    cos, sin = rotary_tables(80, hd)

    def rot(x, i):
        return apply_rotary(x[None], cos[i:i + 1], sin[i:i + 1])[0]

    for _ in range(5):
        q, k = torch.randn(hd, generator=g), torch.randn(hd, generator=g)
        for i, j in ((3, 1), (0, 7), (10, 10)):
            score = rot(q, i) @ rot(k, j)
            for s in (1, 5, 23, 60):
                torch.testing.assert_close(rot(q, i + s) @ rot(k, j + s), score,
                                           atol=1e-5, rtol=1e-5)
        # 相对位置不同时分数一般不同
        assert abs(rot(q, 5) @ rot(k, 1) - rot(q, 1) @ rot(k, 5)) > 1e-4


def test_rotary_tables_offset_and_shape():
    cos, sin = rotary_tables(5, 8, offset=7)
    cos_all, sin_all = rotary_tables(12, 8)
    assert cos.shape == sin.shape == (5, 8)
    torch.testing.assert_close(cos, cos_all[7:])
    torch.testing.assert_close(sin, sin_all[7:])
    # 两半用同样的角度；第 0 对的频率为 1
    torch.testing.assert_close(cos_all[:, :4], cos_all[:, 4:])
    torch.testing.assert_close(cos_all[:, 0], torch.cos(torch.arange(12.0)))


def test_rotary_odd_head_dim():
    with pytest.raises(ValueError, match="偶数"):
        rotary_tables(4, 7)


# ---------------------------------------------------------------- 输入检查


def test_learned_positions_limit_and_rotary_has_none():
    learned = tiny_gpt("learned", max_len=8)
    learned(torch.zeros(1, 8, dtype=torch.long))  # 恰好 max_len 可以
    with pytest.raises(ValueError, match="max_len"):
        learned(torch.zeros(1, 9, dtype=torch.long))
    _, cache = learned(torch.zeros(1, 6, dtype=torch.long))
    with pytest.raises(ValueError, match="max_len"):  # 缓存中的位置也算
        learned(torch.zeros(1, 3, dtype=torch.long), cache)
    rotary = tiny_gpt("rotary", max_len=8)
    logits, _ = rotary(torch.zeros(1, 20, dtype=torch.long))
    assert logits.shape == (1, 20, V) and torch.isfinite(logits).all()


def test_bad_tokens(model):
    with pytest.raises(ValueError, match="分词器与模型不匹配"):
        model(torch.tensor([[1, 2, V]]))
    with pytest.raises(ValueError, match="分词器与模型不匹配"):
        model(torch.tensor([[1, -1]]))
    with pytest.raises(ValueError, match="至少要有一个词元"):
        model(torch.zeros(2, 0, dtype=torch.long))
    with pytest.raises(TypeError, match="整数张量"):
        model(torch.zeros(1, 3))


def test_bad_constructor_args():
    with pytest.raises(ValueError, match="position"):
        GPT(V, 32, 64, 2, 2, 64, position="sinusoidal")
    with pytest.raises(ValueError, match="vocab_size"):
        GPT(0, 32, 64, 2, 2, 64)


# ---------------------------------------------------------------- 生成


def gen(model, prompt=(1, 2, 3), n=20, **kw):
    return generate(model, list(prompt), n, **kw)


def test_greedy_with_and_without_cache(model):
    a = gen(model, greedy=True, use_cache=True)
    b = gen(model, greedy=True, use_cache=False)
    assert a.shape == (1, 20) and a.dtype == torch.long
    assert torch.equal(a, b)
    # 第一个词元就是提示最后一个位置上 logits 最大的词元
    first = model(torch.tensor([[1, 2, 3]]))[0][0, -1].argmax()
    assert a[0, 0].item() == first.item()
    # 贪心的样本彼此相同
    c = gen(model, greedy=True, num_samples=3)
    assert torch.equal(c, a.expand(3, -1))


def test_sampling_reproducible_and_cache_independent(model):
    def sample(seed, use_cache=True, **kw):
        return gen(model, n=40, num_samples=3, use_cache=use_cache,
                   generator=torch.Generator().manual_seed(seed), **kw)

    a = sample(0)
    assert a.shape == (3, 40)
    assert torch.equal(a, sample(0))
    assert torch.equal(a, sample(0, use_cache=False))
    assert not torch.equal(a, sample(1))
    assert not torch.equal(a[0], a[1])  # 同一批里的样本各自采样
    kw = dict(temperature=0.8, top_k=10, top_p=0.9)
    assert torch.equal(sample(5, **kw), sample(5, use_cache=False, **kw))


def test_low_temperature_and_top_k_1_are_greedy(model):
    greedy = gen(model, greedy=True, n=30)
    g = torch.Generator().manual_seed(0)
    assert torch.equal(gen(model, n=30, temperature=1e-4, generator=g), greedy)
    assert torch.equal(gen(model, n=30, top_k=1, generator=g), greedy)


def test_stop_id(model):
    full = gen(model, greedy=True, n=30)[0].tolist()
    stop = full[3]
    first = full.index(stop)
    out = gen(model, greedy=True, n=30, stop_id=stop)[0].tolist()
    # 停止词元之前与不停止时相同；全部样本都停了就提前结束
    assert out == full[:first + 1]
    # 一个样本停止后只补 stop_id，别的样本继续
    def force(step, X):
        mask = torch.tensor([step == 2, False, False, False])
        return mask, torch.full((4,), 7)

    out = gen(model, n=30, num_samples=4, stop_id=7, force=force,
              generator=torch.Generator().manual_seed(0))
    assert out.shape[1] > 3
    assert torch.all(out[0, 2:] == 7)
    for row in out.tolist():
        if 7 in row:
            assert all(t == 7 for t in row[row.index(7):])


def test_force(model):
    seen = []

    def force(step, X):
        seen.append((step, X.shape))
        if step % 2:
            return None
        return torch.ones(2, dtype=torch.bool), torch.tensor([7, 9])

    for use_cache in (True, False):
        seen.clear()
        out = gen(model, n=10, num_samples=2, force=force, use_cache=use_cache,
                  generator=torch.Generator().manual_seed(0))
        assert out[0, 0::2].tolist() == [7] * 5 and out[1, 0::2].tolist() == [9] * 5
        assert seen == [(s, (2, 3 + s)) for s in range(10)]


def test_generate_context_window():
    learned = tiny_gpt("learned", max_len=8)
    with pytest.raises(ValueError, match="上下文窗口"):
        gen(learned, prompt=range(9))
    for use_cache in (True, False):
        with pytest.warns(UserWarning, match="上下文窗口"):
            out = gen(learned, n=20, greedy=True, use_cache=use_cache)
        assert out.shape == (1, 8 - 3)
    # 旋转位置编码没有上下文窗口的硬性上限
    rotary = tiny_gpt("rotary", max_len=8)
    assert gen(rotary, prompt=range(10), n=12, greedy=True).shape == (1, 12)


def test_generate_bad_args(model):
    with pytest.raises(ValueError, match="至少要有一个词元"):
        gen(model, prompt=[])
    for bad in ([1.0, 2.0], [True, 1], "床前"):
        with pytest.raises(TypeError, match="prompt"):
            generate(model, bad, 5)
    with pytest.raises(ValueError, match="分词器与模型不匹配"):
        gen(model, prompt=[1, V])
    for kw, name in (({"top_p": 0}, "top_p"), ({"top_p": 1.5}, "top_p"),
                     ({"temperature": 0}, "temperature"),
                     ({"temperature": -1}, "temperature"),
                     ({"top_k": 0}, "top_k"), ({"top_k": V + 1}, "top_k")):
        with pytest.raises(ValueError, match=name):
            gen(model, **kw)
    with pytest.raises(ValueError, match="max_new_tokens"):
        gen(model, n=0)
    with pytest.raises(ValueError, match="num_samples"):
        gen(model, num_samples=0)
    # 张量形式的提示也可以
    out = generate(model, torch.tensor([1, 2]), 3, greedy=True)
    assert torch.equal(out, gen(model, prompt=[1, 2], n=3, greedy=True))


# ---------------------------------------------------------------- 提示与写诗


def test_encode_prompt_char_tokenizer_unknown():
    tok = CharTokenizer.train(POEMS, unknown="unk")
    assert encode_prompt(tok, "床前") == [tok.bos_id] + tok.encode("床前")
    with pytest.raises(ValueError, match="中的字 龙、凤 不在"):
        encode_prompt(tok, "床前龙凤龙")


def test_encode_prompt_bpe_any_text():
    tok = BPETokenizer.train(POEMS, num_merges=20)
    for s in ("🐉 龙年，abc", "床前明月光", "☃"):
        ids = encode_prompt(tok, s)
        assert ids[0] == tok.bos_id
        assert tok.decode(ids[1:]) == s


@pytest.fixture
def poet():
    tok = CharTokenizer.train(POEMS, unknown="unk")
    return tiny_gpt("learned", vocab_size=len(tok)), tok


def punctuation(text):
    return sum(text.count(c) for c in "，。？！")


def test_write_poems_continues_prompt(poet):
    model, tok = poet
    g = torch.Generator().manual_seed(0)
    outs = write_poems(model, tok, "床前明月光，", num_lines=4, num_samples=5,
                       generator=g)
    assert isinstance(outs, list) and len(outs) == 5
    for text in outs:
        assert text.startswith("床前明月光，")
        assert punctuation(text) <= 4
    # 不给提示：无条件生成
    outs = write_poems(model, tok, num_lines=2, num_samples=3, generator=g)
    assert len(outs) == 3 and all(punctuation(t) <= 2 for t in outs)
    # 贪心、带不带缓存结果相同
    assert write_poems(model, tok, "春", greedy=True) == write_poems(
        model, tok, "春", greedy=True, use_cache=False)


def test_write_poems_stops_at_num_lines(poet):
    model, tok = poet
    # 让模型总是写“，”：每个词元都是一句的结尾，写满 num_lines 句就截断
    with torch.no_grad():
        model.final_norm.weight.zero_()
        comma = model.embedding.weight[tok.encode("，")[0]]
        model.final_norm.bias.copy_(comma * 100)
    for prompt in ("春风", "春风，"):  # 提示中的句子也计数
        got = write_poems(model, tok, prompt, num_lines=3, greedy=True)
        assert got == ["春风，，，"]


def test_acrostic(poet):
    model, tok = poet
    g = torch.Generator().manual_seed(0)
    outs = write_poems(model, tok, acrostic="春夏秋冬", num_samples=8,
                       max_tokens=60, generator=g)
    assert len(outs) == 8
    num_lines = 0
    for text in outs:
        lines = verse_lines(text)
        assert 1 <= len(lines) <= 4 and punctuation(text) <= 4
        for head, line in zip("春夏秋冬", lines):
            assert line[0] == head, (text, lines)
        num_lines += len(lines)
    assert num_lines > 8  # 确实写出了不止一句（不是每首都在第一句就结束）


def test_acrostic_bad_args(poet):
    model, tok = poet
    with pytest.raises(ValueError, match="prompt 应为空字符串"):
        write_poems(model, tok, "床前", acrostic="春夏")
    with pytest.raises(ValueError, match="acrostic 应为非空字符串"):
        write_poems(model, tok, acrostic="")
    with pytest.raises(ValueError, match="中的字 龙 不在"):
        write_poems(model, tok, acrostic="龙")


# ---------------------------------------------------------------- 指标


def test_distinct_n():
    assert distinct_n(["白日白日，"], 2) == pytest.approx(2 / 3)  # 白日、日白、白日
    assert distinct_n(["白日白日，"], 1) == pytest.approx(2 / 4)
    # 不跨标点：“白日，白日。” 只有两个“白日”，没有“日白”
    assert distinct_n(["白日，白日。"], 2) == pytest.approx(1 / 2)
    assert distinct_n(["床前明月光，", "疑是地上霜。"], 2) == 1.0
    assert distinct_n(["床前明月光，", "床前明月光。"], 2) == pytest.approx(4 / 8)
    assert distinct_n([], 2) == 0.0
    assert distinct_n(["白，"], 2) == 0.0


def test_copied_lines():
    train = [poem(POEMS[0]), poem(POEMS[1])]
    lines = line_set(train)
    assert "床前明月光" in lines and "更上一层楼" in lines and len(lines) == 8
    text = "床前明月光，疑是天上霜。举头望明月，低头思故乡。"
    assert copied_lines([text], lines) == (pytest.approx(3 / 4), 4)
    assert copied_lines([text], lines, skip=1) == (pytest.approx(2 / 3), 3)
    assert copied_lines([text, "白日依山尽，"], lines, skip=1) == (
        pytest.approx(2 / 3), 3)
    assert copied_lines([], lines) == (0.0, 0)


# ---------------------------------------------------------------- 训练数据


def test_lm_windows():
    stream = torch.arange(100) + 1000
    g = torch.Generator().manual_seed(0)
    X, Y = lm_windows(stream, 6, 10, g)
    assert X.shape == Y.shape == (6, 10)
    for x, y in zip(X, Y):
        start = int(x[0]) - 1000
        assert torch.equal(x, stream[start:start + 10])
        assert torch.equal(y, stream[start + 1:start + 11])
    X2, Y2 = lm_windows(stream, 6, 10, torch.Generator().manual_seed(0))
    assert torch.equal(X, X2) and torch.equal(Y, Y2)
    X3, _ = lm_windows(stream, 6, 10, torch.Generator().manual_seed(1))
    assert not torch.equal(X, X3)
    with pytest.raises(ValueError, match="截不出"):
        lm_windows(torch.arange(10), 2, 10)
    with pytest.raises(ValueError, match="seq_len"):
        lm_windows(stream, 2, 0)


def toy_corpus(train_texts, test_texts):
    return load_poem_corpus(poems=([poem(t) for t in train_texts],
                                   [poem(t) for t in test_texts]),
                            tokenizer="char", min_frequency=1)


def test_poem_corpus_stream_and_heldout():
    corpus = toy_corpus(POEMS[:2], [POEMS[0], "龙飞凤舞，", "春（缺）。"])
    assert isinstance(corpus, PoemCorpus)
    tok = corpus.tokenizer
    expected = corpus.encode_poem(POEMS[0]) + corpus.encode_poem(POEMS[1])
    assert corpus.stream.tolist() == expected
    assert expected[0] == tok.bos_id and expected[-1] == tok.eos_id
    # 留出诗只留干净的、每个字都在词表里的
    assert corpus.heldout() == [POEMS[0]]


@pytest.mark.parametrize("position", POSITIONS)
def test_poem_nll_and_bits_per_char(position):
    corpus = toy_corpus(POEMS, [POEMS[0]])
    model = tiny_gpt(position, vocab_size=len(corpus.tokenizer))
    texts = [POEMS[0], "春风", POEMS[3], "明月。"]
    nll, chars = poem_nll(model, corpus, texts)
    assert nll.shape == chars.shape == (4,) and nll.dtype == torch.float64
    assert chars.tolist() == [len(t) + 1 for t in texts]
    # 与手算一致：<bos> 之后的每个词元（含 <eos>）的交叉熵之和
    for i, t in enumerate(texts):
        ids = torch.tensor([corpus.encode_poem(t)])
        with torch.no_grad():
            logits, _ = model(ids[:, :-1])
        manual = F.cross_entropy(logits[0], ids[0, 1:], reduction="sum").item()
        assert nll[i].item() == pytest.approx(manual, rel=1e-5)
    # 批量大小不影响结果：填充不泄漏到有效位置
    nll1, _ = poem_nll(model, corpus, texts, batch_size=1)
    torch.testing.assert_close(nll1, nll, atol=1e-6, rtol=0)
    bpc = bits_per_char(model, corpus, texts)
    assert bpc == pytest.approx(nll.sum().item() / chars.sum().item() / math.log(2))
    # 未训练的模型接近均匀分布：约 log2 V 比特
    assert bpc == pytest.approx(math.log2(len(corpus.tokenizer)), rel=0.1)


def test_poem_corpus_built_by_hand():
    tok = CharTokenizer.train(POEMS[:1])
    stream = torch.tensor([tok.bos_id] + tok.encode(POEMS[0]) + [tok.eos_id])
    corpus = PoemCorpus("toy", [poem(POEMS[0])], [poem(POEMS[0])], tok, stream, "x")
    model = tiny_gpt("rotary", vocab_size=len(tok))
    nll, chars = poem_nll(model, corpus, [POEMS[0]])
    assert chars.item() == len(POEMS[0]) + 1 and nll.item() > 0


def test_ngram_bits_per_char():
    text = "春风春雨春花春月，春山春水春江春。"
    corpus = toy_corpus([text] * 5, [text])
    uni = ngram_bits_per_char(corpus, [text], 1)
    bi = ngram_bits_per_char(corpus, [text], 2)
    assert 0 < bi < uni
    # 一元模型：加一平滑的频率（训练诗的 5 份拷贝，<eos> 也计数）
    counts = {c: 5 * text.count(c) for c in set(text)}
    counts["<eos>"] = 5
    total, vocab = sum(counts.values()), len(counts) + 1
    seq = list(text) + ["<eos>"]
    bits = -sum(math.log2((counts[c] + 1) / (total + vocab)) for c in seq)
    manual = bits / len(seq)
    assert uni == pytest.approx(manual)


# ---------------------------------------------------------------- 预训练


def small_config(**kw):
    base = dict(num_hiddens=32, ffn_num_hiddens=64, num_heads=2, num_layers=2,
                max_len=32, num_steps=60, num_evals=2, batch_size=8, seq_len=16,
                lr=3e-3, name="gpt-test")
    return GPTConfig(**{**base, **kw})


def test_pretrain_gpt_learns_toy_corpus():
    text = POEMS[0]
    corpus = toy_corpus([text] * 20, [text])
    config = small_config()
    torch.manual_seed(0)
    model = config.build_for(corpus)
    Vc = len(corpus.tokenizer)
    assert model.vocab_size == Vc and model.max_len == 32
    before = bits_per_char(model, corpus, [text])
    result = pretrain_gpt(model, corpus, config, device="cpu")
    assert result.steps == [30, 60]
    assert len(result.losses) == len(result.val_bpc) == 2
    assert result.val_bpc[-1] < result.val_bpc[0] < before
    assert result.val_bpc[-1] < 0.5 * before
    # 60 步后第二段的平均训练损失约 1.15，远低于初始的 ln V ≈ 3.14
    assert result.losses[-1] < 0.5 * math.log(Vc)
    assert not model.training


def test_pretrain_gpt_bad_config():
    corpus = toy_corpus([POEMS[0]] * 3, [POEMS[0]])
    model = tiny_gpt("learned", vocab_size=len(corpus.tokenizer), max_len=32)
    with pytest.raises(ValueError, match="不能超过"):
        pretrain_gpt(model, corpus, small_config(seq_len=64), device="cpu")
    with pytest.raises(ValueError, match="不能多于"):
        pretrain_gpt(model, corpus, small_config(num_steps=5, num_evals=10),
                     device="cpu")


def test_tokenizer_that_does_not_match_the_model_is_a_clear_error(tmp_path):
    """分词器文件与模型不匹配（词表大小或指纹不同）：载入或写诗时给出中文错误。"""
    from seqbook.data.tokenizers import CharTokenizer, load_tokenizer
    from seqbook.inference.generate import write_poems
    from seqbook.models.gpt import GPT

    tok = CharTokenizer.train(["床前明月光，疑是地上霜。"], unknown="unk")
    other = CharTokenizer.train(["白日依山尽，黄河入海流。欲穷千里目？"], unknown="unk")
    model = GPT(len(tok), num_hiddens=16, ffn_num_hiddens=32, num_heads=2,
                num_layers=1, max_len=32)
    path = tmp_path / "tok.json"
    other.save(path)
    with pytest.raises(ValueError, match="分词器与模型不匹配"):
        load_tokenizer(path, vocab_size=model.vocab_size)
    with pytest.raises(ValueError, match="分词器与模型不匹配"):
        load_tokenizer(path, fingerprint=tok.fingerprint)
    with pytest.raises(ValueError, match="分词器与模型不匹配"):
        write_poems(model, other, "床前")
    tok.save(path)
    assert load_tokenizer(path, tok.fingerprint, model.vocab_size) == tok
