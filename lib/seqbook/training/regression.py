"""回归模型的训练：自回归多层感知机与带参数的 Nadaraya-Watson 核回归。"""

import torch
from torch import nn

from ..models.regression import leave_one_out
from .trainer import fit, prepare, training_plot


def train_kernel_regression(model, data, num_epochs, lr, device=None, plot=False,
                            title=None):
    """用随机梯度下降（整批）训练 :class:`NWKernelRegression`，损失为平方误差的
    一半之和。

    ``data`` 是 ``(x_train, y_train)``；每个训练样本作为查询，其余样本作为键值对
    （见 :func:`leave_one_out`）。返回 :class:`seqbook.TrainResult`（``losses``）。
    """
    device = prepare(model, num_epochs, lr, device)
    x_train, y_train = (t.to(device) for t in data)
    keys, values = leave_one_out(x_train, y_train)  # (n_train, n_train - 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)

    def loss_fn(net, batch):
        loss = ((net(x_train, keys, values) - y_train) ** 2 / 2).sum()
        return loss, (loss.item(), len(x_train))

    fig = training_plot(num_epochs, "训练损失", title=title) if plot else None
    return fit(model, lambda: [None], loss_fn, optimizer, num_epochs, device,
               lambda metric: {"losses": metric[0]}, plot=fig)


def train_regressor(model, data, num_epochs, lr, device=None, batch_size=16,
                    generator=None):
    """用 Adam 和均方误差训练回归模型；``data`` 是 ``(features, labels)``。

    返回 :class:`seqbook.TrainResult`：``losses`` 是每轮结束时整个训练集上的
    均方误差。
    """
    features, labels = data
    if len(features) != len(labels):
        raise ValueError(f"features 有 {len(features)} 行，labels 有 "
                         f"{len(labels)} 行，应相等")
    device = prepare(model, num_epochs, lr, device)
    features, labels = features.to(device), labels.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    mse = nn.MSELoss()

    def batches():  # 每轮重新打乱
        perm = torch.randperm(len(features), generator=generator)
        return [perm[i:i + batch_size] for i in range(0, len(features), batch_size)]

    def loss_fn(net, idx):
        loss = mse(net(features[idx]), labels[idx])
        return loss, (loss.item() * len(idx), len(idx))

    @torch.no_grad()
    def epoch_end(metric):
        return {"losses": mse(model(features), labels).item()}

    return fit(model, batches, loss_fn, optimizer, num_epochs, device, epoch_end)
