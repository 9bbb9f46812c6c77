"""回归模型：自回归预测用的多层感知机（第 1 章），Nadaraya-Watson 核回归（第 3
章）。

核回归把注意力汇聚看成按相似度加权的平均。一维回归问题中，训练样本
``(x_i, y_i)`` 是键值对，要预测的位置 ``x`` 是查询：

- 平均汇聚：所有查询都输出 ``mean(y_i)``；
- 非参数注意力汇聚：高斯核 ``softmax(-(x - x_i)^2 / 2)`` 作为权重；
- 带参数注意力汇聚：``softmax(-((x - x_i) w)^2 / 2)``，``w`` 用随机梯度下降学出来。
"""

import torch
from torch import nn

from .._checks import check_positive_int, check_tensor


def get_mlp(num_inputs, num_hiddens=10):
    """两层的多层感知机：``num_inputs`` → ``num_hiddens``（ReLU）→ 1，
    权重用 Xavier 均匀分布初始化。"""
    net = nn.Sequential(nn.Linear(num_inputs, num_hiddens), nn.ReLU(),
                        nn.Linear(num_hiddens, 1))
    for m in net:
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
    return net


def average_pooling(y_train, num_queries):
    """平均汇聚：对每个查询都输出训练标签的平均值，返回 ``(num_queries,)``。"""
    check_tensor(y_train, "y_train", 1)
    check_positive_int(num_queries, "num_queries")
    return y_train.mean().repeat(num_queries)  # (num_queries,)


def gaussian_kernel_weights(queries, keys, w=1.0):
    """高斯核注意力权重 ``softmax_j(-((q_i - k_j) w)^2 / 2)``。

    参数：
        queries: ``(num_queries,)``。
        keys: ``(num_kvs,)``（所有查询共用一组键）或 ``(num_queries, num_kvs)``。
        w: 标量或 0 维张量，控制核的宽窄：``|w|`` 越大，核越窄，
            权重越集中在最近的键上。
    返回：``(num_queries, num_kvs)``，每行之和为 1。
    """
    check_tensor(queries, "queries", 1)
    check_tensor(keys, "keys", (1, 2))
    if keys.dim() == 1:
        keys = keys.expand(queries.shape[0], -1)  # (num_queries, num_kvs)
    if keys.shape[0] != queries.shape[0]:
        raise ValueError(f"keys 的形状应为 (num_kvs,) 或 ({queries.shape[0]}, "
                         f"num_kvs)，实际为 {tuple(keys.shape)}")
    diff = (queries[:, None] - keys) * w  # (num_queries, num_kvs)
    return torch.softmax(-diff ** 2 / 2, dim=1)  # (num_queries, num_kvs)


def nadaraya_watson(queries, keys, values, w=1.0):
    """Nadaraya-Watson 核回归的预测 ``f(q_i) = sum_j a(q_i, k_j) v_j``。

    参数：queries ``(num_queries,)``；keys、values ``(num_kvs,)`` 或
    ``(num_queries, num_kvs)``。
    返回：预测 ``(num_queries,)`` 与注意力权重 ``(num_queries, num_kvs)``。
    """
    weights = gaussian_kernel_weights(queries, keys, w)  # (num_queries, num_kvs)
    if values.shape not in (weights.shape, weights.shape[1:]):
        raise ValueError(f"values 的形状应与 keys 相同，实际 keys 给出 "
                         f"{tuple(weights.shape)}，values 为 {tuple(values.shape)}")
    return (weights * values).sum(dim=1), weights  # (num_queries,), 权重


class NWKernelRegression(nn.Module):
    """带参数的 Nadaraya-Watson 核回归：高斯核的宽窄 ``w`` 是可学习的标量参数。

    ``forward(queries, keys, values)`` 的形状同 :func:`nadaraya_watson`，返回
    ``(num_queries,)``，并把注意力权重存在 ``self.attention_weights``。
    """

    def __init__(self, w=None):
        super().__init__()
        w = torch.rand(()) if w is None else torch.tensor(float(w))
        self.w = nn.Parameter(w)
        self.attention_weights = None

    def forward(self, queries, keys, values):
        y_hat, weights = nadaraya_watson(queries, keys, values, self.w)
        self.attention_weights = weights  # (num_queries, num_kvs)
        return y_hat  # (num_queries,)


def leave_one_out(x_train, y_train):
    """训练带参数的核回归时，每个训练样本的键值对只取“其他”样本。

    否则样本会和自己配对：``w`` 越大，预测越接近自己的标签，训练损失可以降到 0，
    模型只是背下了噪声。返回：keys、values，形状都是 ``(n_train, n_train - 1)``。
    """
    check_tensor(x_train, "x_train", 1)
    check_tensor(y_train, "y_train", 1)
    n = x_train.shape[0]
    if y_train.shape[0] != n or n < 2:
        raise ValueError(f"x_train 与 y_train 应等长且至少 2 个样本，"
                         f"实际 {n} 与 {y_train.shape[0]}")
    others = ~torch.eye(n, dtype=torch.bool)  # (n, n)：第 i 行去掉第 i 个
    keys = x_train.expand(n, n)[others].reshape(n, n - 1)  # (n_train, n_train - 1)
    # (n_train, n_train - 1)
    values = y_train.expand(n, n)[others].reshape(n, n - 1)
    return keys, values
