"""GRU 序列到序列模型、遮蔽交叉熵、计划采样与训练循环。"""
import math

import pytest
import torch
import torch.nn.functional as F

import seqbook


def _model(src_vocab=11, tgt_vocab=13, layers=2, dropout=0.0):
    seqbook.set_seed(0)
    enc = seqbook.Seq2SeqEncoder(src_vocab, 8, 16, layers, dropout)
    dec = seqbook.Seq2SeqDecoder(tgt_vocab, 8, 16, layers, dropout)
    return seqbook.EncoderDecoder(enc, dec).eval()


def test_encoder_shapes_and_padding_invariance():
    model = _model()
    X = torch.randint(4, 11, (3, 6))
    lens = torch.tensor([6, 2, 4])
    out, state = model.encoder(X, lens)
    assert out.shape == (3, 6, 16) and state.shape == (2, 3, 16)
    assert (out[1, 2:] == 0).all()                         # 填充位置的输出为 0
    X2 = X.clone()
    X2[1, 2:] = 1                                          # 改动填充位置的内容
    X2[2, 4:] = 7
    out2, state2 = model.encoder(X2, lens)
    assert torch.allclose(state, state2) and torch.allclose(out, out2)
    # 与单独编码不含填充的句子一致
    _, single = model.encoder(X[1:2, :2], torch.tensor([2]))
    assert torch.allclose(single[:, 0], state[:, 1], atol=1e-6)


def test_embedding_padding_idx():
    model = _model()
    assert model.encoder.embedding.padding_idx == 1
    assert model.decoder.embedding.padding_idx == 1
    assert (model.decoder.embedding.weight[1] == 0).all()


def test_step_by_step_equals_teacher_forced():
    model = _model()
    X, lens = torch.randint(4, 11, (4, 5)), torch.tensor([5, 3, 1, 4])
    dec_X = torch.randint(2, 13, (4, 7))
    full = model(X, lens, dec_X)
    state = model.init_decoder_state(X, lens)
    context0 = state[0].clone()
    steps = []
    for t in range(7):
        logits, state = model.decoder(dec_X[:, t:t + 1], state)
        steps.append(logits)
        assert torch.equal(state[0], context0)  # 上下文始终是编码器的最终状态
    assert torch.allclose(torch.cat(steps, 1), full, atol=1e-5)
    # ratio = 1 的计划采样就是强制教学
    sampled = seqbook.scheduled_sampling_logits(model, X, lens, dec_X, 1.0)
    assert torch.allclose(sampled, full, atol=1e-5)


def test_decoder_does_not_mutate_state():
    model = _model()
    X, lens = torch.randint(4, 11, (2, 5)), torch.tensor([5, 3])
    state = model.init_decoder_state(X, lens)
    copy = tuple(s.clone() for s in state)
    model.decoder(torch.tensor([[2], [2]]), state)
    assert all(torch.equal(a, b) for a, b in zip(state, copy))


def test_scheduled_sampling_uses_predictions():
    model = _model()
    X, lens = torch.randint(4, 11, (3, 5)), torch.tensor([5, 3, 2])
    dec_X = torch.randint(4, 13, (3, 6))
    logits = seqbook.scheduled_sampling_logits(model, X, lens, dec_X, 0.0)
    # ratio = 0：每一步输入上一步的 argmax，等于贪心解码的 logits
    state = model.init_decoder_state(X, lens)
    inputs, steps = dec_X[:, :1], []
    for _ in range(6):
        out, state = model.decoder(inputs, state)
        steps.append(out)
        inputs = out.argmax(-1)
    assert torch.allclose(logits, torch.cat(steps, 1), atol=1e-5)
    with pytest.raises(ValueError, match="teacher_forcing_ratio"):
        seqbook.scheduled_sampling_logits(model, X, lens, dec_X, 1.5)


def test_reorder_state():
    model = _model()
    X, lens = torch.randint(4, 11, (3, 5)), torch.tensor([5, 3, 2])
    context, hidden = model.init_decoder_state(X, lens)
    idx = torch.tensor([2, 0, 0])
    c2, h2 = model.decoder.reorder_state((context, hidden), idx)
    assert torch.equal(c2, context[idx]) and torch.equal(h2, hidden[:, idx])


def test_masked_cross_entropy_equals_ignore_index():
    torch.manual_seed(0)
    logits = torch.randn(4, 6, 9)
    valid = torch.tensor([6, 1, 3, 4])
    labels = torch.randint(2, 9, (4, 6))   # 有效位置不含 <pad>
    mask = seqbook.sequence_mask(valid, 6)
    labels_pad = labels.masked_fill(~mask, 1)   # 填充位置放 <pad>（索引 1）
    ours = seqbook.masked_cross_entropy(logits, labels_pad, valid)
    ref = F.cross_entropy(logits.reshape(-1, 9), labels_pad.reshape(-1), ignore_index=1)
    assert torch.allclose(ours, ref)
    # 是有效词元上的平均，不是除以 num_steps
    per_token = F.cross_entropy(logits.transpose(1, 2), labels, reduction="none")
    assert torch.allclose(ours, per_token[mask].mean())
    # 填充位置的标签与 logits 不影响结果
    noisy = logits.clone()
    noisy[~mask] = 100.0
    assert torch.allclose(seqbook.masked_cross_entropy(noisy, labels, valid), ours)
    assert torch.allclose(seqbook.masked_cross_entropy(logits, labels, valid, "sum"), per_token[mask].sum())
    none = seqbook.masked_cross_entropy(logits, labels, valid, "none")
    assert none.shape == (4, 6) and (none[~mask] == 0).all()
    # 标签平滑：与 F.cross_entropy(ignore_index=pad, label_smoothing=0.1) 相同
    smooth = seqbook.masked_cross_entropy(logits, labels_pad, valid, label_smoothing=0.1)
    ref = F.cross_entropy(logits.reshape(-1, 9), labels_pad.reshape(-1), ignore_index=1, label_smoothing=0.1)
    assert torch.allclose(smooth, ref) and smooth > ours
    with pytest.raises(ValueError, match="label_smoothing"):
        seqbook.masked_cross_entropy(logits, labels, valid, label_smoothing=1.0)
    with pytest.raises(ValueError, match="reduction"):
        seqbook.masked_cross_entropy(logits, labels, valid, "avg")
    with pytest.raises(ValueError, match="valid_lens"):
        seqbook.masked_cross_entropy(logits, labels, valid[:2])
    with pytest.raises(ValueError, match="logits"):
        seqbook.masked_cross_entropy(logits[0], labels, valid)


def test_sequence_mask_and_decoder_inputs():
    valid = torch.tensor([1, 3])
    assert seqbook.sequence_mask(valid, 3).tolist() == [[True, False, False], [True, True, True]]
    Y = torch.tensor([[5, 6, 3], [7, 3, 1]])
    assert seqbook.training.seq2seq.decoder_inputs(Y, 2).tolist() == [[2, 5, 6], [2, 7, 3]]


def test_bad_arguments():
    for bad in (0, -3):
        with pytest.raises(ValueError, match="num_hiddens"):
            seqbook.Seq2SeqEncoder(10, 4, bad)
    with pytest.raises(TypeError, match="num_hiddens"):  # 类型不对：TypeError
        seqbook.Seq2SeqEncoder(10, 4, 1.5)
    model = _model()
    with pytest.raises(TypeError, match="X"):
        model.encoder(torch.zeros(2, 3), None)
    with pytest.raises(ValueError, match="valid_lens"):
        model.encoder(torch.zeros(2, 3, dtype=torch.long), torch.tensor([0, 3]))
    with pytest.raises(ValueError, match="valid_lens"):
        model.encoder(torch.zeros(2, 3, dtype=torch.long), torch.tensor([4, 3]))
    other = seqbook.Seq2SeqEncoder(11, 8, 32, 2)
    with pytest.raises(ValueError, match="不匹配"):
        model.decoder.init_state(other(torch.zeros(1, 2, dtype=torch.long), None), None)


@pytest.fixture(scope="module")
def tiny_data():
    return seqbook.load_translation("fra-eng", num_steps=10, max_tokens=None, num_test=0,
                                    num_examples=200)


def test_train_seq2seq_learns(tiny_data):
    seqbook.set_seed(0)
    model = seqbook.build_seq2seq(tiny_data.src_vocab, tiny_data.tgt_vocab, 32, 32, 1, 0.0)
    result = seqbook.train_seq2seq(model, tiny_data, 12, 0.02, "cpu", batch_size=32, plot=False)
    assert result.losses[-1] < 0.6 * result.losses[0], result.losses
    assert result.num_tokens == 12 * int(tiny_data.tgt_valid_len.sum()) and result.tokens_per_sec > 0
    assert not model.training and "损失" in result.summary()
    # 计划采样的训练也能运行，损失下降
    seqbook.set_seed(0)
    model = seqbook.build_seq2seq(tiny_data.src_vocab, tiny_data.tgt_vocab, 32, 32, 1, 0.0)
    result = seqbook.train_seq2seq(model, tiny_data, 3, 0.01, "cpu", batch_size=32, plot=False,
                                   teacher_forcing_ratio=0.5, lr_decay="cosine")
    assert result.losses[-1] < result.losses[0]


def test_train_seq2seq_label_smoothing_and_warmup(tiny_data, monkeypatch):
    seen = []
    real = seqbook.training.seq2seq.masked_cross_entropy

    def spy(*args, **kwargs):
        seen.append(kwargs.get("label_smoothing"))
        return real(*args, **kwargs)

    monkeypatch.setattr(seqbook.training.seq2seq, "masked_cross_entropy", spy)
    lrs = []
    real_step = torch.optim.Adam.step

    def record_lr(self, *args, **kwargs):
        lrs.append(self.param_groups[0]["lr"])
        return real_step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "step", record_lr)
    seqbook.set_seed(0)
    model = seqbook.build_seq2seq(tiny_data.src_vocab, tiny_data.tgt_vocab, 16, 16, 1, 0.0)
    result = seqbook.train_seq2seq(model, tiny_data, 2, 0.01, "cpu", batch_size=32, plot=False,
                                   label_smoothing=0.1, warmup_steps=4)
    assert set(seen) == {0.1} and all(map(math.isfinite, result.losses))
    assert lrs[:5] == pytest.approx([0.0025, 0.005, 0.0075, 0.01, 0.01])  # 线性预热 4 步后保持


def test_train_seq2seq_bad_args(tiny_data):
    model = seqbook.build_seq2seq(tiny_data.src_vocab, tiny_data.tgt_vocab, 8, 8, 1)
    with pytest.raises(ValueError, match="num_epochs"):
        seqbook.train_seq2seq(model, tiny_data, 0, 0.01, "cpu", plot=False)
    with pytest.raises(ValueError, match="lr"):
        seqbook.train_seq2seq(model, tiny_data, 1, -1.0, "cpu", plot=False)
    with pytest.raises(ValueError, match="lr_decay"):
        seqbook.train_seq2seq(model, tiny_data, 1, 0.01, "cpu", plot=False, lr_decay="step")
    with pytest.raises(ValueError, match="warmup_steps"):
        seqbook.train_seq2seq(model, tiny_data, 1, 0.01, "cpu", plot=False, warmup_steps=-1)
    with pytest.raises(ValueError, match="label_smoothing"):
        seqbook.train_seq2seq(model, tiny_data, 1, 0.01, "cpu", plot=False, label_smoothing=-0.1)
    with pytest.raises(TypeError, match="model"):
        seqbook.train_seq2seq(model.encoder, tiny_data, 1, 0.01, "cpu", plot=False)
    with pytest.raises(ValueError, match="保留词元"):
        seqbook.build_seq2seq(seqbook.Vocab([["a"]]), tiny_data.tgt_vocab)


def test_negative_valid_lens_are_rejected():
    logits, labels = torch.randn(2, 4, 7), torch.randint(0, 7, (2, 4))
    with pytest.raises(ValueError, match="valid_lens.*负"):
        seqbook.masked_cross_entropy(logits, labels, torch.tensor([3, -1]))
    with pytest.raises(TypeError, match="valid_lens"):
        seqbook.masked_cross_entropy(logits, labels, torch.tensor([3.0, 1.0]))
    with pytest.raises(ValueError, match="valid_lens.*负"):
        seqbook.sequence_mask(torch.tensor([-2, 1]), 4)
