"""训练与使用语言模型：困惑度、梯度裁剪、带预热期的预测、训练循环。

这里的函数适用于任何满足下面接口的语言模型（例如 :class:`seqbook.RNNLMScratch`、
:class:`seqbook.RNNModel`，以及第 2 章的门控循环模型）::

    state = net.begin_state(batch_size, device)   # 初始状态：张量、张量的元组，或 None
    logits, state = net(X, state)                 # X: (batch_size, num_steps) 整数索引
                                                  # logits: (batch_size, num_steps, vocab_size)
"""

import dataclasses
import math
import sys

import torch
import torch.nn.functional as F
from torch import nn

from ..display.plotting import TrainingPlot
from ..utils import Accumulator, Timer


def perplexity(logits, targets):
    """困惑度 = exp(平均每个词元的交叉熵)。``logits``：``(..., vocab_size)``；
    ``targets``：与 ``logits`` 去掉最后一维同形状的整数索引。"""
    if logits.shape[:-1] != targets.shape:
        raise ValueError(f"logits 的形状 {tuple(logits.shape)} 去掉最后一维后应与 targets 的形状 "
                         f"{tuple(targets.shape)} 相同")
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
    return math.exp(loss.item())


def grad_clipping(params, theta):
    """把所有参数的梯度看作一个长向量 g；若 ‖g‖ > theta，就把 g 缩放到长度 theta：

    ``g ← min(1, theta / ‖g‖) · g``

    ``params`` 是 ``nn.Module`` 或参数的可迭代对象。与 ``torch.nn.utils.clip_grad_norm_``
    一样，分母加 1e-6 防止除零，并返回裁剪前的范数。
    """
    if not isinstance(theta, (int, float)) or theta <= 0:
        raise ValueError(f"theta 应为正数，实际得到 {theta!r}")
    if isinstance(params, nn.Module):
        params = params.parameters()
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return torch.tensor(0.0)
    norm = torch.sqrt(sum(torch.sum(g ** 2) for g in grads))  # 标量：所有梯度拼成一个向量的长度
    coef = theta / (norm + 1e-6)
    if coef < 1:
        for g in grads:
            g.mul_(coef)  # 原地缩放，所有参数用同一个系数，梯度的方向不变
    return norm


def detach_state(state):
    """截断梯度：返回与 ``state`` 数值相同、但不再连着计算图的状态（张量或张量的元组）。"""
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
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), Y.reshape(-1), reduction="sum")
        metric.add(loss.item(), Y.numel())
    net.train(was_training)
    if metric[1] == 0:
        raise ValueError("data_iter 没有产生任何小批量")
    return math.exp(metric[0] / metric[1])


def train_epoch(net, train_iter, optimizer, device, theta=1.0):
    """训练一轮，返回 ``(训练困惑度, 词元/秒)``。

    ``train_iter.use_random_iter`` 为真（随机采样）时，每个小批量从零状态开始；否则（顺序
    分区）把上一个小批量的最终状态传下来，并用 :func:`detach_state` 截断梯度，使反向传播
    只经过当前小批量的 ``num_steps`` 个时间步。每步更新前用 :func:`grad_clipping` 裁剪梯度。
    """
    net.train()
    state, timer = None, Timer()
    metric = Accumulator(2)  # (交叉熵之和, 词元数)
    for X, Y in train_iter:
        X, Y = X.to(device), Y.to(device)  # (batch_size, num_steps)
        if state is None or _uses_random_iter(train_iter):
            state = net.begin_state(X.shape[0], device)  # 随机采样：相邻小批量在原文中不相邻
        else:
            state = detach_state(state)  # 顺序分区：保留数值，截断梯度
        logits, state = net(X, state)  # (batch_size, num_steps, vocab_size)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), Y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        grad_clipping(net, theta)
        optimizer.step()
        metric.add(loss.item() * Y.numel(), Y.numel())
    seconds = timer.stop()
    return math.exp(metric[0] / metric[1]), metric[1] / seconds


@dataclasses.dataclass
class LMTrainResult:
    """:func:`train_lm` 的结果：每轮的训练/验证困惑度、速度与设备。"""
    train_ppl: list
    val_ppl: list
    tokens_per_sec: float
    seconds: float
    device: str

    @property
    def final_train_ppl(self):
        return self.train_ppl[-1]

    @property
    def final_val_ppl(self):
        return self.val_ppl[-1]


def train_lm(net, train_iter, val_iter, lr, num_epochs, device, theta=1.0, optimizer="sgd",
             plot=True, title=None):
    """训练语言模型 ``num_epochs`` 轮，每轮后在 ``val_iter`` 上评估。

    参数：
        net: 满足本模块开头所述接口的模型（``begin_state`` 与 ``forward(X, state)``）。
        train_iter: :class:`seqbook.SeqDataLoader`；它的 ``use_random_iter`` 决定隐状态的处理。
        val_iter: 验证集迭代器，或 None（不评估）。
        lr: 学习率。optimizer: ``"sgd"``、``"adam"`` 或一个 ``torch.optim.Optimizer``。
        theta: 梯度裁剪的阈值。
        plot: 是否画实时更新的训练/验证困惑度曲线。
    返回 :class:`LMTrainResult`，并打印最终的困惑度、词元/秒与设备。
    """
    if not isinstance(num_epochs, int) or num_epochs <= 0:
        raise ValueError(f"num_epochs 应为正整数，实际得到 {num_epochs!r}")
    net.to(device)
    if optimizer == "sgd":
        optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    elif optimizer == "adam":
        optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    elif not isinstance(optimizer, torch.optim.Optimizer):
        raise ValueError(f"optimizer 应为 'sgd'、'adam' 或 torch.optim.Optimizer，实际得到 {optimizer!r}")
    fig = None
    if plot:
        fig = TrainingPlot(xlabel="轮", ylabel="困惑度", legend=["训练", "验证"],
                           xlim=[1, max(num_epochs, 2)], title=title)
    train_ppl, val_ppl, speeds = [], [], []
    epochs = range(num_epochs)
    if sys.stderr.isatty():  # 只在终端里显示进度条，笔记本与构建出的书里只有训练曲线
        from tqdm import tqdm
        epochs = tqdm(epochs, leave=False, desc="训练")
    timer = Timer()
    for epoch in epochs:
        ppl, speed = train_epoch(net, train_iter, optimizer, device, theta)
        train_ppl.append(ppl)
        speeds.append(speed)
        val_ppl.append(evaluate_perplexity(net, val_iter, device) if val_iter is not None else None)
        if fig is not None:
            fig.add(epoch + 1, [ppl, val_ppl[-1]])
    seconds = timer.stop()
    result = LMTrainResult(train_ppl, val_ppl, sum(speeds) / len(speeds), seconds, str(device))
    val = f"{result.final_val_ppl:.2f}" if val_iter is not None else "—"
    print(f"训练困惑度 {result.final_train_ppl:.2f}，验证困惑度 {val}，"
          f"{result.tokens_per_sec:,.0f} 词元/秒，设备 {device}，用时 {seconds:.1f} 秒")
    return result
