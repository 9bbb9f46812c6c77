"""设备选择、随机种子、计时与指标累加：每个训练循环都会用到的小工具。"""

import os
import random
import time

import numpy as np
import torch

__all__ = ["get_device", "set_seed", "Timer", "Accumulator"]


def get_device(prefer=None):
    """返回本书使用的计算设备：有 GPU 时用第一块 GPU，否则用 CPU。

    参数 ``prefer`` 可以是 ``"cpu"``、``"cuda"``（或 ``"gpu"``）、``"cuda:1"``
    或 ``torch.device``，用来强制指定设备；环境变量 ``SEQBOOK_DEVICE``
    的作用相同（例如在 GPU 机器上设为 ``cpu`` 来复现 CPU 上的结果）。设备名写错、
    请求的 GPU 不存在时抛出 ``ValueError``。
    """
    name = "prefer" if prefer is not None else "环境变量 SEQBOOK_DEVICE"
    choice = prefer if prefer is not None else os.environ.get("SEQBOOK_DEVICE")
    if choice is None or str(choice) == "":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not isinstance(choice, (str, torch.device)):
        raise TypeError(f"{name} 应为设备名字符串（如 'cpu'、'cuda'）或 "
                        "torch.device，"
                        f"实际得到 {type(choice).__name__}")
    if isinstance(choice, str):
        text = choice.strip().lower()
        # "gpu" 是 "cuda" 的别名
        if text.startswith("gpu") and text[3:4] in ("", ":"):
            text = "cuda" + text[3:]
        try:
            device = torch.device(text)
        except RuntimeError:
            raise ValueError(f"{name} 不是有效的设备名：{choice!r}；可用 'cpu'、"
                             "'cuda'（或 'gpu'）、"
                             f"'cuda:0' 等") from None
    else:
        device = choice
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"请求的设备 {device} 不可用：这台机器上没有可用的 "
                             "CUDA GPU"
                             "（或安装的是 CPU 版 PyTorch）；请改用 'cpu'，"
                             "或不指定设备")
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            raise ValueError(f"请求的设备 {device} 不存在：这台机器上只有 {count} "
                             "块 CUDA GPU"
                             f"（编号 0 到 {count - 1}）")
    return device


def set_seed(seed=0):
    """设定 Python、NumPy、PyTorch（含 CUDA）的随机种子，让每次运行输出相同的数字。
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed 应为非负整数，实际得到 {seed!r}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # 同时设定所有 CUDA 设备的种子
    return seed


class Timer:
    """记录多次运行的时间。

    ``start()`` 开始计时，``stop()`` 停止并把这一段的秒数记下
    来；``sum()``、``avg()``
    给出总时间与平均时间。也可以用作上下文管理器：``with timer: ...``。
    """

    def __init__(self):
        self.times = []
        self._tik = None
        self.start()

    def start(self):
        self._tik = time.perf_counter()

    def stop(self):
        """停止计时，返回这一段的秒数。"""
        self.times.append(time.perf_counter() - self._tik)
        return self.times[-1]

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def sum(self):
        return float(sum(self.times))

    def avg(self):
        return self.sum() / len(self.times) if self.times else 0.0

    def cumsum(self):
        """各段时间的累计和，用于画“时间—指标”曲线。"""
        return np.cumsum(self.times).tolist()


class Accumulator:
    """在 ``n`` 个变量上做累加，例如（损失之和，词元数）。"""

    def __init__(self, n):
        if not isinstance(n, int) or n <= 0:
            raise ValueError(f"n 应为正整数，实际得到 {n!r}")
        self.data = [0.0] * n

    def add(self, *args):
        if len(args) != len(self.data):
            raise ValueError(f"需要 {len(self.data)} 个数，实际得到 {len(args)} 个")
        self.data = [a + float(b) for a, b in zip(self.data, args)]

    def reset(self):
        self.data = [0.0] * len(self.data)

    def __getitem__(self, idx):
        return self.data[idx]

    def __len__(self):
        return len(self.data)
