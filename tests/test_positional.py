"""正弦位置编码：取值范围、奇数维、相对位置性质、缓冲区、offset、错误输入。"""

import math

import pytest
import torch

from seqbook.models.positional import (
    PositionalEncoding,
    relative_shift_matrix,
    sinusoidal_encoding,
)


def test_values_and_formula():
    P = sinusoidal_encoding(50, 8)
    assert P.shape == (50, 8)
    assert P.abs().max() <= 1.0
    i, j = 7, 2
    assert math.isclose(
        P[i, 2 * j].item(), math.sin(i / 10000 ** (2 * j / 8)), abs_tol=1e-6
    )
    assert math.isclose(
        P[i, 2 * j + 1].item(), math.cos(i / 10000 ** (2 * j / 8)), abs_tol=1e-6
    )
    assert (P[0, 0::2] == 0).all() and (P[0, 1::2] == 1).all()


@pytest.mark.parametrize("d", [1, 7, 33])
def test_odd_dimension(d):
    P = sinusoidal_encoding(20, d)
    assert P.shape == (20, d) and P.abs().max() <= 1.0
    # 前 d - 1 维与 d + 1 维编码的对应部分相同以外，最后一维是 sin
    pe = PositionalEncoding(d)
    assert pe(torch.zeros(2, 5, d)).shape == (2, 5, d)
    if d > 1:
        freq = 10000 ** (-(d - 1) / d)
        torch.testing.assert_close(P[:, -1], torch.sin(torch.arange(20.0) * freq))


@pytest.mark.parametrize("delta", [1, 3, 17])
def test_relative_position_is_linear_map(delta):
    d, n = 32, 200
    P = sinusoidal_encoding(n + delta, d).double()
    M = relative_shift_matrix(delta, d)
    # 同一个 M 对所有位置 i 成立：P[i + delta] = P[i] M
    torch.testing.assert_close(P[:n] @ M, P[delta : n + delta], atol=1e-5, rtol=0)
    # M 是正交矩阵（旋转）
    torch.testing.assert_close(M @ M.T, torch.eye(d, dtype=torch.float64))


def test_buffer_moves_with_module_and_not_saved():
    pe = PositionalEncoding(6, max_len=10)
    assert "P" in dict(pe.named_buffers())
    assert "P" not in pe.state_dict()
    pe = pe.to(torch.float64)
    assert pe.P.dtype == torch.float64


def test_offset_matches_full_sequence():
    pe = PositionalEncoding(8).eval()
    X = torch.randn(2, 6, 8)
    full = pe(X)
    torch.testing.assert_close(pe(X[:, 4:], offset=4), full[:, 4:])


def test_dropout_and_identity_in_eval():
    pe = PositionalEncoding(4, dropout=0.5).eval()
    X = torch.zeros(1, 3, 4)
    torch.testing.assert_close(pe(X), sinusoidal_encoding(3, 4).unsqueeze(0))


def test_bad_input():
    pe = PositionalEncoding(8, max_len=10)
    with pytest.raises(ValueError, match="max_len"):
        pe(torch.zeros(1, 11, 8))
    with pytest.raises(ValueError, match="max_len"):
        pe(torch.zeros(1, 3, 8), offset=8)
    with pytest.raises(ValueError, match="形状"):
        pe(torch.zeros(1, 3, 6))
    with pytest.raises(ValueError, match="offset"):
        pe(torch.zeros(1, 3, 8), offset=-1)
    with pytest.raises(ValueError, match="num_hiddens"):
        PositionalEncoding(0)
    with pytest.raises(ValueError, match="dropout"):
        PositionalEncoding(4, dropout=-0.1)
    with pytest.raises(ValueError, match="偶数"):
        relative_shift_matrix(1, 7)
