"""门控循环单元（GRU）、长短期记忆网络（LSTM）、深度与双向循环神经网络的从零实现。

单步的“单元”（cell）只做一件事：由当前输入与上一个状态算出新状态。
:func:`run_cell` 把单元沿时间步展开；层与模型的接口与
``torch.nn.RNN``/``nn.GRU``/``nn.LSTM``（``batch_first=True``）相同，可以直接互换、
逐位比较：

- ``forward(inputs, state=None) -> (outputs, state)``；
- ``inputs``：``(batch_size, num_steps, num_inputs)``；
- ``outputs``：``(batch_size, num_steps, num_directions * num_hiddens)``，
  最后一层每个时间步的隐状态；
- ``state``：``(num_layers * num_directions, batch_size, num_hiddens)``；LSTM 是
  ``(H, C)`` 两个这样的张量。

``copy_from_torch(module)`` 把对应的 ``torch.nn`` 模块的参数复制过来，
用来验证两者相等。以这些层为核心的语言模型是 :class:`seqbook.RNNLMScratch`（``rnn=``
参数）或 :class:`seqbook.RNNModel`。
"""

import torch
from torch import nn
from torch.nn import functional as F

from .._checks import check_positive_int, check_probability
from .cells import GRUCellScratch, LSTMCellScratch, RNNCellScratch, run_cell

_CELLS = {"rnn": RNNCellScratch, "gru": GRUCellScratch, "lstm": LSTMCellScratch}


# torch 把各门的权重按行叠在一起：weight_ih_l0 的形状是 (门数 * h, d)，门的顺序如下
_TORCH_GATE_ORDER = {"rnn": ("h",), "gru": ("r", "z", "h"),
                     "lstm": ("i", "f", "c", "o")}


class RecurrentScratch(nn.Module):
    """多层、可双向的循环层：``cells[layer * num_directions + direction]``。

    ``mode`` 为 ``"rnn"``、``"gru"`` 或 ``"lstm"``，选择单元的种类。

    接口与 ``nn.RNN``/``nn.GRU``/``nn.LSTM(batch_first=True)`` 相同，
    属性名（``input_size``、``hidden_size``、``num_layers``、``bidirectional``）也相
    同，所以可以替换语言模型中的循环层。"""

    def __init__(self, mode, num_inputs, num_hiddens, num_layers=1,
                 bidirectional=False, dropout=0.0):
        super().__init__()
        if mode not in _CELLS:
            raise ValueError(f"mode 应为 {sorted(_CELLS)} 之一，实际得到 {mode!r}")
        check_positive_int(num_inputs, "num_inputs")
        check_positive_int(num_hiddens, "num_hiddens")
        check_positive_int(num_layers, "num_layers")
        self.mode = mode
        self.dropout = check_probability(dropout, "dropout", high_open=True)
        self.input_size, self.hidden_size = num_inputs, num_hiddens
        self.num_layers, self.bidirectional = num_layers, bool(bidirectional)
        self.num_directions = 2 if bidirectional else 1
        cells = []
        for layer in range(num_layers):
            # 第一层的输入是 d 维的 X；之后各层的输入是下一层的输出：
            # h 维（双向时 2h 维）
            layer_inputs = (num_inputs if layer == 0
                            else num_hiddens * self.num_directions)
            cells += [_CELLS[mode](layer_inputs, num_hiddens)
                      for _ in range(self.num_directions)]
        self.cells = nn.ModuleList(cells)

    def begin_state(self, batch_size, device=None, dtype=None):
        """全零的初始状态
        ``(num_layers * num_directions, batch_size, num_hiddens)``；
        LSTM 为 (H, C)。"""
        H = torch.zeros(self.num_layers * self.num_directions, batch_size,
                        self.hidden_size, device=device, dtype=dtype)
        return (H, H.clone()) if self.mode == "lstm" else H

    def _check_inputs(self, inputs):
        if not isinstance(inputs, torch.Tensor) or not inputs.is_floating_point():
            raise TypeError("inputs 应为浮点张量 (batch_size, num_steps, "
                            "num_inputs)，"
                            f"实际得到 {type(inputs).__name__}"
                            + (f"（dtype={inputs.dtype}）"
                               if isinstance(inputs, torch.Tensor) else ""))
        if inputs.dim() != 3 or inputs.shape[-1] != self.input_size:
            raise ValueError("inputs 的形状应为 (batch_size, num_steps, "
                             f"{self.input_size})，"
                             f"实际得到 {tuple(inputs.shape)}")
        if inputs.shape[1] == 0:
            raise ValueError("inputs 至少要有一个时间步（num_steps ≥ 1）")

    def _check_state(self, inputs, state):
        expected = (self.num_layers * self.num_directions, inputs.shape[0],
                    self.hidden_size)
        parts = state if self.mode == "lstm" else (state,)
        is_pair = isinstance(state, tuple) and len(state) == 2
        if self.mode == "lstm" and not is_pair:
            raise TypeError("LSTM 的 state 应为 (H, C) 两个张量组成的元组")
        for name, s in zip(("H", "C"), parts):
            if not isinstance(s, torch.Tensor) or tuple(s.shape) != expected:
                got = (tuple(s.shape) if isinstance(s, torch.Tensor)
                       else type(s).__name__)
                raise ValueError(f"state 中 {name} 的形状应为 {expected}"
                                 "（num_layers * num_directions, batch_size, "
                                 f"num_hiddens），实际得到 {got}")

    def forward(self, inputs, state=None):
        """inputs (batch_size, num_steps, num_inputs) -> (outputs, state)，
        形状见模块说明。"""
        self._check_inputs(inputs)
        if state is None:
            state = self.begin_state(inputs.shape[0], inputs.device, inputs.dtype)
        self._check_state(inputs, state)
        new_states = []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(self.num_directions):
                k = layer * self.num_directions + direction
                s = (state[0][k], state[1][k]) if self.mode == "lstm" else state[k]
                out, s = run_cell(self.cells[k], inputs, s, reverse=direction == 1)
                outputs.append(out)  # (batch_size, num_steps, num_hiddens)
                new_states.append(s)
            # (batch_size, num_steps, num_directions * num_hiddens)
            inputs = torch.cat(outputs, dim=-1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                # 与 torch 一样：最后一层之后不加
                inputs = F.dropout(inputs, self.dropout, training=True)
        if self.mode == "lstm":
            return inputs, (torch.stack([h for h, _ in new_states]),
                            torch.stack([c for _, c in new_states]))
        # (num_layers * num_directions, batch_size, num_hiddens)
        return inputs, torch.stack(new_states)

    @torch.no_grad()
    def copy_from_torch(self, module):
        """把 ``nn.RNN``/``nn.GRU``/``nn.LSTM`` 的参数复制过来（结构必须一致），返回
        ``self``。

        torch 的 ``weight_ih_l{k}`` 形状是 (门数 * h, d)，按门的顺序叠放；我们的
        ``W_x*`` 是 (d, h)，所以要切开再转置。torch 每个门有两个偏置
        ``b_ih + b_hh``，两者总是相加，合成一个即可；
        唯一的例外是 GRU 候选隐状态里乘在重置门之内的 ``b_hn``。
        """
        torch_mode = {nn.RNN: "rnn", nn.GRU: "gru",
                      nn.LSTM: "lstm"}.get(type(module))
        if torch_mode != self.mode:
            raise TypeError(f"需要 torch 的 {self.mode.upper()} 模块，实际得到 "
                            f"{type(module).__name__}")
        if (getattr(module, "nonlinearity", "tanh") != "tanh"
                or getattr(module, "proj_size", 0)):
            raise ValueError("只支持 nonlinearity='tanh'、proj_size=0 的 "
                             "torch 模块")
        mine = (self.input_size, self.hidden_size, self.num_layers,
                self.bidirectional)
        theirs = (module.input_size, module.hidden_size, module.num_layers,
                  module.bidirectional)
        if mine != theirs or not module.bias:
            raise ValueError("结构不一致：(input_size, hidden_size, num_layers, "
                             f"bidirectional) 应为 {mine}（且 bias=True），"
                             "实际得到 "
                             f"{theirs}（bias={module.bias}）")
        if any(not getattr(cell, "reset_after", True) for cell in self.cells):
            raise ValueError("reset_after=False 的 GRU 单元（教科书写法）与 torch "
                             "的 GRU 不是同一个函数，"
                             "无法复制参数")
        h = self.hidden_size
        for k, cell in enumerate(self.cells):
            layer, direction = divmod(k, self.num_directions)
            suffix = f"l{layer}" + ("_reverse" if direction else "")
            W_i = getattr(module, f"weight_ih_{suffix}")
            W_h = getattr(module, f"weight_hh_{suffix}")
            b_i = getattr(module, f"bias_ih_{suffix}")
            b_h = getattr(module, f"bias_hh_{suffix}")
            for j, g in enumerate(_TORCH_GATE_ORDER[self.mode]):
                rows = slice(j * h, (j + 1) * h)
                getattr(cell, f"W_x{g}").copy_(W_i[rows].T)
                getattr(cell, f"W_h{g}").copy_(W_h[rows].T)
                if self.mode == "gru" and g == "h":  # b_hn 在重置门之内，不能合并
                    cell.b_h.copy_(b_i[rows])
                    cell.b_hh.copy_(b_h[rows])
                else:
                    getattr(cell, f"b_{g}").copy_(b_i[rows] + b_h[rows])
        return self

    def extra_repr(self):
        return (f"{self.input_size}, {self.hidden_size}, "
                f"num_layers={self.num_layers}, "
                f"bidirectional={self.bidirectional}, dropout={self.dropout}")


class GRUScratch(RecurrentScratch):
    """单层门控循环单元，接口与
    ``nn.GRU(num_inputs, num_hiddens, batch_first=True)`` 相同。

    ``forward(inputs, state=None)``：inputs (batch_size, num_steps, num_inputs)，
    state (1, batch_size, num_hiddens)；返回 outputs (batch_size, num_steps,
    num_hiddens) 与新的 state。"""

    def __init__(self, num_inputs, num_hiddens):
        super().__init__("gru", num_inputs, num_hiddens)


class LSTMScratch(RecurrentScratch):
    """单层长短期记忆网络，接口与
    ``nn.LSTM(num_inputs, num_hiddens, batch_first=True)`` 相同。

    state 是 (H, C)，各为 (1, batch_size, num_hiddens)；返回 outputs (batch_size,
    num_steps, num_hiddens)与新的 (H, C)。
    """

    def __init__(self, num_inputs, num_hiddens):
        super().__init__("lstm", num_inputs, num_hiddens)


class DeepRNNScratch(RecurrentScratch):
    """``num_layers`` 层叠起来的循环神经网络（``mode`` 为 ``"rnn"``、``"gru"`` 或
    ``"lstm"``）。

    第一层的输入权重是 (num_inputs, num_hiddens)，之后各层是 (num_hiddens,
    num_hiddens)。接口与
    ``nn.RNN``/``nn.GRU``/``nn.LSTM``
    ``(num_inputs, num_hiddens, num_layers, batch_first=True)`` 相同；
    state (num_layers, batch_size, num_hiddens)。``dropout`` 作用在除最后一层外各层
    的输出上（只在训练时）。"""

    def __init__(self, num_inputs, num_hiddens, num_layers, mode="rnn",
                 dropout=0.0):
        super().__init__(mode, num_inputs, num_hiddens, num_layers, dropout=dropout)


class BiRNNScratch(RecurrentScratch):
    """双向循环神经网络：每层有一个从前往后、一个从后往前的单元，两者的输出在特征维
    上连结。

    接口与
    ``nn.RNN``/``nn.GRU``/``nn.LSTM(..., bidirectional=True, batch_first=True)``
    相同：outputs (batch_size, num_steps, 2 * num_hiddens)，state (num_layers * 2,
    batch_size, num_hiddens)，其中 ``state[2 * layer]`` 是正向、
    ``state[2 * layer + 1]`` 是反向（反向的“最后”状态对应第一个时间步）。
    第二层起，每层的输入是 2h 维。
    """

    def __init__(self, num_inputs, num_hiddens, num_layers=1, mode="rnn",
                 dropout=0.0):
        super().__init__(mode, num_inputs, num_hiddens, num_layers,
                         bidirectional=True,
                         dropout=dropout)
