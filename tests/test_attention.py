"""seqbook.models.attention：掩蔽 softmax、缩放点积注意力、加性注意力。"""

import math

import pytest
import torch
import torch.nn.functional as F

from seqbook.models.attention import (
    AdditiveAttention,
    DotProductAttention,
    masked_softmax,
    scaled_dot_product,
    valid_key_mask,
)
from seqbook.models.multihead import MultiHeadAttention


def _mask_from(valid_lens, q, k):
    """测试里独立写出的参照掩码 (batch, q, k)。"""
    lens = (
        valid_lens if valid_lens.dim() == 2 else valid_lens[:, None].expand(-1, q)
    )
    return torch.arange(k)[None, None, :] < lens[..., None]


# ---------------- masked_softmax ----------------


@pytest.mark.parametrize(
    "valid_lens", [torch.tensor([2, 3, 0]), torch.tensor([[1, 4], [0, 2], [3, 3]])]
)
def test_masked_softmax_zero_at_masked_and_rows_sum_to_one(valid_lens):
    torch.manual_seed(0)
    scores = torch.randn(3, 2, 4) * 5
    w = masked_softmax(scores, valid_lens)
    mask = _mask_from(valid_lens, 2, 4)
    assert w.shape == scores.shape
    assert torch.all(w[~mask] == 0)  # 精确为 0
    row_valid = mask.any(-1)
    torch.testing.assert_close(
        w.sum(-1)[row_valid], torch.ones(int(row_valid.sum()))
    )
    assert torch.all(w.sum(-1)[~row_valid] == 0)  # 一个键都看不到的行全为 0
    # 有效位置上等于只对有效分数做 softmax
    for b in range(3):
        for i in range(2):
            n = int(mask[b, i].sum())
            if n:
                torch.testing.assert_close(
                    w[b, i, :n], torch.softmax(scores[b, i, :n], -1)
                )


def test_masked_softmax_fully_masked_row_is_zero_not_uniform_or_nan():
    scores = torch.randn(2, 3, 5)
    w = masked_softmax(scores, torch.tensor([0, 5]))
    assert torch.all(w[0] == 0)
    assert not torch.isnan(w).any()
    torch.testing.assert_close(w[1], torch.softmax(scores[1], -1))


def test_masked_softmax_float16_no_nan():
    # 大分数：d2l 的 -1e6 在 float16 中溢出为 -inf
    scores = (torch.randn(2, 3, 6) * 100).half()
    valid_lens = torch.tensor([0, 2])
    w = masked_softmax(scores, valid_lens)
    assert w.dtype == torch.float16
    assert not torch.isnan(w).any()
    assert torch.all(w[0] == 0)
    assert torch.all(w[1, :, 2:] == 0)
    torch.testing.assert_close(
        w[1].sum(-1).float(), torch.ones(3), atol=1e-3, rtol=0
    )


def test_masked_softmax_gradient_finite_for_fully_masked_rows():
    scores = torch.randn(2, 3, 4, requires_grad=True)
    w = masked_softmax(scores, torch.tensor([0, 2]))
    (w * torch.randn_like(w)).sum().backward()
    assert torch.isfinite(scores.grad).all()
    assert torch.all(scores.grad[0] == 0)  # 看不到任何键的行不回传梯度
    assert torch.all(scores.grad[1, :, 2:] == 0)


def test_masked_softmax_does_not_modify_input():
    scores = torch.randn(2, 3, 4)
    valid_lens = torch.tensor([1, 2])
    s0, v0 = scores.clone(), valid_lens.clone()
    masked_softmax(scores, valid_lens)
    assert torch.equal(scores, s0) and torch.equal(valid_lens, v0)


def test_masked_softmax_none_and_four_dims():
    scores = torch.randn(2, 3, 4, 5)  # (batch, heads, q, k)
    torch.testing.assert_close(masked_softmax(scores), torch.softmax(scores, -1))
    valid_lens = torch.tensor([[1, 2, 3, 0], [5, 4, 3, 2]])  # (batch, q)
    w = masked_softmax(scores, valid_lens)
    for h in range(3):  # 每个头都用同一个掩码
        torch.testing.assert_close(
            w[:, h], masked_softmax(scores[:, h], valid_lens)
        )


def test_masked_softmax_lens_longer_than_keys_means_no_mask():
    scores = torch.randn(2, 2, 3)
    torch.testing.assert_close(
        masked_softmax(scores, torch.tensor([3, 10])), torch.softmax(scores, -1)
    )


def test_masked_softmax_bad_input():
    scores = torch.randn(2, 3, 4)
    with pytest.raises(ValueError, match="valid_lens"):
        masked_softmax(scores, torch.tensor([1, 2, 3]))  # 批量大小不对
    with pytest.raises(ValueError, match="valid_lens"):
        # 每个查询一个长度，但查询数不对
        masked_softmax(scores, torch.tensor([[1, 2], [3, 4]]))
    with pytest.raises(ValueError, match="valid_lens"):
        masked_softmax(scores, torch.ones(2, 3, 1, dtype=torch.long))
    with pytest.raises(TypeError, match="valid_lens"):
        masked_softmax(scores, torch.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="valid_lens"):
        masked_softmax(scores, [1, 2])
    with pytest.raises(ValueError, match="scores"):
        masked_softmax(torch.randn(3, 4), None)
    with pytest.raises(TypeError, match="scores"):
        masked_softmax(torch.ones(2, 3, 4, dtype=torch.long))


@pytest.mark.parametrize(
    "dtype", [torch.float32, torch.float16, torch.bfloat16, torch.float64]
)
def test_masked_softmax_valid_minimum_scores_do_not_tie_with_masked(dtype):
    """有效分数恰好等于该精度的最小有限值时，被掩蔽的位置仍然恰好是 0，
    不会与有效位置平分权重。"""
    low = torch.finfo(dtype).min
    scores = torch.tensor([[[low, low, 0.0, 0.0]]], dtype=dtype)
    w = masked_softmax(scores, torch.tensor([2]))
    assert w.tolist() == [[[0.5, 0.5, 0.0, 0.0]]]
    w = masked_softmax(
        torch.tensor([[[low, 0.0, 5.0]]], dtype=dtype), torch.tensor([1])
    )
    assert w.tolist() == [[[1.0, 0.0, 0.0]]]


def test_masked_softmax_ordinary_inputs_bit_identical_to_min_fill():
    """普通输入上与旧写法（用最小有限值填充）逐位相同：书中训练出的数字不变。"""
    torch.manual_seed(0)
    scores = torch.randn(4, 3, 7) * 10
    valid_lens = torch.tensor([[1, 7, 3], [2, 2, 0], [7, 5, 4], [6, 1, 2]])
    mask = _mask_from(valid_lens, 3, 7)
    old = torch.softmax(
        scores.masked_fill(~mask, torch.finfo(scores.dtype).min), -1
    ).masked_fill(~mask, 0)
    assert torch.equal(masked_softmax(scores, valid_lens), old)


def test_masked_softmax_masked_nan_or_inf_scores_get_zero_weight():
    scores = torch.tensor(
        [[[1.0, 2.0, float("nan"), float("inf")]], [[float("nan")] * 4]]
    )
    w = masked_softmax(scores, torch.tensor([2, 0]))
    torch.testing.assert_close(
        w[0, 0, :2], torch.softmax(torch.tensor([1.0, 2.0]), -1)
    )
    assert torch.all(w[0, 0, 2:] == 0) and torch.all(w[1] == 0)


def test_negative_valid_lens_are_rejected():
    scores = torch.randn(2, 3, 4)
    with pytest.raises(ValueError, match="valid_lens.*负"):
        masked_softmax(scores, torch.tensor([1, -1]))
    with pytest.raises(ValueError, match="valid_lens.*负"):
        masked_softmax(scores, torch.tensor([[1, 2, 3], [0, -2, 1]]))
    with pytest.raises(ValueError, match="valid_lens.*负"):
        valid_key_mask(torch.tensor([-1, 3]), 3, 4)
    q, k, v = _qkv()
    for attention in (
        DotProductAttention(keep_weights=True),
        DotProductAttention(keep_weights=False),
    ):
        with pytest.raises(ValueError, match="valid_lens.*负"):
            attention(q, k, v, torch.tensor([2, -3]))
    with pytest.raises(ValueError, match="valid_lens.*负"):
        AdditiveAttention(4, 4, 8)(q, k, v, torch.tensor([-1, 2]))


def test_valid_key_mask_shapes():
    assert valid_key_mask(torch.tensor([1, 3]), 4, 5).shape == (2, 1, 5)
    m = valid_key_mask(torch.tensor([[0, 1], [2, 3]]), 2, 3)
    assert m.shape == (2, 2, 3)
    assert m.tolist() == [
        [[False] * 3, [True, False, False]],
        [[True, True, False], [True] * 3],
    ]


# ---------------- DotProductAttention ----------------


def _qkv(b=2, q=3, k=5, d=4, v=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (
        torch.randn(b, q, d, generator=g),
        torch.randn(b, k, d, generator=g),
        torch.randn(b, k, v, generator=g),
    )


def test_dot_product_attention_shapes_and_weights():
    Q, K, V = _qkv()
    attn = DotProductAttention(keep_weights=True).eval()
    out = attn(Q, K, V, torch.tensor([2, 5]))
    assert out.shape == (2, 3, 6)
    assert attn.attention_weights.shape == (2, 3, 5)
    expected = (
        masked_softmax(Q @ K.transpose(1, 2) / math.sqrt(4), torch.tensor([2, 5]))
        @ V
    )
    torch.testing.assert_close(out, expected)


@pytest.mark.parametrize(
    "valid_lens",
    [
        None,
        torch.tensor([2, 5]),
        torch.tensor([[1, 2, 3], [5, 4, 0]]),
        torch.tensor([0, 3]),
    ],
)
def test_dot_product_attention_equals_torch_sdpa(valid_lens):
    Q, K, V = _qkv()
    explicit = DotProductAttention(keep_weights=True).eval()
    fused = DotProductAttention(keep_weights=False).eval()
    out = explicit(Q, K, V, valid_lens)
    out_fused = fused(Q, K, V, valid_lens)
    torch.testing.assert_close(out, out_fused)
    assert fused.attention_weights is None
    if valid_lens is None:
        ref = F.scaled_dot_product_attention(Q, K, V)
    else:  # PyTorch 的布尔掩码：True 表示参与注意力
        ref = F.scaled_dot_product_attention(
            Q, K, V, attn_mask=_mask_from(valid_lens, 3, 5)
        )
        # SDPA 在这些行上给出 NaN，我们给出 0
        empty = _mask_from(valid_lens, 3, 5).sum(-1) == 0
        assert torch.all(out[empty] == 0)
        ref = torch.where(empty[..., None], torch.zeros_like(ref), ref)
    torch.testing.assert_close(out, ref)


def test_dot_product_attention_fused_gradients_match():
    Q, K, V = _qkv()
    lens = torch.tensor([[1, 2, 3], [5, 4, 0]])
    grads = []
    for keep in (True, False):
        q, k, v = (t.clone().requires_grad_() for t in (Q, K, V))
        DotProductAttention(keep_weights=keep)(q, k, v, lens).pow(
            2
        ).sum().backward()
        grads.append((q.grad, k.grad, v.grad))
    for g1, g2 in zip(*grads):
        assert torch.isfinite(g2).all()
        torch.testing.assert_close(g1, g2)


def test_dot_product_attention_four_dims_heads():
    g = torch.Generator().manual_seed(1)
    Q, K, V = (torch.randn(2, 4, n, 8, generator=g) for n in (3, 5, 5))
    lens = torch.tensor([2, 4])
    out = DotProductAttention(keep_weights=True)(Q, K, V, lens)
    assert out.shape == (2, 4, 3, 8)
    out_fused = DotProductAttention(keep_weights=False)(Q, K, V, lens)
    torch.testing.assert_close(out, out_fused)


def test_dot_product_attention_padding_invariance():
    Q, K, V = _qkv()
    lens = torch.tensor([2, 4])
    for keep in (True, False):
        attn = DotProductAttention(keep_weights=keep).eval()
        out = attn(Q, K, V, lens)
        K2, V2 = K.clone(), V.clone()
        K2[0, 2:] = torch.randn(3, 4) * 10
        V2[0, 2:] = torch.randn(3, 6) * 10
        K2[1, 4:] = 99.0
        V2[1, 4:] = -99.0
        assert (
            torch.equal(attn(Q, K2, V2, lens), out)
            if keep
            else torch.allclose(attn(Q, K2, V2, lens), out)
        )


def test_keep_weights_default_is_the_same_everywhere():
    assert DotProductAttention().keep_weights is False
    assert MultiHeadAttention(8, 2).keep_weights is False
    Q, K, V = _qkv()
    attn = DotProductAttention().eval()
    attn(Q, K, V)
    assert attn.attention_weights is None  # 默认走融合路径


@pytest.mark.parametrize("causal", [False, True])
def test_scaled_dot_product_paths_agree(causal):
    Q, K, V = _qkv()
    mask = valid_key_mask(torch.tensor([[1, 2, 3], [5, 4, 0]]), 3, 5, causal=causal)
    out, w = scaled_dot_product(Q, K, V, mask, need_weights=True)
    out_fused, w_fused = scaled_dot_product(Q, K, V, mask)
    assert w_fused is None and w.shape == (2, 3, 5)
    assert torch.all(w[~mask.expand_as(w)] == 0) and torch.all(out[1, 2] == 0)
    torch.testing.assert_close(out, out_fused)
    torch.testing.assert_close(
        out, masked_softmax(Q @ K.transpose(1, 2) / 2, mask=mask) @ V
    )


def test_dot_product_attention_dropout_uses_explicit_path():
    Q, K, V = _qkv()
    attn = DotProductAttention(dropout=0.5, keep_weights=False).train()
    attn(Q, K, V)
    # 训练时暂退法生效，融合路径不等价，走手写路径
    assert attn.attention_weights is not None
    attn.eval()
    torch.testing.assert_close(
        attn(Q, K, V), F.scaled_dot_product_attention(Q, K, V)
    )


def test_dot_product_attention_bad_input():
    Q, K, V = _qkv()
    attn = DotProductAttention(keep_weights=True)
    with pytest.raises(ValueError, match="valid_lens"):
        attn(Q, K, V, torch.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match="特征数"):
        attn(Q, torch.randn(2, 5, 3), V)
    with pytest.raises(ValueError, match="num_kvs"):
        attn(Q, K, torch.randn(2, 4, 6))
    with pytest.raises(ValueError, match="批量"):
        attn(Q, torch.randn(3, 5, 4), torch.randn(3, 5, 6))
    with pytest.raises(ValueError, match="queries"):
        attn(torch.randn(3, 4), K, V)
    with pytest.raises(ValueError, match="dropout"):
        DotProductAttention(dropout=1.0)


# ---------------- AdditiveAttention ----------------


@pytest.mark.parametrize(
    "valid_lens", [None, torch.tensor([3, 0]), torch.tensor([[1, 0, 5], [2, 2, 5]])]
)
@pytest.mark.parametrize("where", ["query", "key", "value"])
def test_dot_product_attention_nan_in_nan_out_on_both_paths(valid_lens, where):
    """输入里有 NaN：手写路径与融合路径给出同样位置的 NaN
    （而不是一条路径悄悄变成 0）。"""
    q, k, v = _qkv()
    {"query": q, "key": k, "value": v}[where][0, 1, 2] = float("nan")
    explicit = DotProductAttention(keep_weights=True)(q, k, v, valid_lens)
    fused = DotProductAttention(keep_weights=False)(q, k, v, valid_lens)
    assert torch.equal(explicit.isnan(), fused.isnan())
    # 含 NaN 的查询输出 NaN（即使它一个键都看不到），别的查询不受影响
    if where == "query":
        assert (
            explicit[0, 1].isnan().all() and not explicit[0, [0, 2]].isnan().any()
        )
    else:  # 键或值含 NaN：这个样本的输出全为 NaN
        assert explicit[0].isnan().all()
    assert not explicit[1].isnan().any()
    torch.testing.assert_close(fused[1], explicit[1])


def test_additive_attention_shapes_and_formula():
    torch.manual_seed(0)
    attn = AdditiveAttention(key_size=4, query_size=7, num_hiddens=8).eval()
    Q = torch.randn(2, 3, 7)
    K, V = torch.randn(2, 5, 4), torch.randn(2, 5, 6)
    lens = torch.tensor([2, 5])
    out = attn(Q, K, V, lens)
    assert out.shape == (2, 3, 6)
    assert attn.attention_weights.shape == (2, 3, 5)
    # 逐个 (查询, 键) 对按公式 w_v^T tanh(W_q q + W_k k) 计算
    scores = torch.empty(2, 3, 5)
    for b in range(2):
        for i in range(3):
            for j in range(5):
                scores[b, i, j] = attn.w_v.weight[0] @ torch.tanh(
                    attn.W_q.weight @ Q[b, i] + attn.W_k.weight @ K[b, j]
                )
    torch.testing.assert_close(out, masked_softmax(scores, lens) @ V)


def test_additive_attention_projected_keys_reused():
    torch.manual_seed(0)
    attn = AdditiveAttention(4, 7, 8)
    Q, K, V = torch.randn(2, 3, 7), torch.randn(2, 5, 4), torch.randn(2, 5, 6)
    calls = []
    attn.W_k.register_forward_hook(lambda *a: calls.append(1))
    pk = attn.project_keys(K)
    assert pk.shape == (2, 5, 8) and len(calls) == 1
    out = attn(Q, K, V, projected_keys=pk)
    assert len(calls) == 1  # 传入投影后不再计算 W_k k
    torch.testing.assert_close(out, attn(Q, K, V))
    assert len(calls) == 2
    torch.testing.assert_close(attn(Q, None, V, projected_keys=pk), out)


def test_additive_attention_padding_invariance():
    torch.manual_seed(0)
    attn = AdditiveAttention(4, 7, 8).eval()
    Q, K, V = torch.randn(2, 3, 7), torch.randn(2, 5, 4), torch.randn(2, 5, 6)
    lens = torch.tensor([[1, 2, 3], [5, 4, 2]])
    out = attn(Q, K, V, lens)
    K2, V2 = K.clone(), V.clone()
    K2[0, 3:] = 50.0
    V2[0, 3:] = -50.0
    K2[1, 2:] = torch.randn(3, 4)  # 样本 1 只有查询 0、1 看得到位置 2、3、4
    V2[1, 2:] = torch.randn(3, 6)
    out2 = attn(Q, K2, V2, lens)
    assert torch.equal(out2[0], out[0])
    assert torch.equal(out2[1, 2], out[1, 2])
    assert not torch.equal(out2[1, 0], out[1, 0])  # 看得到的位置变了，输出应当变


def test_additive_attention_bad_input():
    with pytest.raises(ValueError, match="num_hiddens"):
        AdditiveAttention(4, 7, 0)
    with pytest.raises(TypeError, match="key_size"):  # 类型不对：TypeError
        AdditiveAttention(4.0, 7, 8)
    attn = AdditiveAttention(4, 7, 8)
    Q, K, V = torch.randn(2, 3, 7), torch.randn(2, 5, 4), torch.randn(2, 5, 6)
    with pytest.raises(ValueError, match="keys"):
        attn(Q, torch.randn(2, 5, 3), V)
    with pytest.raises(ValueError, match="queries"):
        attn(torch.randn(2, 3, 6), K, V)
    with pytest.raises(ValueError, match="valid_lens"):
        attn(Q, K, V, torch.tensor([[1, 2], [3, 4]]))
    with pytest.raises(ValueError, match="projected_keys"):
        attn(Q, K, V, projected_keys=torch.randn(2, 5, 9))
