"""序列预测：k 步预测与多步（自回归）预测。"""

import torch

from .._checks import check_nonnegative_int, check_positive_int


@torch.no_grad()
def k_step_predictions(net, x, tau, ks):
    """k 步预测：只用 ``t - k`` 及以前的观测值预测 ``x_t``，中间的 ``k - 1``
    步用模型自己的预测。

    从每个起点的 ``tau`` 个观测值出发，反复把预测值接到窗口末尾，一次算出所有起点的
    1 到 ``max(ks)`` 步预测。返回字典 ``{k: (t_idx, preds)}``：``t_idx``
    是被预测的位置（``x`` 的下标，形状 ``(T - tau - k + 1,)``），``preds``
    是对应的预测值。"""
    ks = [check_positive_int(k, "ks 中的步数") for k in ks]
    if not ks:
        raise ValueError("ks 应为正整数的非空列表")
    T, max_k = len(x), max(ks)
    if T - tau - max_k + 1 <= 0:
        raise ValueError(f"序列长度 {T} 不足以做 tau={tau}、k={max_k} 的预测")
    # (T - tau, tau)：每个起点的观测窗口
    window = x.unfold(0, tau, 1)[:T - tau].clone()
    preds = []
    for _ in range(max_k):
        y = net(window)                                  # (T - tau, 1)
        preds.append(y[:, 0])
        # 窗口右移：丢掉最旧的值，接上预测
        window = torch.cat([window[:, 1:], y], dim=1)
    preds = torch.stack(preds, dim=1)                    # (T - tau, max_k)
    return {k: (torch.arange(tau + k - 1, T), preds[:T - tau - k + 1, k - 1])
            for k in ks}


@torch.no_grad()
def multistep_predict(net, x, tau, num_observed):
    """多步预测：前 ``num_observed`` 个位置用观测值，此后每一步都只用模型自己的预
    测。

    返回形状 ``(T,)`` 的序列，前 ``num_observed`` 个等于 ``x``。
    """
    if not tau <= check_nonnegative_int(num_observed, "num_observed") <= len(x):
        raise ValueError(f"num_observed 应在 [tau, len(x)] = [{tau}, {len(x)}] 中，"
                         f"实际得到 {num_observed!r}")
    out = x.clone()
    for t in range(num_observed, len(x)):
        out[t] = net(out[t - tau:t].reshape(1, -1))[0, 0]
    return out
