"""合成数据：正弦序列与自回归窗口（第 1 章），核回归的一维数据（第 3 章）。"""

import torch

from .._checks import check_positive_int, check_positive_number, check_tensor


def kernel_target(x):
    """要拟合的真实函数 ``f(x) = 2 sin(x) + x^0.8``（``x >= 0``）。"""
    return 2 * torch.sin(x) + x ** 0.8


def make_kernel_data(n_train=50, n_test=50, noise=0.5, x_max=5.0, generator=None):
    """生成核回归的数据。

    参数：
        n_train: 训练样本数；训练输入在 ``[0, x_max)`` 上均匀随机抽取并排序。
        n_test: 测试输入个数，等间距地取在 ``[0, x_max)`` 上。
        noise: 训练标签上高斯噪声的标准差。
        generator: ``torch.Generator``，不给时用全局随机数（由 ``set_seed`` 决定）。
    返回：``x_train (n_train,)``、``y_train (n_train,)``、``x_test (n_test,)``、
        ``y_truth (n_test,)``。
    """
    check_positive_int(n_train, "n_train")
    check_positive_int(n_test, "n_test")
    if noise < 0:
        raise ValueError(f"noise 应为非负数，实际得到 {noise!r}")
    check_positive_number(x_max, "x_max")
    # (n_train,)
    x_train, _ = torch.sort(torch.rand(n_train, generator=generator) * x_max)
    eps = noise * torch.randn(n_train, generator=generator)  # (n_train,)
    y_train = kernel_target(x_train) + eps  # (n_train,)
    x_test = torch.arange(n_test) * (x_max / n_test)  # (n_test,)
    return x_train, y_train, x_test, kernel_target(x_test)


def sine_data(T=1000, noise=0.2, generator=None):
    """``x_t = sin(0.01 t) + ε_t``，``ε_t ~ N(0, noise²)``，``t = 1, ..., T``。

    返回 ``(time, x)``，形状都是 ``(T,)``。随机数来自 ``generator``（不给时用全局
    的）。"""
    if check_positive_int(T, "T") <= 1:
        raise ValueError(f"T 应为大于 1 的整数，实际得到 {T!r}")
    if noise < 0:
        raise ValueError(f"noise 应为非负数，实际得到 {noise!r}")
    time = torch.arange(1, T + 1, dtype=torch.float32)  # (T,)
    x = torch.sin(0.01 * time) + noise * torch.randn(T, generator=generator)  # (T,)
    return time, x


def make_windows(x, tau):
    """把序列 ``x`` ``(T,)`` 变成自回归的样本：特征是前 ``tau`` 个值，
    标签是下一个值。

    返回 ``(features, labels)``：``(T - tau, tau)`` 与 ``(T - tau, 1)``；第 ``i``
    行的特征是``x[i], ..., x[i+tau-1]``，标签是 ``x[i+tau]``。
    """
    check_tensor(x, "x", 1)
    if check_positive_int(tau, "tau") >= len(x):
        raise ValueError(f"tau 应为 1 到 len(x)-1 之间的整数，实际得到 {tau!r}")
    # (T - tau, tau)：所有长为 tau 的窗口，去掉最后一个
    features = x.unfold(0, tau, 1)[:-1]
    labels = x[tau:].reshape(-1, 1)      # (T - tau, 1)
    return features, labels
