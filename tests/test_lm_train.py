"""seqbook.training.lm：困惑度、梯度裁剪、预测、训练循环。"""
import math

import pytest
import torch
from torch import nn

from seqbook.data.lm_data import SeqDataLoader
from seqbook.data.text import Vocab
from seqbook.inference.lm import predict
from seqbook.models.rnn import RNNLMScratch, RNNModel
from seqbook.training.lm import (
    detach_state,
    evaluate_perplexity,
    grad_clipping,
    perplexity,
    train_epoch,
    train_lm,
)
from seqbook.training.schedule import lr_factor, warmup_lr_lambda
from seqbook.training.trainer import fit, train_step


def test_uniform_model_perplexity_is_vocab_size():
    for V in [2, 28, 1000]:
        logits = torch.zeros(4, 7, V)  # 每个词元的概率都是 1/V
        targets = torch.randint(0, V, (4, 7))
        assert math.isclose(perplexity(logits, targets), V, rel_tol=1e-5)


def test_perfect_model_perplexity_is_one():
    targets = torch.tensor([[1, 2, 0]])
    logits = torch.full((1, 3, 3), -1e4).scatter(2, targets.unsqueeze(-1), 1e4)
    assert math.isclose(perplexity(logits, targets), 1.0)


def test_perplexity_shape_check():
    with pytest.raises(ValueError, match="targets"):
        perplexity(torch.zeros(2, 3, 5), torch.zeros(2, 4, dtype=torch.long))


def _twin_nets_with_grads():
    """两个参数相同、已算好（很大的）梯度的小网络：一个用本书的裁剪，一个用 torch 的。"""
    torch.manual_seed(0)
    nets = [nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 3)) for _ in range(2)]
    nets[1].load_state_dict(nets[0].state_dict())
    X = torch.randn(4, 5) * 10
    for net in nets:
        net(X).pow(2).sum().backward()
    return nets


@pytest.mark.parametrize("theta", [0.1, 1.0, 100.0])
def test_grad_clipping_equals_clip_grad_norm(theta):
    nets = _twin_nets_with_grads()
    norm1 = grad_clipping(nets[0], theta)
    norm2 = nn.utils.clip_grad_norm_(nets[1].parameters(), theta)
    assert torch.allclose(norm1, norm2)
    for p1, p2 in zip(nets[0].parameters(), nets[1].parameters()):
        assert torch.allclose(p1.grad, p2.grad)
    total = torch.sqrt(sum((p.grad ** 2).sum() for p in nets[0].parameters()))
    assert total <= theta * (1 + 1e-5)


def test_grad_clipping_bad_theta_and_no_grads():
    with pytest.raises(ValueError, match="theta"):
        grad_clipping(nn.Linear(2, 2), 0)
    assert float(grad_clipping(nn.Linear(2, 2), 1.0)) == 0.0


def test_detach_state_tensor_and_tuple():
    h = torch.ones(2, requires_grad=True) * 2
    assert not detach_state(h).requires_grad
    a, b = detach_state((h, h))
    assert not a.requires_grad and not b.requires_grad
    assert detach_state(None) is None


class _Recorder(nn.Module):
    """记录收到的每个输入；总是预测 ``next_idx``。"""

    def __init__(self, vocab_size, next_idx):
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(1))
        self.vocab_size, self.next_idx, self.calls = vocab_size, next_idx, []

    def begin_state(self, batch_size, device=None):
        return torch.zeros(batch_size, 1, device=device)

    def forward(self, X, state):
        self.calls.append(X.tolist())
        logits = torch.zeros(*X.shape, self.vocab_size)
        logits[..., self.next_idx] = 1.0
        return logits, state + X.shape[1]  # 状态记录读过的词元数


VOCAB = Vocab(list("the time machine"))


def test_predict_consumes_whole_prefix_before_generating():
    net = _Recorder(len(VOCAB), VOCAB["e"])
    out = predict("time", 3, net, VOCAB)
    assert out == "timeeee"
    assert net.calls[0] == [VOCAB[list("time")]]  # 第一次调用读完整个前缀
    assert all(len(c[0]) == 1 for c in net.calls[1:])  # 之后每次只送一个新生成的词元
    assert len(net.calls) == 1 + 3


def test_predict_output_depends_on_whole_prefix():
    torch.manual_seed(0)
    net = RNNLMScratch(len(VOCAB), 16)
    a = predict("the", 0, net, VOCAB)
    assert a == "the"
    # 前缀的第一个字符不同，预测的分布就不同（说明第一个字符被读进了隐状态）
    with torch.no_grad():
        la, _ = net(torch.tensor([VOCAB[list("tme")]]), net.begin_state(1))
        lb, _ = net(torch.tensor([VOCAB[list("ame")]]), net.begin_state(1))
    assert not torch.allclose(la[0, -1], lb[0, -1])


def test_predict_bad_prefix():
    net = RNNLMScratch(len(VOCAB), 8)
    with pytest.raises(ValueError, match="不能为空"):
        predict("", 5, net, VOCAB)
    with pytest.raises(ValueError, match="词表里没有"):
        predict("The", 5, net, VOCAB)
    with pytest.raises(TypeError, match="prefix"):
        predict(123, 5, net, VOCAB)
    with pytest.raises(ValueError, match="num_preds"):
        predict("the", -1, net, VOCAB)


def test_predict_sampling_is_reproducible():
    torch.manual_seed(0)
    net = RNNLMScratch(len(VOCAB), 8)
    a = predict("the", 20, net, VOCAB, temperature=1.0, generator=torch.Generator().manual_seed(1))
    b = predict("the", 20, net, VOCAB, temperature=1.0, generator=torch.Generator().manual_seed(1))
    assert a == b and len(a) == 23


class _StateSpy(RNNLMScratch):
    """记录每个小批量开始时收到的状态是不是全零、是否还连着计算图。"""

    def forward(self, X, state):
        self.seen.append((bool((state == 0).all()), state.requires_grad))
        return super().forward(X, state)


@pytest.mark.parametrize("random_iter", [True, False])
def test_train_epoch_state_handling(random_iter):
    torch.manual_seed(0)
    corpus = [i % 5 for i in range(400)]
    loader = SeqDataLoader(corpus, 4, 5, use_random_iter=random_iter, seed=0)
    net = _StateSpy(5, 8)
    net.seen = []
    train_epoch(net, loader, torch.optim.SGD(net.parameters(), lr=0.1), torch.device("cpu"))
    zeros = [z for z, _ in net.seen]
    assert all(not g for _, g in net.seen)  # 状态从不带着上一个小批量的计算图
    if random_iter:
        assert all(zeros)  # 随机采样：每个小批量从零状态开始
    else:
        assert zeros[0] and not any(zeros[1:])  # 顺序分区：状态传下去


def test_train_lm_learns_a_periodic_sequence():
    torch.manual_seed(0)
    corpus = [i % 7 for i in range(1500)]
    train = SeqDataLoader(corpus[:1200], 8, 10, seed=0)
    val = SeqDataLoader(corpus[1200:], 4, 10, seed=0)
    net = RNNModel(nn.GRU(8, 16, batch_first=True), 7)
    result = train_lm(net, train, num_epochs=6, lr=0.02, device=torch.device("cpu"),
                      val_iter=val, optimizer="adam", plot=False)
    assert len(result.train_ppl) == len(result.val_ppl) == 6
    assert result.final_val_ppl < 1.2 and result.tokens_per_sec > 0 and result.device == "cpu"
    assert evaluate_perplexity(net, val, torch.device("cpu")) < 1.2


def test_train_lm_bad_arguments():
    net = RNNLMScratch(5, 4)
    loader = SeqDataLoader([i % 5 for i in range(200)], 2, 5)
    with pytest.raises(ValueError, match="optimizer"):
        train_lm(net, loader, 1, 0.1, torch.device("cpu"), optimizer="rmsprop", plot=False)
    with pytest.raises(ValueError, match="num_epochs"):
        train_lm(net, loader, 0, 0.1, torch.device("cpu"), plot=False)


def test_norm_of_norms_clipping_is_bitwise_clip_grad_norm():
    """train_seq2seq 与填空用的算法与 torch 的 clip_grad_norm_ 逐位相同。"""
    nets = _twin_nets_with_grads()
    norm1 = grad_clipping(nets[0], 0.1, norm_of_norms=True)
    norm2 = nn.utils.clip_grad_norm_(nets[1].parameters(), 0.1)
    assert torch.equal(norm1, norm2)
    for p1, p2 in zip(nets[0].parameters(), nets[1].parameters()):
        assert torch.equal(p1.grad, p2.grad)


def test_train_step_and_train_result():
    torch.manual_seed(0)
    net = nn.Linear(3, 1)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    X, y = torch.randn(8, 3), torch.randn(8, 1)

    def loss_fn(model, batch):
        loss = ((model(batch[0]) - batch[1]) ** 2).mean()
        return loss, (loss.item() * len(batch[0]), len(batch[0]))

    before = net.weight.detach().clone()
    stats = train_step(net, loss_fn, (X, y), opt, grad_clip=1.0)
    assert stats[1] == 8 and not torch.equal(before, net.weight)
    result = fit(net, lambda: [(X, y)], loss_fn, opt, 3, "cpu",
                 lambda m: {"losses": m[0] / m[1]})
    assert len(result.losses) == 3 and result.final_losses == result.losses[-1]
    assert result.num_tokens == 24 and not net.training and "损失" in result.summary()
    with pytest.raises(AttributeError):
        _ = result.val_ppl


def test_lr_factor_one_schedule():
    f = warmup_lr_lambda(4)
    for step in range(20):  # 论文的形状：min(s / w, sqrt(w / s))，s = step + 1
        s = step + 1
        assert f(step) == min(s / 4, math.sqrt(4 / s))
    assert lr_factor(0, decay="cosine", total_steps=10) == 1.0
    assert lr_factor(5, decay="cosine", total_steps=10) == pytest.approx(0.5)
    assert lr_factor(1, warmup_steps=4) == 0.5


def test_norm_of_norms_without_get_total_norm(monkeypatch):
    """torch < 2.6 没有 nn.utils.get_total_norm：自己算的范数与 clip_grad_norm_ 逐位相同。"""
    nets = _twin_nets_with_grads()
    monkeypatch.delattr(nn.utils, "get_total_norm")
    norm1 = grad_clipping(nets[0], 0.1, norm_of_norms=True)
    norm2 = nn.utils.clip_grad_norm_(nets[1].parameters(), 0.1)
    assert torch.equal(norm1, norm2)
    for p1, p2 in zip(nets[0].parameters(), nets[1].parameters()):
        assert torch.equal(p1.grad, p2.grad)
