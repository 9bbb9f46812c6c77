"""多头注意力：形状、与 nn.MultiheadAttention 相等、融合路径与显式路径相等、
因果掩码、错误输入。"""

import pytest
import torch
from torch import nn

from seqbook.models.attention import valid_key_mask
from seqbook.models.multihead import MultiHeadAttention


def _copy_to_torch(mha, bias):
    """把 seqbook 的权重复制进 nn.MultiheadAttention。"""
    ref = nn.MultiheadAttention(
        mha.num_hiddens, mha.num_heads, bias=bias, batch_first=True
    )
    with torch.no_grad():
        ref.in_proj_weight.copy_(
            torch.cat([mha.W_q.weight, mha.W_k.weight, mha.W_v.weight])
        )
        ref.out_proj.weight.copy_(mha.W_o.weight)
        if bias:
            ref.in_proj_bias.copy_(
                torch.cat([mha.W_q.bias, mha.W_k.bias, mha.W_v.bias])
            )
            ref.out_proj.bias.copy_(mha.W_o.bias)
    return ref.eval()


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("keep_weights", [False, True])
def test_equals_torch_multihead_attention(bias, keep_weights):
    torch.manual_seed(0)
    mha = MultiHeadAttention(32, 4, bias=bias).eval()
    mha.keep_weights = keep_weights
    ref = _copy_to_torch(mha, bias)
    q, kv = torch.randn(3, 5, 32), torch.randn(3, 7, 32)
    # 不带掩码
    out = mha(q, kv, kv)
    expected, _ = ref(q, kv, kv, need_weights=False)
    assert out.shape == (3, 5, 32)
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)
    # 带键的填充掩码：key_padding_mask 中 True 表示“忽略”
    valid_lens = torch.tensor([7, 3, 1])
    pad_mask = torch.arange(7)[None, :] >= valid_lens[:, None]
    out = mha(q, kv, kv, valid_lens)
    expected, ref_weights = ref(
        q, kv, kv, key_padding_mask=pad_mask, average_attn_weights=False
    )
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)
    if keep_weights:
        torch.testing.assert_close(
            mha.attention_weights, ref_weights, atol=1e-5, rtol=1e-5
        )
    # 因果掩码：attn_mask 中 True 表示“不许看”
    x = torch.randn(2, 6, 32)
    out = mha(x, x, x, causal=True)
    causal = torch.triu(torch.ones(6, 6, dtype=torch.bool), diagonal=1)
    expected, _ = ref(x, x, x, attn_mask=causal, need_weights=False)
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)


def test_fused_equals_explicit_and_weights():
    torch.manual_seed(1)
    mha = MultiHeadAttention(24, 3, bias=True).eval()
    q, kv = torch.randn(4, 5, 24), torch.randn(4, 6, 24)
    for valid_lens in [
        None,
        torch.tensor([6, 2, 0, 4]),
        torch.randint(0, 7, (4, 5)),
    ]:
        for causal in [False, True]:
            mha.keep_weights = False
            fused = mha(q, kv, kv, valid_lens, causal)
            assert mha.attention_weights is None
            mha.keep_weights = True
            explicit = mha(q, kv, kv, valid_lens, causal)
            torch.testing.assert_close(fused, explicit, atol=1e-5, rtol=1e-5)
            assert not torch.isnan(fused).any()
            w = mha.attention_weights
            assert w.shape == (4, 3, 5, 6)
            if causal:  # 查询 i 只看 j <= i + (6 - 5)
                future = torch.triu(torch.ones(5, 6, dtype=torch.bool), diagonal=2)
                assert (w[..., future] == 0).all()


def test_fully_masked_row_gives_zero_and_finite_grad():
    mha = MultiHeadAttention(8, 2, bias=True)
    q = torch.randn(2, 3, 8, requires_grad=True)
    kv = torch.randn(2, 4, 8, requires_grad=True)
    out = mha(q, kv, kv, torch.tensor([0, 2]))
    # valid_len 为 0 的样本：注意力输出为 0，经过 W_o 只剩偏置
    torch.testing.assert_close(out[0], mha.W_o.bias.expand(3, 8))
    out.sum().backward()
    assert torch.isfinite(q.grad).all() and torch.isfinite(kv.grad).all()


def test_padding_invariance():
    torch.manual_seed(2)
    mha = MultiHeadAttention(16, 4).eval()
    q, kv = torch.randn(2, 3, 16), torch.randn(2, 5, 16)
    valid_lens = torch.tensor([2, 5])
    out = mha(q, kv, kv, valid_lens)
    kv2 = kv.clone()
    kv2[0, 2:] = 100 * torch.randn(3, 16)  # 改动被遮住的键值
    torch.testing.assert_close(mha(q, kv2, kv2, valid_lens), out)


def test_causal_with_cache_offset():
    """causal=True 且查询是键序列的最后几个位置时，与整段计算的最后几行相同
    （键值缓存用得到）。"""
    torch.manual_seed(3)
    mha = MultiHeadAttention(16, 2).eval()
    x = torch.randn(2, 7, 16)
    full = mha(x, x, x, causal=True)
    K, V = mha.project_kv(x, x)
    last = mha(x[:, 4:], None, None, causal=True, kv=(K, V))
    torch.testing.assert_close(last, full[:, 4:], atol=1e-6, rtol=1e-5)


def _visible(mask):
    """每个查询看得到的键数；并检查看得到的键总是前几个（前缀）。"""
    counts = mask.sum(-1)  # (b, q)
    assert torch.equal(mask, torch.arange(mask.shape[-1]) < counts[..., None])
    return counts.tolist()


def test_valid_key_mask_with_causal():
    assert _visible(valid_key_mask(torch.tensor([3, 1]), 4, 5, causal=True)) == [
        [2, 3, 3, 3],
        [1, 1, 1, 1],
    ]
    assert valid_key_mask(None, 3, 3) is None
    assert _visible(valid_key_mask(None, 2, 2, causal=True)) == [[1, 2]]


def test_dropout_only_in_training():
    torch.manual_seed(4)
    mha = MultiHeadAttention(16, 4, dropout=0.5)
    x = torch.randn(2, 5, 16)
    mha.eval()
    torch.testing.assert_close(mha(x, x, x), mha(x, x, x))
    mha.train()
    assert not torch.allclose(mha(x, x, x), mha(x, x, x))


def test_bad_input():
    with pytest.raises(ValueError, match="整除"):
        MultiHeadAttention(10, 3)
    with pytest.raises(ValueError, match="num_heads"):
        MultiHeadAttention(10, 0)
    with pytest.raises(ValueError, match="dropout"):
        MultiHeadAttention(8, 2, dropout=1.0)
    mha = MultiHeadAttention(8, 2)
    x = torch.randn(2, 3, 8)
    with pytest.raises(ValueError, match="valid_lens"):
        mha(x, x, x, torch.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match="valid_lens"):
        mha(x, x, x, torch.ones(2, 3, 1, dtype=torch.long))
    with pytest.raises(TypeError, match="valid_lens"):
        mha(x, x, x, torch.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="queries"):
        mha(torch.randn(2, 3, 6), x, x)
    with pytest.raises(ValueError, match="keys 与 values"):
        mha(x, x, torch.randn(2, 4, 8))


@pytest.mark.parametrize(
    "valid_lens", [None, torch.tensor([4, 0]), torch.tensor([[1, 0, 4], [2, 3, 4]])]
)
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("where", ["query", "key"])
def test_nan_in_nan_out_on_both_paths(valid_lens, causal, where):
    """文档说两条路径相同：输入有 NaN 时也一样
    （融合内核曾把 NaN 查询悄悄变成 0）。"""
    torch.manual_seed(5)
    mha = MultiHeadAttention(8, 2).eval()
    q, kv = torch.randn(2, 3, 8), torch.randn(2, 4, 8)
    (q if where == "query" else kv)[0, 1, 3] = float("nan")
    mha.keep_weights = False
    fused = mha(q, kv, kv, valid_lens, causal)
    mha.keep_weights = True
    explicit = mha(q, kv, kv, valid_lens, causal)
    assert torch.equal(fused.isnan(), explicit.isnan())
    if where == "query":
        assert fused[0, 1].isnan().all() and not fused[0, [0, 2]].isnan().any()
    else:
        assert fused[0].isnan().all()
    assert not fused[1].isnan().any()
    torch.testing.assert_close(fused[1], explicit[1], atol=1e-5, rtol=1e-5)


def test_negative_valid_lens_are_rejected():
    mha = MultiHeadAttention(8, 2)
    x = torch.randn(2, 3, 8)
    for keep_weights in (False, True):
        mha.keep_weights = keep_weights
        with pytest.raises(ValueError, match="valid_lens.*负"):
            mha(x, x, x, torch.tensor([2, -1]))
        with pytest.raises(ValueError, match="valid_lens.*负"):
            mha(x, x, x, torch.tensor([[1, 2, 3], [-1, 0, 1]]), causal=True)
    with pytest.raises(ValueError, match="valid_lens.*负"):
        valid_key_mask(torch.tensor([-3, 1]), 4, 5, causal=True)


def test_prebuilt_mask_equals_valid_lens_and_excludes_them():
    mha = MultiHeadAttention(8, 2).eval()
    X, lens = torch.randn(2, 4, 8), torch.tensor([4, 2])
    mask = valid_key_mask(lens, 4, 4)
    assert torch.equal(mha(X, X, X, mask=mask), mha(X, X, X, lens))
    with pytest.raises(ValueError, match="mask"):
        mha(X, X, X, lens, mask=mask)
