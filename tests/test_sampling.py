"""采样：贪心、温度、top-k、top-p 的定义，组合，可复现，禁止的词元，错误输入。"""
import itertools

import pytest
import torch

from seqbook.inference import sampling


def brute_force_nucleus(probs, p):
    """暴力求 top-p 集合：概率和 ≥ p 的最小集合（大小相同时取概率和最大的）。"""
    n = len(probs)
    for size in range(1, n + 1):
        best = max(itertools.combinations(range(n), size), key=lambda s: sum(probs[i] for i in s))
        if sum(probs[i] for i in best) >= p - 1e-12:
            return set(best)


def test_top_p_keeps_smallest_set_reaching_p():
    probs = torch.tensor([0.5, 0.2, 0.15, 0.1, 0.05])
    logits = probs.log()
    kept = lambda p: set(torch.isfinite(sampling.top_p_filter(logits, p)).nonzero().flatten().tolist())
    assert kept(0.5) == {0}            # 恰好达到 p：不再多取
    assert kept(0.51) == {0, 1}        # 跨过阈值的词元也在集合里
    assert kept(0.7) == {0, 1}
    assert kept(0.71) == {0, 1, 2}
    assert kept(0.01) == {0}
    assert kept(1.0) == {0, 1, 2, 3, 4}
    # 与暴力搜索一致（随机分布、打乱的顺序）
    g = torch.Generator().manual_seed(0)
    for _ in range(50):
        logits = torch.randn(6, generator=g) * 2
        probs = torch.softmax(logits, -1).tolist()
        for p in (0.3, 0.6, 0.9, 0.95):
            got = set(torch.isfinite(sampling.top_p_filter(logits, p)).nonzero().flatten().tolist())
            assert got == brute_force_nucleus(probs, p)


def test_top_k():
    logits = torch.tensor([[1.0, 3.0, 2.0, 0.0], [0.0, 0.0, 5.0, 1.0]])
    out = sampling.top_k_filter(logits, 2)
    assert torch.isfinite(out).tolist() == [[False, True, True, False], [False, False, True, True]]
    assert torch.equal(sampling.top_k_filter(logits, 4), logits)


def test_temperature_before_softmax():
    logits = torch.tensor([2.0, 1.0, 0.0])
    probs = torch.softmax(sampling.filter_logits(logits, temperature=0.5), -1)
    assert torch.allclose(probs, torch.softmax(logits / 0.5, -1))


def test_temperature_to_zero_equals_greedy():
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(64, 50, generator=g)
    greedy = sampling.greedy_next(logits)
    for seed in range(3):
        gen = torch.Generator().manual_seed(seed)
        assert torch.equal(sampling.sample_next(logits, temperature=1e-4, generator=gen), greedy)
    assert torch.equal(sampling.sample_next(logits, top_k=1), greedy)


def test_fixed_seed_reproduces_sample():
    logits = torch.randn(8, 100, generator=torch.Generator().manual_seed(2))
    draw = lambda seed: sampling.sample_next(logits, temperature=1.3, top_k=40, top_p=0.9,
                                             generator=torch.Generator().manual_seed(seed))
    assert torch.equal(draw(7), draw(7))
    assert not torch.equal(torch.stack([draw(s) for s in range(5)]), torch.stack([draw(7)] * 5))
    assert draw(7).shape == (8,) and draw(7).dtype == torch.long


def test_sample_frequencies_follow_filtered_distribution():
    logits = torch.tensor([0.5, 0.3, 0.15, 0.05]).log().expand(20000, 4)
    ids = sampling.sample_next(logits, top_p=0.7, generator=torch.Generator().manual_seed(0))
    freq = torch.bincount(ids, minlength=4).float() / len(ids)
    assert freq[2:].sum() == 0                                    # 核之外的词元从不出现
    assert abs(freq[0].item() - 0.5 / 0.8) < 0.02                 # 核内按比例重新归一化


def test_banned_never_chosen():
    logits = torch.tensor([[10.0, 0.0, 0.0, -5.0]]).expand(500, 4)
    gen = torch.Generator().manual_seed(0)
    ids = sampling.sample_next(logits, temperature=3.0, banned={0, 2}, generator=gen)
    assert set(ids.tolist()) <= {1, 3}
    assert sampling.greedy_next(logits[:1], banned=[0]).tolist() == [1]
    # top-k 只在允许的词元中数
    assert set(sampling.sample_next(logits, top_k=1, banned={0}).tolist()) == {1, 2}   # 并列的第 1 名都保留
    assert set(sampling.sample_next(logits + torch.tensor([0.0, 1.0, 0.0, 0.0]), top_k=1,
                                    banned={0}).tolist()) == {1}
    with pytest.raises(ValueError, match="全部词元"):
        sampling.greedy_next(logits, banned=range(4))
    with pytest.raises(ValueError, match="超出词表范围"):
        sampling.greedy_next(logits, banned=[4])
    with pytest.raises(TypeError, match="banned"):
        sampling.greedy_next(logits, banned=1)


@pytest.mark.parametrize("kwargs, exc, msg", [
    (dict(top_p=0.0), ValueError, "top_p"), (dict(top_p=1.5), ValueError, "top_p"),
    (dict(top_p=-0.1), ValueError, "top_p"), (dict(top_p="0.9"), TypeError, "top_p"),
    (dict(temperature=0), ValueError, "temperature"), (dict(temperature=-1.0), ValueError, "temperature"),
    (dict(temperature=float("inf")), ValueError, "temperature"),
    (dict(temperature=None), TypeError, "temperature"),
    (dict(top_k=0), ValueError, "top_k"), (dict(top_k=-3), ValueError, "top_k"),
    (dict(top_k=11), ValueError, r"top_k 应在 \[1, 10\]"), (dict(top_k=2.0), TypeError, "top_k"),
])
def test_bad_arguments(kwargs, exc, msg):
    with pytest.raises(exc, match=msg):
        sampling.sample_next(torch.zeros(2, 10), **kwargs)


def test_bad_logits():
    with pytest.raises(TypeError, match="logits"):
        sampling.sample_next(torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="NaN"):
        sampling.sample_next(torch.tensor([0.0, float("nan")]))
    with pytest.raises(ValueError, match="最后一维"):
        sampling.greedy_next(torch.zeros(2, 0))


def test_importable_from_their_subpackages():
    # 第 4、5 章还没有用到它们，所以不在顶层导出（见 test_public_api），但在子包里
    import importlib
    for module, names in {
        "seqbook.inference.sampling": ("sample_next", "greedy_next", "filter_logits"),
        "seqbook.data.tokenizers": ("CharTokenizer", "load_tokenizer"),
        "seqbook.data.bpe": ("BPETokenizer",),
        "seqbook.data.poetry": ("read_poems", "load_poems", "is_five_char_quatrain"),
        "seqbook.data.bert_data": ("read_reviews", "read_people_daily", "read_ocnli", "span_f1"),
        "seqbook.data.download": ("download_files",),
        "seqbook.data.datasets": ("DataFile",),
    }.items():
        for name in names:
            assert hasattr(importlib.import_module(module), name), (module, name)
