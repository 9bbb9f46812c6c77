"""训练语言模型：困惑度、截断的隐状态、一轮训练与训练函数。

这里的函数适用于任何满足下面接口的语言模型（例如 :class:`seqbook.RNNLMScratch`、
:class:`seqbook.RNNModel`，以及第 2 章的门控循环模型）::

    state = net.begin_state(batch_size, device)  # 张量、张量的元组，或 None
    logits, state = net(X, state)  # X: (batch_size, num_steps) 整数索引
                                   # logits: (batch_size, num_steps, vocab_size)
"""

import math

import torch
import torch.nn.functional as F

from ..utils import Accumulator, Timer
from .trainer import fit, grad_clipping, prepare, run_epoch, training_plot

__all__ = ["detach_state", "evaluate_perplexity", "grad_clipping", "lm_task",
           "perplexity", "train_epoch", "train_lm"]


def _token_loss(logits, Y, reduction="mean"):
    """logits ``(..., vocab_size)`` 与目标 ``(...)`` 之间的交叉熵。"""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), Y.reshape(-1),
                           reduction=reduction)


def perplexity(logits, targets):
    """困惑度 = exp(平均每个词元的交叉熵)。``logits``：``(..., vocab_size)``；
    ``targets``：与 ``logits`` 去掉最后一维同形状的整数索引。"""
    if logits.shape[:-1] != targets.shape:
        raise ValueError(f"logits 的形状 {tuple(logits.shape)} 去掉最后一维后应与 "
                         f"targets 的形状 {tuple(targets.shape)} 相同")
    return math.exp(_token_loss(logits, targets).item())


def detach_state(state):
    """截断梯度：返回与 ``state`` 数值相同、但不再连着计算图的状态（张量或
    张量的元组）。"""
    if state is None:
        return None
    if isinstance(state, (tuple, list)):
        return type(state)(detach_state(s) for s in state)
    return state.detach()


def _uses_random_iter(data_iter):
    return bool(getattr(data_iter, "use_random_iter", False))


@torch.no_grad()
def evaluate_perplexity(net, data_iter, device):
    """模型在 ``data_iter`` 上的困惑度（所有词元交叉熵的平均再取指数）。

    顺序分区的迭代器在小批量之间传递隐状态，随机采样的每个小批量从零状态开始。
    """
    was_training = net.training
    net.eval()
    metric = Accumulator(2)  # (交叉熵之和, 词元数)
    state = None
    for X, Y in data_iter:
        X, Y = X.to(device), Y.to(device)
        if state is None or _uses_random_iter(data_iter):
            state = net.begin_state(X.shape[0], device)
        logits, state = net(X, state)  # (batch_size, num_steps, vocab_size)
        metric.add(_token_loss(logits, Y, "sum").item(), Y.numel())
    net.train(was_training)
    if metric[1] == 0:
        raise ValueError("data_iter 没有产生任何小批量")
    return math.exp(metric[0] / metric[1])


def lm_task(train_iter, device):
    """语言模型的一轮训练：返回 ``(batches, loss_fn)``，交给 :func:`run_epoch` 或
    :func:`fit`。

    ``train_iter.use_random_iter`` 为真（随机采样）时，每个小批量从零状态开始；否则
    （顺序分区）把上一个小批量的最终状态传下来，并用 :func:`detach_state` 截断梯度，
    使反向传播只经过当前小批量的 ``num_steps`` 个时间步。
    """
    random_iter, state = _uses_random_iter(train_iter), None

    def batches():
        nonlocal state
        state = None  # 每轮从零状态开始
        return train_iter

    def loss_fn(net, batch):
        nonlocal state
        X, Y = (t.to(device) for t in batch)  # (batch_size, num_steps)
        if state is None or random_iter:
            state = net.begin_state(X.shape[0], device)  # 相邻小批量在原文中不相邻
        else:
            state = detach_state(state)  # 顺序分区：保留数值，截断梯度
        logits, state = net(X, state)  # (batch_size, num_steps, vocab_size)
        loss = _token_loss(logits, Y)
        return loss, (loss.item() * Y.numel(), Y.numel())
    return batches, loss_fn


def train_epoch(net, train_iter, optimizer, device, theta=1.0):
    """训练一轮，返回 ``(训练困惑度, 词元/秒)``。每步更新前用 :func:`grad_clipping`
    裁剪梯度（把所有元素的平方直接相加求范数）。"""
    batches, loss_fn = lm_task(train_iter, device)
    timer = Timer()
    metric = run_epoch(net, batches(), loss_fn, optimizer, theta,
                       norm_of_norms=False)
    return math.exp(metric[0] / metric[1]), metric[1] / timer.stop()


def train_lm(model, data, num_epochs, lr, device=None, val_iter=None, theta=1.0,
             optimizer="sgd", plot=True, title=None):
    """训练语言模型 ``num_epochs`` 轮；给了 ``val_iter`` 就每轮在它上面评估困惑度。

    参数：
        model: 满足本模块开头所述接口的模型。
        data: 训练集 :class:`seqbook.SeqDataLoader`；它的 ``use_random_iter``
            决定隐状态的处理（见 :func:`lm_task`）。
        optimizer: ``"sgd"``、``"adam"`` 或一个 ``torch.optim.Optimizer``。
        theta: 梯度裁剪的阈值。plot: 是否画实时更新的训练/验证困惑度曲线。
    返回 :class:`seqbook.TrainResult`（``train_ppl``、``val_ppl``）。
    """
    device = prepare(model, num_epochs, lr, device)
    if optimizer in ("sgd", "adam"):
        make = torch.optim.SGD if optimizer == "sgd" else torch.optim.Adam
        optimizer = make(model.parameters(), lr=lr)
    elif not isinstance(optimizer, torch.optim.Optimizer):
        raise ValueError(f"optimizer 应为 'sgd'、'adam' 或 torch.optim.Optimizer，"
                         f"实际得到 {optimizer!r}")
    batches, loss_fn = lm_task(data, device)

    def epoch_end(metric):
        val = None
        if val_iter is not None:
            val = evaluate_perplexity(model, val_iter, device)
        return {"train_ppl": math.exp(metric[0] / metric[1]), "val_ppl": val}

    legend = ["训练", "验证"]
    fig = training_plot(num_epochs, "困惑度", legend, title) if plot else None
    return fit(model, batches, loss_fn, optimizer, num_epochs, device, epoch_end,
               grad_clip=theta, norm_of_norms=False, plot=fig)
