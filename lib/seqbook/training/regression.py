"""回归模型的训练：自回归多层感知机与带参数的 Nadaraya-Watson 核回归。"""

import torch
from torch import nn

from ..models.regression import leave_one_out


def train_kernel_regression(model, x_train, y_train, num_epochs=5, lr=0.5, callback=None):
    """用随机梯度下降（整批）训练 :class:`NWKernelRegression`，损失为平方误差的一半之和。

    每个训练样本作为查询，其余样本作为键值对（见 :func:`leave_one_out`）。
    ``callback(epoch, loss)`` 在每轮结束时调用（例如画训练曲线）。返回每轮的损失列表。
    """
    if not isinstance(num_epochs, int) or num_epochs <= 0:
        raise ValueError(f"num_epochs 应为正整数，实际得到 {num_epochs!r}")
    if lr <= 0:
        raise ValueError(f"lr 应为正数，实际得到 {lr!r}")
    keys, values = leave_one_out(x_train, y_train)  # (n_train, n_train - 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for epoch in range(num_epochs):
        optimizer.zero_grad()
        loss = ((model(x_train, keys, values) - y_train) ** 2 / 2).sum()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if callback is not None:
            callback(epoch + 1, losses[-1])
    return losses


def train_regressor(net, features, labels, num_epochs=5, lr=0.01, batch_size=16, generator=None):
    """用 Adam 和均方误差训练回归模型，返回每轮结束时整个训练集上的均方误差列表。"""
    if len(features) != len(labels):
        raise ValueError(f"features 有 {len(features)} 行，labels 有 {len(labels)} 行，应相等")
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    loss_fn = nn.MSELoss()
    losses = []
    for _ in range(num_epochs):
        perm = torch.randperm(len(features), generator=generator)
        for i in range(0, len(features), batch_size):
            idx = perm[i:i + batch_size]
            loss = loss_fn(net(features[idx]), labels[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            losses.append(loss_fn(net(features), labels).item())
    return losses
