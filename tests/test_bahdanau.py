"""seqbook.models.bahdanau：Bahdanau 注意力解码器。"""

import pytest
import torch

import seqbook
from seqbook.models.bahdanau import BahdanauDecoder, build_bahdanau
from seqbook.models.encoder_decoder import EncoderDecoder
from seqbook.models.seq2seq import Seq2SeqEncoder

SRC_V, TGT_V, H = 11, 13, 16


def _model(num_layers=2, dropout=0.0, seed=0):
    torch.manual_seed(seed)
    enc = Seq2SeqEncoder(SRC_V, 8, H, num_layers, dropout)
    dec = BahdanauDecoder(TGT_V, 8, H, num_layers, dropout)
    return EncoderDecoder(enc, dec).eval()


def _batch(seed=1):
    g = torch.Generator().manual_seed(seed)
    X = torch.randint(4, SRC_V, (3, 6), generator=g)
    lens = torch.tensor([6, 3, 1])
    X[1, 3:] = 1  # <pad>
    X[2, 1:] = 1
    Y = torch.randint(4, TGT_V, (3, 5), generator=g)
    return X, lens, Y


def test_shapes_and_masked_weights():
    model = _model()
    X, lens, Y = _batch()
    logits = model(X, lens, Y)
    assert logits.shape == (3, 5, TGT_V)
    w = model.decoder.attention_weights
    assert w.shape == (3, 5, 6)
    assert torch.all(w[1, :, 3:] == 0) and torch.all(w[2, :, 1:] == 0)
    torch.testing.assert_close(w.sum(-1), torch.ones(3, 5))


def test_step_by_step_equals_teacher_forced():
    model = _model()
    X, lens, Y = _batch()
    with torch.no_grad():
        full = model(X, lens, Y)
        full_weights = model.decoder.attention_weights
        state = model.init_decoder_state(X, lens)
        steps, step_weights = [], []
        for t in range(Y.shape[1]):
            logits, state = model.decoder(Y[:, t : t + 1], state)
            steps.append(logits)
            step_weights.append(model.decoder.attention_weights)
    torch.testing.assert_close(torch.cat(steps, 1), full)
    torch.testing.assert_close(torch.cat(step_weights, 1), full_weights)


def test_key_projection_computed_once_per_source():
    model = _model()
    X, lens, Y = _batch()
    calls = []
    model.decoder.attention.W_k.register_forward_hook(lambda *a: calls.append(1))
    with torch.no_grad():
        state = model.init_decoder_state(X, lens)
        assert len(calls) == 1
        for t in range(Y.shape[1]):
            _, state = model.decoder(Y[:, t : t + 1], state)
        assert len(calls) == 1  # 逐步解码的 5 步都复用 init_state 中的投影
        model(X, lens, Y)
        assert len(calls) == 2
        seqbook.greedy_search(model, X, lens, bos=2, eos=3, max_len=7)
        seqbook.beam_search(model, X, lens, bos=2, eos=3, max_len=7, beam_size=3)
    assert len(calls) == 4  # 每次搜索只投影一次


def test_attention_looks_at_encoder_states():
    """注意力权重和输出取决于编码器的各个状态（而不只是解码器自己的输入和隐状态）。"""
    model = _model()
    X, lens, Y = _batch()
    enc_outputs, projected, hidden, _ = model.init_decoder_state(X, lens)
    other = torch.randn_like(enc_outputs)
    with torch.no_grad():
        logits1, _ = model.decoder(Y, (enc_outputs, projected, hidden, lens))
        w1 = model.decoder.attention_weights
        other_state = (
            other,
            model.decoder.attention.project_keys(other),
            hidden,
            lens,
        )
        logits2, _ = model.decoder(Y, other_state)
        w2 = model.decoder.attention_weights
    # 同样的隐状态，换了编码器状态，权重就变
    assert not torch.allclose(w1[0], w2[0])
    assert not torch.allclose(logits1, logits2)
    # 梯度：第一步的 logits 对每个有效的编码器位置都有梯度，对填充位置没有
    enc = enc_outputs.detach().requires_grad_()
    logits, _ = model.decoder(
        Y[:, :1], (enc, model.decoder.attention.project_keys(enc), hidden, lens)
    )
    logits.sum().backward()
    per_pos = enc.grad.abs().sum(-1)  # (batch_size, num_src_steps)
    assert torch.all(per_pos[0] > 0) and torch.all(per_pos[1, :3] > 0)
    assert torch.all(per_pos[1, 3:] == 0) and torch.all(per_pos[2, 1:] == 0)


def test_source_padding_content_does_not_matter():
    model = _model()
    X, lens, Y = _batch()
    X2 = X.clone()
    X2[1, 3:] = torch.tensor([5, 6, 7])
    X2[2, 1:] = 9
    with torch.no_grad():
        torch.testing.assert_close(model(X2, lens, Y), model(X, lens, Y))


def test_state_not_mutated_and_reorder():
    model = _model()
    X, lens, Y = _batch()
    with torch.no_grad():
        state = model.init_decoder_state(X, lens)
        copies = [t.clone() for t in state]
        a, _ = model.decoder(Y, state)
        b, _ = model.decoder(Y, state)
    assert torch.equal(a, b)
    assert all(torch.equal(s, c) for s, c in zip(state, copies))
    index = torch.tensor([2, 0, 0])
    re = model.decoder.reorder_state(state, index)
    assert torch.equal(re[0], state[0][index]) and torch.equal(
        re[1], state[1][index]
    )
    assert torch.equal(re[2], state[2][:, index]) and torch.equal(
        re[3], lens[index]
    )
    with torch.no_grad():
        c, _ = model.decoder(Y[index], re)
    torch.testing.assert_close(c, a[index])
    assert model.decoder.reorder_state(state[:3] + (None,), index)[3] is None


def test_beam_size_one_equals_greedy():
    model = _model()
    X, lens, _ = _batch()
    greedy, _ = seqbook.greedy_search(model, X, lens, bos=2, eos=3, max_len=6)
    beam, _ = seqbook.beam_search(
        model, X, lens, bos=2, eos=3, max_len=6, beam_size=1, alpha=0.0
    )
    assert greedy == beam


def test_trains_on_small_translation_task():
    """在 fra-eng 前 300 个句对上训练几轮：损失下降，训练接口与解码接口都能用。"""
    torch.manual_seed(0)
    data = seqbook.load_translation(
        "fra-eng", num_steps=8, num_test=20, num_examples=300
    )
    model = build_bahdanau(
        data.src_vocab,
        data.tgt_vocab,
        embed_size=16,
        num_hiddens=32,
        num_layers=1,
        dropout=0.0,
    )
    result = seqbook.train_seq2seq(
        model, data, num_epochs=15, lr=0.01, device="cpu", batch_size=32, plot=False
    )
    assert result.losses[-1] < result.losses[0] * 0.6, result.losses
    bleu, preds = seqbook.evaluate_bleu(model, data, device="cpu", beam_size=2)
    assert len(preds) == 20 and 0.0 <= bleu <= 100.0


def test_bad_input():
    with pytest.raises(ValueError, match="num_hiddens"):
        BahdanauDecoder(TGT_V, 8, 0)
    enc = Seq2SeqEncoder(SRC_V, 8, 12, 2)
    dec = BahdanauDecoder(TGT_V, 8, H, 2)
    X, lens, Y = _batch()
    with pytest.raises(ValueError, match="编码器输出"):
        dec.init_state(enc(X, lens), lens)
    model = _model()
    state = model.init_decoder_state(X, lens)
    with pytest.raises(ValueError, match="X"):  # 形状不对：ValueError
        model.decoder(Y[0], state)
    with pytest.raises(TypeError, match="X"):  # 类型不对：TypeError
        model.decoder(Y.float(), state)
    with pytest.raises(ValueError, match="src_vocab"):
        build_bahdanau(seqbook.Vocab(["a"]), seqbook.Vocab(["b"]))
