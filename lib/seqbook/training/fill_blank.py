"""填空任务：随机遮住输入中的词元，训练（双向）模型把它们填回来。"""

import torch
from torch.nn import functional as F

from .._checks import check_probability, check_tokens
from .trainer import fit, prepare


def mask_tokens(X, mask_prob, mask_id=0, generator=None):
    """把 ``X`` 中每个位置以概率 ``mask_prob`` 换成 ``mask_id``（默认是 ``<unk>``
    的索引 0）。

    X ``(batch_size, num_steps)`` 整数索引，不会被修改。返回 ``(X_masked, mask)``，
    形状都与 X 相同，``mask`` 标出被挖空的位置。随机数来自 ``generator``（CPU 上的
    ``torch.Generator``）。
    """
    check_tokens(X, "X")
    check_probability(mask_prob, "mask_prob", low_open=True, high_open=True)
    coin = torch.rand(X.shape, generator=generator)  # (batch_size, num_steps)
    mask = (coin < mask_prob).to(X.device)
    return X.masked_fill(mask, mask_id), mask


def _fill_blank_step(net, X, mask_prob, generator, device):
    """一个小批量上的填空：返回（挖空位置的交叉熵之和，猜对的个数，挖空的个数）。"""
    X = X.to(device)
    X_masked, mask = mask_tokens(X, mask_prob, generator=generator)
    state = net.begin_state(X.shape[0], device)
    logits, _ = net(X_masked, state)  # (batch_size, num_steps, vocab_size)
    logits, targets = logits[mask], X[mask]  # (n_masked, vocab_size), (n_masked,)
    loss = F.cross_entropy(logits, targets, reduction="sum")
    return loss, (logits.argmax(dim=-1) == targets).sum().item(), targets.numel()


@torch.no_grad()
def evaluate_fill_blank(net, data_iter, device, mask_prob=0.15, seed=0):
    """填空的准确率：在 ``data_iter`` 的每个小批量上随机挖空（随机数由 ``seed``
    固定），统计模型在挖空位置上猜对原词元的比例。每个小批量从零状态开始。"""
    was_training = net.training
    net.eval()
    generator = torch.Generator().manual_seed(seed)
    correct = total = 0
    for X, _ in data_iter:
        _, c, n = _fill_blank_step(net, X, mask_prob, generator, device)
        correct, total = correct + c, total + n
    net.train(was_training)
    return correct / max(total, 1)


def train_fill_blank(model, data, num_epochs, lr, device=None, val_iter=None,
                     mask_prob=0.15, seed=0):
    """训练模型做填空：输入中约 ``mask_prob`` 的词元被换成 ``<unk>``，只在这些位置上
    计算损失（平均交叉熵）。

    ``model`` 满足语言模型的接口，例如单向或双向的 :class:`seqbook.RNNModel`；
    ``data``/``val_iter`` 产生 ``(X, Y)``，这里只用 X。用 Adam 训练，梯度裁剪
    阈值 1，每个小批量从零状态开始。返回 :class:`seqbook.TrainResult`：
    ``val_acc`` 是每轮在 ``val_iter`` 上的填空准确率。
    """
    device = prepare(model, num_epochs, lr, device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)

    def loss_fn(net, batch):
        loss, _, n = _fill_blank_step(net, batch[0], mask_prob, generator, device)
        return loss / max(n, 1), (loss.item(), batch[0].numel())

    def epoch_end(metric):
        if val_iter is None:
            return {}
        return {"val_acc": evaluate_fill_blank(model, val_iter, device, mask_prob)}

    return fit(model, lambda: data, loss_fn, optimizer, num_epochs, device,
               epoch_end, grad_clip=1.0)
