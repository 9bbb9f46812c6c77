"""编码器-解码器接口：嵌套状态的重排、类型检查、整段前向。"""
import pytest
import torch

import seqbook


def test_select_batch_nested_state():
    state = {"a": (torch.arange(6).reshape(3, 2), None), "b": [torch.arange(3.0)], "n": 5}
    index = torch.tensor([2, 2, 0])
    out = seqbook.select_batch(state, index)
    assert torch.equal(out["a"][0], torch.tensor([[4, 5], [4, 5], [0, 1]]))
    assert out["a"][1] is None and out["n"] == 5
    assert torch.equal(out["b"][0], torch.tensor([2.0, 2.0, 0.0]))
    assert torch.equal(state["a"][0], torch.arange(6).reshape(3, 2))  # 原状态不变


def test_select_batch_other_dim_and_bad_index():
    hidden = torch.arange(12.0).reshape(2, 3, 2)  # (num_layers, batch_size, h)
    out = seqbook.select_batch(hidden, torch.tensor([1]), dim=1)
    assert torch.equal(out, hidden[:, [1]])
    with pytest.raises(TypeError, match="index"):
        seqbook.select_batch(hidden, [0, 1])
    with pytest.raises(TypeError, match="index"):
        seqbook.select_batch(hidden, torch.tensor([0.0]))


def test_map_state_namedtuple():
    import collections
    Pair = collections.namedtuple("Pair", "x y")
    out = seqbook.models.encoder_decoder.map_state(lambda t: t * 2, Pair(torch.ones(1), {"z": torch.ones(2)}))
    assert isinstance(out, Pair) and torch.equal(out.y["z"], torch.full((2,), 2.0))


def test_base_classes_raise_and_type_checks():
    with pytest.raises(NotImplementedError):
        seqbook.Encoder()(torch.zeros(1, 1, dtype=torch.long), None)
    with pytest.raises(NotImplementedError):
        seqbook.Decoder().init_state(None, None)
    with pytest.raises(TypeError, match="encoder"):
        seqbook.EncoderDecoder(torch.nn.Linear(1, 1), seqbook.Decoder())
    with pytest.raises(TypeError, match="decoder"):
        seqbook.EncoderDecoder(seqbook.Encoder(), torch.nn.Linear(1, 1))


def test_encoder_decoder_forward_equals_manual():
    seqbook.set_seed(0)
    enc = seqbook.Seq2SeqEncoder(10, 8, 16, 2)
    dec = seqbook.Seq2SeqDecoder(12, 8, 16, 2)
    model = seqbook.EncoderDecoder(enc, dec).eval()
    X = torch.randint(4, 10, (3, 5))
    lens = torch.tensor([5, 2, 3])
    Y = torch.randint(4, 12, (3, 4))
    logits = model(X, lens, Y)
    assert logits.shape == (3, 4, 12)
    manual, _ = dec(Y, dec.init_state(enc(X, lens), lens))
    assert torch.equal(logits, manual)
