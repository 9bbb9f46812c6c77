"""循环单元（从零实现）：RNN、GRU 与 LSTM 的单个时间步，以及沿时间展开一个单元。"""

import math

import torch
from torch import nn

from .._checks import check_positive_int


def _uniform_param(*shape, bound):
    """形状为 ``shape`` 的参数，按 U(-bound, bound) 初始化（与 torch.nn.GRU
    等相同）。"""
    return nn.Parameter(torch.empty(*shape).uniform_(-bound, bound))


class _Cell(nn.Module):
    """所有单元的共同部分：检查尺寸，登记 “输入权重 (d, h)、隐状态权重 (h, h)、偏置
    (h,)” 三件套。"""

    gates = ()  # 子类列出门的名字，例如 GRU 的 ("r", "z", "h")

    def __init__(self, num_inputs, num_hiddens):
        super().__init__()
        check_positive_int(num_inputs, "num_inputs")
        check_positive_int(num_hiddens, "num_hiddens")
        self.num_inputs, self.num_hiddens = num_inputs, num_hiddens
        bound = 1 / math.sqrt(num_hiddens)
        for g in self.gates:
            setattr(self, f"W_x{g}",
                    _uniform_param(num_inputs, num_hiddens, bound=bound))
            setattr(self, f"W_h{g}",
                    _uniform_param(num_hiddens, num_hiddens, bound=bound))
            setattr(self, f"b_{g}", _uniform_param(num_hiddens, bound=bound))

    def begin_state(self, batch_size, device=None):
        """全零的初始隐状态 ``(batch_size, num_hiddens)``。"""
        return torch.zeros(batch_size, self.num_hiddens, device=device)

    def extra_repr(self):
        return f"num_inputs={self.num_inputs}, num_hiddens={self.num_hiddens}"


class RNNCellScratch(_Cell):
    """普通循环神经网络的单元：H_t = tanh(X_t W_xh + H_{t-1} W_hh + b_h)。"""

    gates = ("h",)

    def forward(self, X, H):
        """X (batch_size, num_inputs)，H (batch_size, num_hiddens) -> 新的 H
        (batch_size, num_hiddens)。"""
        return torch.tanh(X @ self.W_xh + H @ self.W_hh + self.b_h)


class GRUCellScratch(_Cell):
    """门控循环单元。

    ``reset_after=True``（默认）与 ``torch.nn.GRU``、cuDNN 相同：先算
    ``H W_hh + b_hh``，再乘重置门；``reset_after=False`` 是 Cho 等人（2014）的原始写
    法：先把重置门乘到 ``H`` 上，再乘 ``W_hh``。
    """

    gates = ("r", "z", "h")  # 重置门、更新门、候选隐状态

    def __init__(self, num_inputs, num_hiddens, reset_after=True):
        super().__init__(num_inputs, num_hiddens)
        self.reset_after = bool(reset_after)
        if self.reset_after:  # torch 在重置门里面多一个偏置 b_hn
            self.b_hh = _uniform_param(num_hiddens,
                                       bound=1 / math.sqrt(num_hiddens))

    def forward(self, X, H):
        """X (batch_size, num_inputs)，H (batch_size, num_hiddens) -> 新的 H
        (batch_size, num_hiddens)。"""
        # 重置门 (batch_size, num_hiddens)
        R = torch.sigmoid(X @ self.W_xr + H @ self.W_hr + self.b_r)
        # 更新门 (batch_size, num_hiddens)
        Z = torch.sigmoid(X @ self.W_xz + H @ self.W_hz + self.b_z)
        if self.reset_after:
            H_tilde = torch.tanh(X @ self.W_xh + self.b_h
                                 + R * (H @ self.W_hh + self.b_hh))
        else:
            H_tilde = torch.tanh(X @ self.W_xh + (R * H) @ self.W_hh + self.b_h)
        return Z * H + (1 - Z) * H_tilde  # (batch_size, num_hiddens)

    def extra_repr(self):
        return super().extra_repr() + f", reset_after={self.reset_after}"


class LSTMCellScratch(_Cell):
    """长短期记忆网络的单元；状态是 (H, C)：隐状态与记忆元。"""

    gates = ("i", "f", "o", "c")  # 输入门、遗忘门、输出门、候选记忆元

    def begin_state(self, batch_size, device=None):
        """全零的 (H, C)，各为 ``(batch_size, num_hiddens)``。"""
        return (torch.zeros(batch_size, self.num_hiddens, device=device),
                torch.zeros(batch_size, self.num_hiddens, device=device))

    def forward(self, X, state):
        """X (batch_size, num_inputs)，state = (H, C) -> 新的 (H, C)，各为
        (batch_size, num_hiddens)。"""
        H, C = state
        I = torch.sigmoid(X @ self.W_xi + H @ self.W_hi + self.b_i)  # noqa: E741 输入门
        F_ = torch.sigmoid(X @ self.W_xf + H @ self.W_hf + self.b_f)  # 遗忘门
        O = torch.sigmoid(X @ self.W_xo + H @ self.W_ho + self.b_o)  # noqa: E741 输出门
        C_tilde = torch.tanh(X @ self.W_xc + H @ self.W_hc + self.b_c)  # 候选记忆元
        C = F_ * C + I * C_tilde  # (batch_size, num_hiddens)
        H = O * torch.tanh(C)  # (batch_size, num_hiddens)
        return H, C


def run_cell(cell, inputs, state, reverse=False):
    """把单元 ``cell`` 沿时间步展开。

    inputs (batch_size, num_steps, num_inputs)；state 是单元的状态（H 或 (H, C)）。
    ``reverse=True`` 时从最后一个时间步往前走（双向网络的反向层），输出仍按原来的时
    间顺序排列。
    返回 outputs (batch_size, num_steps, num_hiddens) 与最后的状态。
    """
    num_steps = inputs.shape[1]
    outputs = [None] * num_steps
    for t in (reversed(range(num_steps)) if reverse else range(num_steps)):
        state = cell(inputs[:, t], state)
        # 隐状态 (batch_size, num_hiddens)
        outputs[t] = state[0] if isinstance(state, tuple) else state
    return torch.stack(outputs, dim=1), state
