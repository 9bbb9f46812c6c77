"""填空任务：随机遮住输入中的词元，训练（双向）模型把它们填回来。"""

import torch
from torch import nn
from torch.nn import functional as F

from .._checks import check_positive_int
from ..utils import Timer


def mask_tokens(X, mask_prob, mask_id=0, generator=None):
    """填空任务的输入：把 ``X`` 中每个位置以概率 ``mask_prob`` 换成 ``mask_id``（默认 ``<unk>`` 的索引 0）。

    X (batch_size, num_steps) 整数索引，不会被修改。返回 ``(X_masked, mask)``，形状都与 X 相同，
    ``mask`` 为布尔张量，标出被挖空的位置。随机数来自 ``generator``（CPU 上的 ``torch.Generator``）。
    """
    if not isinstance(X, torch.Tensor) or X.dim() != 2 or X.is_floating_point():
        raise ValueError("X 应为 (batch_size, num_steps) 的整数张量")
    if not isinstance(mask_prob, (int, float)) or not 0 < mask_prob < 1:
        raise ValueError(f"mask_prob 应在 (0, 1) 之间，实际得到 {mask_prob!r}")
    mask = (torch.rand(X.shape, generator=generator) < mask_prob).to(X.device)  # (batch_size, num_steps)
    return X.masked_fill(mask, mask_id), mask


def _fill_blank_step(net, X, mask_prob, generator, device):
    """一个小批量上的填空：返回 (被挖空位置的交叉熵之和, 猜对的个数, 挖空的个数)。"""
    X = X.to(device)
    X_masked, mask = mask_tokens(X, mask_prob, generator=generator)
    logits, _ = net(X_masked, net.begin_state(X.shape[0], device))  # (batch_size, num_steps, vocab_size)
    logits, targets = logits[mask], X[mask]  # (num_masked, vocab_size), (num_masked,)
    loss = F.cross_entropy(logits, targets, reduction="sum")
    return loss, (logits.argmax(dim=-1) == targets).sum().item(), targets.numel()


@torch.no_grad()
def evaluate_fill_blank(net, data_iter, device, mask_prob=0.15, seed=0):
    """填空的准确率：在 ``data_iter`` 的每个小批量上随机挖空（随机数由 ``seed`` 固定），
    统计模型在被挖空位置上猜对原词元的比例。每个小批量从零状态开始。"""
    was_training = net.training
    net.eval()
    generator = torch.Generator().manual_seed(seed)
    correct = total = 0
    for X, _ in data_iter:
        _, c, n = _fill_blank_step(net, X, mask_prob, generator, device)
        correct, total = correct + c, total + n
    net.train(was_training)
    return correct / max(total, 1)


def train_fill_blank(net, train_iter, val_iter, lr, num_epochs, device, mask_prob=0.15, seed=0):
    """训练模型做填空：输入中约 ``mask_prob`` 的词元被换成 ``<unk>``，只在这些位置上计算损失。

    ``net`` 满足语言模型的接口（``begin_state``、``forward(X, state) -> (logits, state)``），
    例如单向或双向的 :class:`seqbook.RNNModel`；``train_iter``/``val_iter`` 产生 ``(X, Y)``，这里只用 X。
    用 Adam 训练，每个小批量从零状态开始。返回验证集上每轮的准确率列表，并打印最终结果、词元/秒与设备。
    """
    check_positive_int(num_epochs, "num_epochs")
    net.to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    accuracies, num_tokens, timer = [], 0, Timer()
    for _ in range(num_epochs):
        net.train()
        for X, _ in train_iter:
            loss, _, n = _fill_blank_step(net, X, mask_prob, generator, device)
            optimizer.zero_grad()
            (loss / max(n, 1)).backward()  # 被挖空位置上的平均交叉熵
            nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            optimizer.step()
            num_tokens += X.numel()
        accuracies.append(evaluate_fill_blank(net, val_iter, device, mask_prob))
    seconds = timer.stop()
    print(f"验证集填空准确率 {accuracies[-1]:.1%}，{num_tokens / seconds:,.0f} 词元/秒，设备 {device}，"
          f"用时 {seconds:.1f} 秒")
    return accuracies
