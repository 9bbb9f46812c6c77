"""Transformer：形状、因果掩码（训练与评估模式）、填充不影响编码器、键值缓存与整段前向相同、
状态不被原地修改、束搜索重排、pre-norm、学习率预热、错误输入。"""

import pytest
import torch

from seqbook.models.transformer import (
    PositionWiseFFN,
    TransformerDecoderState,
    TransformerEncoder,
    keep_attention_weights,
    build_transformer,
)
from seqbook.training.schedule import warmup_lr_lambda, warmup_scheduler

SRC_V, TGT_V = 11, 13


def _model(norm_first=False, dropout=0.0, max_len=50):
    torch.manual_seed(0)
    return build_transformer(
        SRC_V,
        TGT_V,
        num_hiddens=16,
        ffn_num_hiddens=32,
        num_heads=4,
        num_layers=2,
        dropout=dropout,
        max_len=max_len,
        norm_first=norm_first,
    )


def _batch():
    g = torch.Generator().manual_seed(1)
    X = torch.randint(4, SRC_V, (3, 6), generator=g)
    valid = torch.tensor([6, 4, 2])
    Y = torch.randint(4, TGT_V, (3, 5), generator=g)
    return X, valid, Y


def test_shapes_and_ffn():
    model = _model()
    X, valid, Y = _batch()
    assert model(X, valid, Y).shape == (3, 5, TGT_V)
    ffn = PositionWiseFFN(4, 8)
    assert ffn(torch.ones(2, 3, 4)).shape == (2, 3, 4)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("train_mode", [True, False])
def test_causal_mask_in_train_and_eval(norm_first, train_mode):
    model = _model(norm_first)  # dropout=0：训练模式下输出也是确定的
    model.train(train_mode)
    X, valid, Y = _batch()
    out = model(X, valid, Y)
    for t in range(Y.shape[1]):
        Y2 = Y.clone()
        Y2[:, t:] = (Y2[:, t:] + 1) % TGT_V  # 改动第 t 个及以后的目标词元
        out2 = model(X, valid, Y2)
        torch.testing.assert_close(out2[:, :t], out[:, :t])  # 更早的输出不变
        assert not torch.allclose(out2[:, t], out[:, t])


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_ignores_padding_content(norm_first):
    model = _model(norm_first).eval()
    X, valid, Y = _batch()
    enc = model.encoder(X, valid)
    X2 = X.clone()
    for i, n in enumerate(valid.tolist()):
        X2[i, n:] = torch.randint(0, SRC_V, (X.shape[1] - n,))
    enc2 = model.encoder(X2, valid)
    for i, n in enumerate(valid.tolist()):
        torch.testing.assert_close(enc2[i, :n], enc[i, :n])
    # 解码器的输出也不受源句填充内容的影响
    torch.testing.assert_close(model(X2, valid, Y), model(X, valid, Y))


@pytest.mark.parametrize("norm_first", [False, True])
def test_kv_cache_matches_full_forward(norm_first):
    model = _model(norm_first).eval()
    X, valid, Y = _batch()
    with torch.no_grad():
        full = model(X, valid, Y)
        state = model.init_decoder_state(X, valid)
        for t in range(Y.shape[1]):
            logits, new_state = model.decoder(Y[:, t : t + 1], state)
            assert new_state is not state
            # 旧状态没有被改动
            assert new_state.num_cached == t + 1 and state.num_cached == t
            for K, V in new_state.self_kv:  # 缓存的是每层的键和值 (b, nh, t+1, hd)
                assert K.shape == V.shape == (3, 4, t + 1, 4)
            torch.testing.assert_close(
                logits[:, 0], full[:, t], atol=1e-5, rtol=1e-5
            )
            state = new_state


def test_state_not_mutated_two_predictions_identical():
    model = _model().eval()
    X, valid, Y = _batch()
    with torch.no_grad():
        state = model.init_decoder_state(X, valid)
        before = [(K.clone(), V.clone()) for K, V in state.enc_kv]
        a, s1 = model.decoder(Y[:, :2], state)
        b, s2 = model.decoder(Y[:, :2], state)  # 同一个状态再用一次
        torch.testing.assert_close(a, b)
        assert state.self_kv == ()
        for (K, V), (K0, V0) in zip(state.enc_kv, before):
            assert torch.equal(K, K0) and torch.equal(V, V0)
        # 接着 s1 走一步不会影响 s2
        c, _ = model.decoder(Y[:, 2:3], s1)
        d, _ = model.decoder(Y[:, 2:3], s2)
        torch.testing.assert_close(c, d)


def test_reorder_state_for_beam_search():
    model = _model().eval()
    X, valid, Y = _batch()
    with torch.no_grad():
        state = model.init_decoder_state(X, valid)
        _, state = model.decoder(Y[:, :3], state)
        index = torch.tensor([2, 2, 0])
        reordered = model.decoder.reorder_state(state, index)
        assert isinstance(reordered, TransformerDecoderState)
        assert reordered.enc_valid_lens.tolist() == [2, 2, 6]
        logits, _ = model.decoder(Y[index, 3:4], reordered)
        expected, _ = model.decoder(Y[:, 3:4], state)
        torch.testing.assert_close(logits, expected[index])


def test_attention_weights_for_heatmaps():
    model = keep_attention_weights(_model().eval())
    X, valid, Y = _batch()
    with torch.no_grad():
        model(X, valid, Y)
    enc_w = model.encoder.attention_weights
    self_w, cross_w = model.decoder.attention_weights
    assert len(enc_w) == len(self_w) == len(cross_w) == 2
    assert enc_w[0].shape == (3, 4, 6, 6)
    assert self_w[1].shape == (3, 4, 5, 5) and cross_w[1].shape == (3, 4, 5, 6)
    assert (enc_w[0][2, :, :, 2:] == 0).all()  # 填充位置权重为 0
    assert (torch.triu(self_w[0], diagonal=1) == 0).all()  # 看不到未来
    torch.testing.assert_close(cross_w[0].sum(-1), torch.ones(3, 4, 5))
    keep_attention_weights(model, False)
    assert model.encoder.attention_weights[0] is None


def test_dropout_training_runs_backward():
    model = _model(dropout=0.1).train()
    X, valid, Y = _batch()
    model(X, valid, Y).sum().backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


def test_warmup():
    f = warmup_lr_lambda(4)
    assert [round(f(s), 4) for s in range(6)] == [
        0.25,
        0.5,
        0.75,
        1.0,
        round((4 / 5) ** 0.5, 4),
        round((4 / 6) ** 0.5, 4),
    ]
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = warmup_scheduler(opt, 2)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.05)
    opt.step()
    sched.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1)
    with pytest.raises(ValueError, match="warmup_steps"):
        warmup_lr_lambda(0)


def test_bad_input():
    model = _model(max_len=8).eval()
    X, valid, Y = _batch()
    with pytest.raises(ValueError, match="valid_lens"):
        model(X, torch.tensor([6, 4]), Y)
    with pytest.raises(ValueError, match="valid_lens"):
        model(X, valid[:, None], Y)
    with pytest.raises(ValueError, match="整除"):
        build_transformer(SRC_V, TGT_V, num_hiddens=10, num_heads=3)
    with pytest.raises(ValueError, match="max_len"):  # 源序列比位置编码表长
        model(torch.randint(0, SRC_V, (1, 9)), None, Y)
    with pytest.raises(ValueError, match="max_len"):  # 解码到超过位置编码表
        state = model.init_decoder_state(X, valid)
        _, state = model.decoder(torch.zeros(3, 8, dtype=torch.long), state)
        model.decoder(torch.zeros(3, 1, dtype=torch.long), state)
    with pytest.raises(TypeError, match="整数张量"):  # 类型不对：TypeError
        model(X.float(), valid, Y)
    with pytest.raises(ValueError, match="词元索引"):
        model(X + SRC_V, valid, Y)
    with pytest.raises(TypeError, match="state"):
        model.decoder(Y, [None])
    with pytest.raises(ValueError, match="num_layers"):
        build_transformer(SRC_V, TGT_V, num_layers=0)
    assert isinstance(model.encoder, TransformerEncoder)


def test_negative_valid_lens_are_rejected_at_the_model():
    model = build_transformer(11, 9, 16, 32, 2, 1).eval()
    X = torch.randint(0, 11, (2, 5))
    with pytest.raises(ValueError, match="valid_lens.*负"):
        model.encoder(X, torch.tensor([3, -1]))
    with pytest.raises(ValueError, match="valid_lens.*负"):
        model(X, torch.tensor([-2, 5]), torch.randint(0, 9, (2, 4)))


def test_valid_lens_checked_once_per_call(monkeypatch):
    """有效长度只在入口检查一次（GPU 上每次检查都要同步），各层共用一个掩码。"""
    import seqbook.models.attention as attention

    calls = []
    original = attention._check_valid_lens
    monkeypatch.setattr(attention, "_check_valid_lens",
                        lambda *args: calls.append(1) or original(*args))
    model = build_transformer(11, 9, 16, 32, 2, 3).eval()  # 3 层
    X, lens = torch.randint(0, 11, (2, 5)), torch.tensor([5, 3])
    enc_outputs = model.encoder(X, lens)
    assert len(calls) == 1  # 编码器：3 层自注意力，一次检查
    state = model.decoder.init_state(enc_outputs, lens)
    assert len(calls) == 2  # 交叉注意力的掩码在 init_state 里构造一次
    model.decoder(torch.randint(0, 9, (2, 4)), state)
    assert len(calls) == 2  # 解码：3 层交叉注意力共用它，不再检查
