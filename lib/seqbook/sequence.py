"""序列模型的小实验：带噪声的正弦序列、滑动窗口特征、多层感知机自回归模型与 k 步预测。"""
import torch
from torch import nn

__all__ = ["sine_data", "make_windows", "get_mlp", "train_regressor", "k_step_predictions",
           "multistep_predict"]


def sine_data(T=1000, noise=0.2, generator=None):
    """``x_t = sin(0.01 t) + ε_t``，``ε_t ~ N(0, noise²)``，``t = 1, ..., T``。

    返回 ``(time, x)``，形状都是 ``(T,)``。随机数来自 ``generator``（不给时用全局的）。
    """
    if not isinstance(T, int) or T <= 1:
        raise ValueError(f"T 应为大于 1 的整数，实际得到 {T!r}")
    if noise < 0:
        raise ValueError(f"noise 应为非负数，实际得到 {noise!r}")
    time = torch.arange(1, T + 1, dtype=torch.float32)  # (T,)
    x = torch.sin(0.01 * time) + noise * torch.randn(T, generator=generator)  # (T,)
    return time, x


def make_windows(x, tau):
    """把序列 ``x`` ``(T,)`` 变成自回归的样本：特征是前 ``tau`` 个值，标签是下一个值。

    返回 ``(features, labels)``：``(T - tau, tau)`` 与 ``(T - tau, 1)``；第 ``i`` 行的特征是
    ``x[i], ..., x[i+tau-1]``，标签是 ``x[i+tau]``。
    """
    if x.dim() != 1:
        raise ValueError(f"x 应为一维序列，实际形状 {tuple(x.shape)}")
    if not isinstance(tau, int) or not 0 < tau < len(x):
        raise ValueError(f"tau 应为 1 到 len(x)-1 之间的整数，实际得到 {tau!r}")
    features = x.unfold(0, tau, 1)[:-1]  # (T - tau, tau)：所有长为 tau 的窗口，去掉最后一个
    labels = x[tau:].reshape(-1, 1)      # (T - tau, 1)
    return features, labels


def get_mlp(num_inputs, num_hiddens=10):
    """两层的多层感知机：``num_inputs`` → ``num_hiddens``（ReLU）→ 1。"""
    net = nn.Sequential(nn.Linear(num_inputs, num_hiddens), nn.ReLU(), nn.Linear(num_hiddens, 1))
    for m in net:
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
    return net


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


@torch.no_grad()
def k_step_predictions(net, x, tau, ks):
    """k 步预测：只用 ``t - k`` 及以前的观测值预测 ``x_t``，中间的 ``k - 1`` 步用模型自己的预测。

    从每个起点的 ``tau`` 个观测值出发，反复把预测值接到窗口末尾，一次算出所有起点的
    1 到 ``max(ks)`` 步预测。返回字典 ``{k: (t_idx, preds)}``：``t_idx`` 是被预测的位置
    （``x`` 的下标，形状 ``(T - tau - k + 1,)``），``preds`` 是对应的预测值。
    """
    ks = list(ks)
    if not ks or any(not isinstance(k, int) or k <= 0 for k in ks):
        raise ValueError(f"ks 应为正整数的列表，实际得到 {ks!r}")
    T, max_k = len(x), max(ks)
    if T - tau - max_k + 1 <= 0:
        raise ValueError(f"序列长度 {T} 不足以做 tau={tau}、k={max_k} 的预测")
    window = x.unfold(0, tau, 1)[:T - tau].clone()  # (T - tau, tau)：每个起点的观测窗口
    preds = []
    for _ in range(max_k):
        y = net(window)                                  # (T - tau, 1)
        preds.append(y[:, 0])
        window = torch.cat([window[:, 1:], y], dim=1)    # 窗口右移：丢掉最旧的值，接上预测
    preds = torch.stack(preds, dim=1)                    # (T - tau, max_k)
    return {k: (torch.arange(tau + k - 1, T), preds[:T - tau - k + 1, k - 1]) for k in ks}


@torch.no_grad()
def multistep_predict(net, x, tau, num_observed):
    """多步预测：前 ``num_observed`` 个位置用观测值，此后每一步都只用模型自己的预测。

    返回形状 ``(T,)`` 的序列，前 ``num_observed`` 个等于 ``x``。
    """
    if not isinstance(num_observed, int) or not tau <= num_observed <= len(x):
        raise ValueError(f"num_observed 应在 [tau, len(x)] = [{tau}, {len(x)}] 中，实际得到 {num_observed!r}")
    out = x.clone()
    for t in range(num_observed, len(x)):
        out[t] = net(out[t - tau:t].reshape(1, -1))[0, 0]
    return out
