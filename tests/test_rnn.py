"""seqbook.models.rnn：从零实现的 RNN 与 nn.RNN 一致；RNNModel 的各种循环层。"""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from seqbook.models.rnn import RNNLMScratch, RNNModel, RNNScratch


def _copy_to_nn_rnn(scratch):
    rnn = nn.RNN(scratch.num_inputs, scratch.num_hiddens, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(scratch.W_xh.T)  # nn.RNN 存的是转置：(num_hiddens, num_inputs)
        rnn.weight_hh_l0.copy_(scratch.W_hh.T)
        rnn.bias_ih_l0.copy_(scratch.b_h)
        rnn.bias_hh_l0.zero_()
    return rnn


def test_scratch_rnn_equals_nn_rnn_outputs_state_and_grads():
    torch.manual_seed(0)
    scratch = RNNScratch(5, 8).double()
    rnn = _copy_to_nn_rnn(scratch)
    X = torch.randn(3, 6, 5, dtype=torch.float64)
    H0 = torch.randn(3, 8, dtype=torch.float64)
    out1, h1 = scratch(X, H0)
    out2, h2 = rnn(X, H0.unsqueeze(0))
    assert out1.shape == (3, 6, 8) and h1.shape == (3, 8)
    assert torch.allclose(out1, out2) and torch.allclose(h1, h2[0])
    w = torch.randn_like(out1)  # 任意的下游损失
    (out1 * w).sum().backward()
    (out2 * w).sum().backward()
    assert torch.allclose(scratch.W_xh.grad, rnn.weight_ih_l0.grad.T)
    assert torch.allclose(scratch.W_hh.grad, rnn.weight_hh_l0.grad.T)
    assert torch.allclose(scratch.b_h.grad, rnn.bias_ih_l0.grad)
    assert torch.allclose(scratch.b_h.grad, rnn.bias_hh_l0.grad)


def test_scratch_rnn_default_state_and_bad_shapes():
    rnn = RNNScratch(4, 3)
    out, h = rnn(torch.randn(2, 5, 4))
    assert torch.equal(out[:, -1], h)
    with pytest.raises(ValueError, match="inputs"):
        rnn(torch.randn(2, 5, 6))
    with pytest.raises(ValueError, match="state"):
        rnn(torch.randn(2, 5, 4), torch.zeros(3, 3))
    with pytest.raises(ValueError, match="num_hiddens"):
        RNNScratch(4, 0)


def test_rnn_lm_scratch_shapes():
    net = RNNLMScratch(10, 16)
    state = net.begin_state(2)
    logits, state = net(torch.randint(0, 10, (2, 7)), state)
    assert logits.shape == (2, 7, 10) and state.shape == (2, 16)


def test_one_hot_times_weight_equals_embedding():
    W = torch.randn(10, 4)
    X = torch.randint(0, 10, (3, 5))
    emb = nn.Embedding(10, 4)
    with torch.no_grad():
        emb.weight.copy_(W)
    assert torch.allclose(F.one_hot(X, 10).float() @ W, emb(X))


@pytest.mark.parametrize("layer_cls", [nn.RNN, nn.GRU, nn.LSTM])
@pytest.mark.parametrize("num_layers, bidirectional", [(1, False), (2, False), (2, True)])
def test_rnn_model_shapes_and_state(layer_cls, num_layers, bidirectional):
    layer = layer_cls(6, 8, num_layers=num_layers, bidirectional=bidirectional, batch_first=True)
    net = RNNModel(layer, vocab_size=11)
    state = net.begin_state(3)
    d = 2 if bidirectional else 1
    if layer_cls is nn.LSTM:
        assert isinstance(state, tuple) and len(state) == 2
        assert state[0].shape == state[1].shape == (d * num_layers, 3, 8)
    else:
        assert state.shape == (d * num_layers, 3, 8)
    logits, new_state = net(torch.randint(0, 11, (3, 4)), state)
    assert logits.shape == (3, 4, 11)
    assert type(new_state) is type(state)


def test_rnn_model_state_continues_like_one_long_pass():
    torch.manual_seed(0)
    net = RNNModel(nn.GRU(4, 8, batch_first=True), 9)
    X = torch.randint(0, 9, (2, 10))
    full, _ = net(X, net.begin_state(2))
    a, state = net(X[:, :6], net.begin_state(2))
    b, _ = net(X[:, 6:], state)
    assert torch.allclose(full, torch.cat([a, b], dim=1), atol=1e-6)


def test_rnn_model_bad_arguments():
    with pytest.raises(ValueError, match="batch_first"):
        RNNModel(nn.RNN(4, 8), 10)
    with pytest.raises(TypeError, match="rnn_layer"):
        RNNModel(nn.Linear(4, 8), 10)
    with pytest.raises(ValueError, match="vocab_size"):
        RNNModel(nn.RNN(4, 8, batch_first=True), 0)
    with pytest.raises(TypeError, match="rnn_layer"):
        RNNModel("gru", 10)
    with pytest.raises(TypeError, match="vocab_size"):
        RNNModel(nn.RNN(4, 8, batch_first=True), 10.0)


def test_rnn_model_wraps_rnn_scratch():
    net = RNNModel(RNNScratch(4, 8), 10)
    state = net.begin_state(2)
    logits, state = net(torch.randint(0, 10, (2, 5)), state)
    assert logits.shape == (2, 5, 10) and state.shape == (2, 8)


def test_rnn_lm_scratch_with_given_rnn():
    net = RNNLMScratch(10, rnn=RNNScratch(10, 16))
    logits, state = net(torch.randint(0, 10, (2, 7)), net.begin_state(2))
    assert logits.shape == (2, 7, 10) and state.shape == (2, 16)
    assert isinstance(net.output, nn.Linear)
