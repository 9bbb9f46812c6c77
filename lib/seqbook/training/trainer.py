"""训练的公共部分：一个训练步、一个按轮训练的循环、一种训练记录。

书中每个训练函数（语言模型、编码器-解码器、填空、回归）都由这里的零件组成，
自己只提供两样东西：

- ``loss_fn(model, batch) -> (loss, (loss_sum, num_tokens))``：这个小批量上
  要反向传播的损失，以及要累加进这一轮统计的（损失之和，词元数）；
- ``epoch_end(metric) -> {指标名: 值}``：由一轮的累加结果（和验证集）给出
  这一轮的指标。

清零梯度、反向传播、梯度裁剪、更新参数、学习率调度、计时与画图都在这里，
只写一次。
"""

import dataclasses
import sys

import torch
from torch import nn

from .._checks import check_device, check_positive_int, check_positive_number
from ..display.plotting import TrainingPlot
from ..utils import Accumulator, Timer, get_device

# 指标名 → summary() 中的中文名
_LABELS = {"losses": "损失", "train_ppl": "训练困惑度", "val_ppl": "验证困惑度",
           "val_acc": "验证集填空准确率", "steps": "步数",
           "val_mlm_acc": "留出集掩蔽词元准确率", "val_mlm_nll": "留出集负对数似然",
           "val_nsp_acc": "留出集下一句预测准确率",
           "val_bpc": "留出诗每字符比特数"}


@dataclasses.dataclass
class TrainResult:
    """一次训练的记录：每轮的指标、训练用时（秒）、处理的词元数与设备。

    ``history`` 是 ``{指标名: 每轮的值}``，例如 ``{"losses": [...]}`` 或
    ``{"train_ppl": [...], "val_ppl": [...]}``；``result.losses`` 取每轮的值，
    ``result.final_val_ppl`` 取最后一轮的值。
    """
    history: dict
    seconds: float
    num_tokens: int
    device: str

    @property
    def tokens_per_sec(self):
        return self.num_tokens / self.seconds if self.seconds > 0 else 0.0

    def __getattr__(self, name):
        history = self.__dict__.get("history", {})
        if name in history:
            return history[name]
        if name.startswith("final_") and name[6:] in history:
            return history[name[6:]][-1]
        raise AttributeError(f"TrainResult 没有属性 {name!r}")

    def summary(self):
        parts = []
        for name, values in self.history.items():
            if values and values[-1] is not None:
                value = values[-1]
                text = (f"{value:.1%}" if name.endswith("acc") else f"{value:,}"
                        if isinstance(value, int) else f"{value:.3f}")
                parts.append(f"{_LABELS.get(name, name)} {text}")
        parts += [f"{self.tokens_per_sec:,.0f} 词元/秒",
                  f"共 {self.seconds:.1f} 秒", f"设备 {self.device}"]
        return "，".join(parts)


def grad_clipping(params, theta, norm_of_norms=False):
    """把所有参数的梯度看作一个长向量 g；若 ‖g‖ > theta，就把 g 缩放到长度 theta：

    ``g ← min(1, theta / ‖g‖) · g``

    ``params`` 是 ``nn.Module`` 或参数的可迭代对象；分母加 1e-6 防止除零，返回
    裁剪前的范数。‖g‖ 有两种算法，数学上相等，舍入不同：默认把所有元素的平方
    直接相加；``norm_of_norms=True`` 先求每个张量的范数再求它们的范数，与
    ``torch.nn.utils.clip_grad_norm_`` 逐位相同。
    """
    check_positive_number(theta, "theta")
    if isinstance(params, nn.Module):
        params = params.parameters()
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return torch.tensor(0.0)
    if norm_of_norms:
        norm = _total_norm(grads)
    else:
        norm = torch.sqrt(sum(torch.sum(g ** 2) for g in grads))  # 标量
    coef = theta / (norm + 1e-6)
    if coef < 1:
        for g in grads:
            g.mul_(coef)  # 原地缩放，所有参数用同一个系数，梯度的方向不变
    return norm


def _total_norm(grads):
    """各张量范数的范数（``clip_grad_norm_`` 的算法）；torch < 2.6 没有
    ``get_total_norm``，按同样的算法自己算。"""
    if hasattr(nn.utils, "get_total_norm"):
        return nn.utils.get_total_norm(grads)
    norms = torch._foreach_norm(grads)  # 每个张量一个范数
    return torch.linalg.vector_norm(torch.stack(norms))


def train_step(model, loss_fn, batch, optimizer, grad_clip=None, scheduler=None,
               norm_of_norms=True):
    """一个训练步：前向 → 损失 → 反向 → 梯度裁剪 → 更新参数 → 调度学习率。

    ``loss_fn(model, batch)`` 返回 ``(loss, stats)``；``grad_clip`` 为 None 时
    不裁剪（``norm_of_norms`` 见 :func:`grad_clipping`）。返回 ``stats``。
    """
    loss, stats = loss_fn(model, batch)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if grad_clip is not None:
        grad_clipping(model, grad_clip, norm_of_norms)
    optimizer.step()
    if scheduler is not None:
        scheduler.step()
    return stats


def run_epoch(model, batches, loss_fn, optimizer, grad_clip=None, scheduler=None,
              norm_of_norms=True):
    """对 ``batches`` 中的每个小批量做一个 :func:`train_step`，返回累加的
    ``Accumulator``：（损失之和，词元数）。"""
    model.train()
    metric = Accumulator(2)
    for batch in batches:
        stats = train_step(model, loss_fn, batch, optimizer, grad_clip, scheduler,
                           norm_of_norms)
        metric.add(*stats)
    return metric


def fit(model, batches, loss_fn, optimizer, num_epochs, device, epoch_end,
        grad_clip=None, scheduler=None, norm_of_norms=True, plot=None):
    """训练 ``num_epochs`` 轮，返回 :class:`TrainResult`，模型留在 ``eval`` 模式。

    ``batches()`` 给出一轮的小批量；每轮之后 ``epoch_end(metric)`` 给出这一轮
    的指标。只计训练用时，不计评估与画图；``plot`` 是 :class:`TrainingPlot`
    或 None。
    """
    history, timer, num_tokens = {}, Timer(), 0
    plot_every = max(1, num_epochs // 50)  # 至多重画约 50 次
    for epoch in _progress(range(num_epochs)):
        timer.start()
        metric = run_epoch(model, batches(), loss_fn, optimizer, grad_clip,
                           scheduler, norm_of_norms)
        timer.stop()
        num_tokens += int(metric[1])
        for name, value in epoch_end(metric).items():
            history.setdefault(name, []).append(value)
        last = epoch + 1 == num_epochs
        if plot is not None and ((epoch + 1) % plot_every == 0 or last):
            plot.add(epoch + 1, [values[-1] for values in history.values()])
    model.eval()
    return TrainResult(history, timer.sum(), num_tokens, str(device))


def _progress(epochs):
    if sys.stderr.isatty():  # 只在终端里显示进度条，笔记本与书里只有训练曲线
        from tqdm import tqdm
        return tqdm(epochs, leave=False, desc="训练")
    return epochs


def prepare(model, num_epochs, lr, device):
    """训练函数共同的开头：检查 ``num_epochs`` 与 ``lr``，``device`` 为 None 时用
    :func:`seqbook.get_device`，把模型移到设备上。返回 ``torch.device``。"""
    check_positive_int(num_epochs, "num_epochs")
    check_positive_number(lr, "lr")
    device = get_device() if device is None else check_device(device)
    model.to(device)
    return device


def training_plot(num_epochs, ylabel, legend=None, title=None):
    """按轮画训练曲线的 :class:`TrainingPlot`。"""
    return TrainingPlot(xlabel="轮", ylabel=ylabel, legend=legend,
                        xlim=[1, max(num_epochs, 2)], title=title)
