"""门控循环单元（GRU）、长短期记忆网络（LSTM）、深度与双向循环神经网络的从零实现。

单步的“单元”（cell）只做一件事：由当前输入与上一个状态算出新状态。
:func:`run_cell` 把单元沿时间步展开；层与模型的接口与 ``torch.nn.RNN``/``nn.GRU``/``nn.LSTM``
（``batch_first=True``）相同，可以直接互换、逐位比较：

- ``forward(inputs, state=None) -> (outputs, state)``；
- ``inputs``：``(batch_size, num_steps, num_inputs)``；
- ``outputs``：``(batch_size, num_steps, num_directions * num_hiddens)``，最后一层每个时间步的隐状态；
- ``state``：``(num_layers * num_directions, batch_size, num_hiddens)``；LSTM 是 ``(H, C)`` 两个这样的张量。

``copy_from_torch(module)`` 把对应的 ``torch.nn`` 模块的参数复制过来，用来验证两者相等。

另有：以这些层为核心的语言模型 :class:`RecurrentLMScratch`；揭示双向模型“偷看后文”的
:func:`prefix_perplexity`；以及双向网络的正当用途之一——填空任务（:func:`mask_tokens`、
:func:`train_fill_blank`、:func:`evaluate_fill_blank`）。
"""
import collections
import math

import torch
from torch import nn
from torch.nn import functional as F

from .utils import Timer

__all__ = ["RNNCellScratch", "GRUCellScratch", "LSTMCellScratch", "run_cell",
           "RecurrentScratch", "GRUScratch", "LSTMScratch", "DeepRNNScratch", "BiRNNScratch",
           "RecurrentLMScratch", "PrefixPerplexity", "prefix_perplexity", "mask_tokens",
           "evaluate_fill_blank", "train_fill_blank"]


def _check_positive_int(value, name):
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} 应为正整数，实际得到 {type(value).__name__} 类型的 {value!r}")
    if value <= 0:
        raise ValueError(f"{name} 应为正整数，实际得到 {value}")


def _uniform_param(*shape, bound):
    """形状为 ``shape`` 的参数，按 U(-bound, bound) 初始化（与 torch.nn.GRU 等相同）。"""
    return nn.Parameter(torch.empty(*shape).uniform_(-bound, bound))


class _Cell(nn.Module):
    """所有单元的共同部分：检查尺寸，登记 “输入权重 (d, h)、隐状态权重 (h, h)、偏置 (h,)” 三件套。"""

    gates = ()  # 子类列出门的名字，例如 GRU 的 ("r", "z", "h")

    def __init__(self, num_inputs, num_hiddens):
        super().__init__()
        _check_positive_int(num_inputs, "num_inputs")
        _check_positive_int(num_hiddens, "num_hiddens")
        self.num_inputs, self.num_hiddens = num_inputs, num_hiddens
        bound = 1 / math.sqrt(num_hiddens)
        for g in self.gates:
            setattr(self, f"W_x{g}", _uniform_param(num_inputs, num_hiddens, bound=bound))
            setattr(self, f"W_h{g}", _uniform_param(num_hiddens, num_hiddens, bound=bound))
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
        """X (batch_size, num_inputs)，H (batch_size, num_hiddens) -> 新的 H (batch_size, num_hiddens)。"""
        return torch.tanh(X @ self.W_xh + H @ self.W_hh + self.b_h)


class GRUCellScratch(_Cell):
    """门控循环单元。

    ``reset_after=True``（默认）与 ``torch.nn.GRU``、cuDNN 相同：先算 ``H W_hh + b_hh``，再乘重置门；
    ``reset_after=False`` 是 Cho 等人（2014）的原始写法：先把重置门乘到 ``H`` 上，再乘 ``W_hh``。
    """

    gates = ("r", "z", "h")  # 重置门、更新门、候选隐状态

    def __init__(self, num_inputs, num_hiddens, reset_after=True):
        super().__init__(num_inputs, num_hiddens)
        self.reset_after = bool(reset_after)
        if self.reset_after:  # torch 在重置门里面多一个偏置 b_hn
            self.b_hh = _uniform_param(num_hiddens, bound=1 / math.sqrt(num_hiddens))

    def forward(self, X, H):
        """X (batch_size, num_inputs)，H (batch_size, num_hiddens) -> 新的 H (batch_size, num_hiddens)。"""
        R = torch.sigmoid(X @ self.W_xr + H @ self.W_hr + self.b_r)  # 重置门 (batch_size, num_hiddens)
        Z = torch.sigmoid(X @ self.W_xz + H @ self.W_hz + self.b_z)  # 更新门 (batch_size, num_hiddens)
        if self.reset_after:
            H_tilde = torch.tanh(X @ self.W_xh + self.b_h + R * (H @ self.W_hh + self.b_hh))
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
        """X (batch_size, num_inputs)，state = (H, C) -> 新的 (H, C)，各为 (batch_size, num_hiddens)。"""
        H, C = state
        I = torch.sigmoid(X @ self.W_xi + H @ self.W_hi + self.b_i)  # 输入门
        F_ = torch.sigmoid(X @ self.W_xf + H @ self.W_hf + self.b_f)  # 遗忘门
        O = torch.sigmoid(X @ self.W_xo + H @ self.W_ho + self.b_o)  # 输出门
        C_tilde = torch.tanh(X @ self.W_xc + H @ self.W_hc + self.b_c)  # 候选记忆元
        C = F_ * C + I * C_tilde  # (batch_size, num_hiddens)
        H = O * torch.tanh(C)  # (batch_size, num_hiddens)
        return H, C


def run_cell(cell, inputs, state, reverse=False):
    """把单元 ``cell`` 沿时间步展开。

    inputs (batch_size, num_steps, num_inputs)；state 是单元的状态（H 或 (H, C)）。
    ``reverse=True`` 时从最后一个时间步往前走（双向网络的反向层），输出仍按原来的时间顺序排列。
    返回 outputs (batch_size, num_steps, num_hiddens) 与最后的状态。
    """
    num_steps = inputs.shape[1]
    outputs = [None] * num_steps
    for t in (reversed(range(num_steps)) if reverse else range(num_steps)):
        state = cell(inputs[:, t], state)
        outputs[t] = state[0] if isinstance(state, tuple) else state  # 隐状态 (batch_size, num_hiddens)
    return torch.stack(outputs, dim=1), state


_CELLS = {"rnn": RNNCellScratch, "gru": GRUCellScratch, "lstm": LSTMCellScratch}
# torch 把各门的权重按行叠在一起：weight_ih_l0 的形状是 (门数 * h, d)，门的顺序如下
_TORCH_GATE_ORDER = {"rnn": ("h",), "gru": ("r", "z", "h"), "lstm": ("i", "f", "c", "o")}


class RecurrentScratch(nn.Module):
    """多层、可双向的循环层：``cells[layer * num_directions + direction]``。

    ``mode`` 为 ``"rnn"``、``"gru"`` 或 ``"lstm"``，选择单元的种类。

    接口与 ``nn.RNN``/``nn.GRU``/``nn.LSTM(batch_first=True)`` 相同，属性名（``input_size``、
    ``hidden_size``、``num_layers``、``bidirectional``）也相同，所以可以替换语言模型中的循环层。
    """

    def __init__(self, mode, num_inputs, num_hiddens, num_layers=1, bidirectional=False,
                 dropout=0.0):
        super().__init__()
        if mode not in _CELLS:
            raise ValueError(f"mode 应为 {sorted(_CELLS)} 之一，实际得到 {mode!r}")
        _check_positive_int(num_inputs, "num_inputs")
        _check_positive_int(num_hiddens, "num_hiddens")
        _check_positive_int(num_layers, "num_layers")
        if not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
            raise ValueError(f"dropout 应在 [0, 1) 之间，实际得到 {dropout!r}")
        self.mode, self.dropout = mode, float(dropout)
        self.input_size, self.hidden_size = num_inputs, num_hiddens
        self.num_layers, self.bidirectional = num_layers, bool(bidirectional)
        self.num_directions = 2 if bidirectional else 1
        cells = []
        for layer in range(num_layers):
            # 第一层的输入是 d 维的 X；之后各层的输入是下一层的输出：h 维（双向时 2h 维）
            layer_inputs = num_inputs if layer == 0 else num_hiddens * self.num_directions
            cells += [_CELLS[mode](layer_inputs, num_hiddens) for _ in range(self.num_directions)]
        self.cells = nn.ModuleList(cells)

    def begin_state(self, batch_size, device=None, dtype=None):
        """全零的初始状态 ``(num_layers * num_directions, batch_size, num_hiddens)``；LSTM 为 (H, C)。"""
        H = torch.zeros(self.num_layers * self.num_directions, batch_size, self.hidden_size,
                        device=device, dtype=dtype)
        return (H, H.clone()) if self.mode == "lstm" else H

    def _check_inputs(self, inputs):
        if not isinstance(inputs, torch.Tensor) or not inputs.is_floating_point():
            raise TypeError("inputs 应为浮点张量 (batch_size, num_steps, num_inputs)，"
                            f"实际得到 {type(inputs).__name__}"
                            + (f"（dtype={inputs.dtype}）" if isinstance(inputs, torch.Tensor) else ""))
        if inputs.dim() != 3 or inputs.shape[-1] != self.input_size:
            raise ValueError(f"inputs 的形状应为 (batch_size, num_steps, {self.input_size})，"
                             f"实际得到 {tuple(inputs.shape)}")
        if inputs.shape[1] == 0:
            raise ValueError("inputs 至少要有一个时间步（num_steps ≥ 1）")

    def _check_state(self, inputs, state):
        expected = (self.num_layers * self.num_directions, inputs.shape[0], self.hidden_size)
        parts = state if self.mode == "lstm" else (state,)
        if self.mode == "lstm" and not (isinstance(state, tuple) and len(state) == 2):
            raise TypeError("LSTM 的 state 应为 (H, C) 两个张量组成的元组")
        for name, s in zip(("H", "C"), parts):
            if not isinstance(s, torch.Tensor) or tuple(s.shape) != expected:
                got = tuple(s.shape) if isinstance(s, torch.Tensor) else type(s).__name__
                raise ValueError(f"state 中 {name} 的形状应为 {expected}"
                                 f"（num_layers * num_directions, batch_size, num_hiddens），实际得到 {got}")

    def forward(self, inputs, state=None):
        """inputs (batch_size, num_steps, num_inputs) -> (outputs, state)，形状见模块说明。"""
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
            inputs = torch.cat(outputs, dim=-1)  # (batch_size, num_steps, num_directions * num_hiddens)
            if self.dropout and self.training and layer < self.num_layers - 1:
                inputs = F.dropout(inputs, self.dropout, training=True)  # 与 torch 一样：最后一层之后不加
        if self.mode == "lstm":
            return inputs, (torch.stack([h for h, _ in new_states]),
                            torch.stack([c for _, c in new_states]))
        return inputs, torch.stack(new_states)  # (num_layers * num_directions, batch_size, num_hiddens)

    @torch.no_grad()
    def copy_from_torch(self, module):
        """把 ``nn.RNN``/``nn.GRU``/``nn.LSTM`` 的参数复制过来（结构必须一致），返回 ``self``。

        torch 的 ``weight_ih_l{k}`` 形状是 (门数 * h, d)，按门的顺序叠放；我们的 ``W_x*`` 是 (d, h)，
        所以要切开再转置。torch 每个门有两个偏置 ``b_ih + b_hh``，两者总是相加，合成一个即可；
        唯一的例外是 GRU 候选隐状态里乘在重置门之内的 ``b_hn``。
        """
        torch_mode = {nn.RNN: "rnn", nn.GRU: "gru", nn.LSTM: "lstm"}.get(type(module))
        if torch_mode != self.mode:
            raise TypeError(f"需要 torch 的 {self.mode.upper()} 模块，实际得到 {type(module).__name__}")
        if getattr(module, "nonlinearity", "tanh") != "tanh" or getattr(module, "proj_size", 0):
            raise ValueError("只支持 nonlinearity='tanh'、proj_size=0 的 torch 模块")
        mine = (self.input_size, self.hidden_size, self.num_layers, self.bidirectional)
        theirs = (module.input_size, module.hidden_size, module.num_layers, module.bidirectional)
        if mine != theirs or not module.bias:
            raise ValueError("结构不一致：(input_size, hidden_size, num_layers, bidirectional) "
                             f"应为 {mine}（且 bias=True），实际得到 {theirs}（bias={module.bias}）")
        if any(not getattr(cell, "reset_after", True) for cell in self.cells):
            raise ValueError("reset_after=False 的 GRU 单元（教科书写法）与 torch 的 GRU 不是同一个函数，"
                             "无法复制参数")
        h = self.hidden_size
        for k, cell in enumerate(self.cells):
            layer, direction = divmod(k, self.num_directions)
            suffix = f"l{layer}" + ("_reverse" if direction else "")
            W_i, W_h = getattr(module, f"weight_ih_{suffix}"), getattr(module, f"weight_hh_{suffix}")
            b_i, b_h = getattr(module, f"bias_ih_{suffix}"), getattr(module, f"bias_hh_{suffix}")
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
        return (f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, "
                f"bidirectional={self.bidirectional}, dropout={self.dropout}")


class GRUScratch(RecurrentScratch):
    """单层门控循环单元，接口与 ``nn.GRU(num_inputs, num_hiddens, batch_first=True)`` 相同。

    ``forward(inputs, state=None)``：inputs (batch_size, num_steps, num_inputs)，
    state (1, batch_size, num_hiddens)；返回 outputs (batch_size, num_steps, num_hiddens) 与新的 state。
    """

    def __init__(self, num_inputs, num_hiddens):
        super().__init__("gru", num_inputs, num_hiddens)


class LSTMScratch(RecurrentScratch):
    """单层长短期记忆网络，接口与 ``nn.LSTM(num_inputs, num_hiddens, batch_first=True)`` 相同。

    state 是 (H, C)，各为 (1, batch_size, num_hiddens)；返回 outputs (batch_size, num_steps, num_hiddens)
    与新的 (H, C)。
    """

    def __init__(self, num_inputs, num_hiddens):
        super().__init__("lstm", num_inputs, num_hiddens)


class DeepRNNScratch(RecurrentScratch):
    """``num_layers`` 层叠起来的循环神经网络（``mode`` 为 ``"rnn"``、``"gru"`` 或 ``"lstm"``）。

    第一层的输入权重是 (num_inputs, num_hiddens)，之后各层是 (num_hiddens, num_hiddens)。
    接口与 ``nn.RNN``/``nn.GRU``/``nn.LSTM(num_inputs, num_hiddens, num_layers, batch_first=True)`` 相同；
    state (num_layers, batch_size, num_hiddens)。``dropout`` 作用在除最后一层外各层的输出上（只在训练时）。
    """

    def __init__(self, num_inputs, num_hiddens, num_layers, mode="rnn", dropout=0.0):
        super().__init__(mode, num_inputs, num_hiddens, num_layers, dropout=dropout)


class BiRNNScratch(RecurrentScratch):
    """双向循环神经网络：每层有一个从前往后、一个从后往前的单元，两者的输出在特征维上连结。

    接口与 ``nn.RNN``/``nn.GRU``/``nn.LSTM(..., bidirectional=True, batch_first=True)`` 相同：
    outputs (batch_size, num_steps, 2 * num_hiddens)，state (num_layers * 2, batch_size, num_hiddens)，
    其中 ``state[2 * layer]`` 是正向、``state[2 * layer + 1]`` 是反向（反向的“最后”状态对应第一个时间步）。
    第二层起，每层的输入是 2h 维。
    """

    def __init__(self, num_inputs, num_hiddens, num_layers=1, mode="rnn", dropout=0.0):
        super().__init__(mode, num_inputs, num_hiddens, num_layers, bidirectional=True,
                         dropout=dropout)


class RecurrentLMScratch(nn.Module):
    """以任意从零实现的循环层为核心的字符级语言模型：独热输入 → 循环层 → 输出层。

    与第 1 章的 ``RNNLMScratch`` 相同，只是循环层可以换成本模块的 GRU、LSTM、深度或双向网络；
    接口（``begin_state``、``forward(X, state) -> (logits, state)``）满足 :func:`seqbook.train_lm`。
    """

    def __init__(self, rnn, vocab_size):
        super().__init__()
        if not isinstance(rnn, RecurrentScratch):
            raise TypeError("rnn 应为 GRUScratch、LSTMScratch、DeepRNNScratch 或 BiRNNScratch，"
                            f"实际是 {type(rnn).__name__}；torch 的循环层请用 seqbook.RNNModel")
        _check_positive_int(vocab_size, "vocab_size")
        if rnn.input_size != vocab_size:
            raise ValueError(f"独热输入的维数是 vocab_size={vocab_size}，rnn 的 num_inputs 应与之相等，"
                             f"实际为 {rnn.input_size}")
        self.rnn, self.vocab_size = rnn, vocab_size
        self.output = nn.Linear(rnn.hidden_size * rnn.num_directions, vocab_size)

    def begin_state(self, batch_size, device=None):
        return self.rnn.begin_state(batch_size, device)

    def forward(self, X, state):
        """X (batch_size, num_steps) 整数索引 -> (logits (batch_size, num_steps, vocab_size), state)。"""
        inputs = F.one_hot(X, self.vocab_size).float()  # (batch_size, num_steps, vocab_size)
        outputs, state = self.rnn(inputs, state)  # (batch_size, num_steps, num_directions * num_hiddens)
        return self.output(outputs), state  # (batch_size, num_steps, vocab_size)


PrefixPerplexity = collections.namedtuple("PrefixPerplexity", ["full", "prefix"])


@torch.no_grad()
def prefix_perplexity(net, corpus, num_steps, device=None, max_sequences=None):
    """在同一批序列上比较两种困惑度：一次性前向（``full``）与只看前文（``prefix``）。

    ``net`` 是语言模型（``begin_state(batch_size, device)``，``forward(X, state) -> (logits, state)``，
    logits (batch_size, steps, vocab_size)）；``corpus`` 是词元索引的一维序列（列表或张量）。
    把语料切成（至多 ``max_sequences`` 段）长 ``num_steps + 1`` 的序列，每段都从零状态开始：

    - ``full``：把前 ``num_steps`` 个词元一次送入，位置 t 的输出给 x_{t+1} 打分（训练时的算法）；
    - ``prefix``：对每个 t 都从头只送入 x_1..x_t，取最后一个位置的输出给 x_{t+1} 打分。

    单向模型的两者相同；双向模型在一次性前向时偷看了后文，``prefix`` 才是它真实的预测能力。
    返回 ``PrefixPerplexity(full, prefix)``。
    """
    _check_positive_int(num_steps, "num_steps")
    if max_sequences is not None:
        _check_positive_int(max_sequences, "max_sequences")
    corpus = torch.as_tensor(corpus, dtype=torch.long).flatten()
    num_seqs = len(corpus) // (num_steps + 1)
    if num_seqs == 0:
        raise ValueError(f"corpus 太短：至少需要 num_steps + 1 = {num_steps + 1} 个词元，"
                         f"实际只有 {len(corpus)} 个")
    num_seqs = min(num_seqs, max_sequences or num_seqs)
    data = corpus[:num_seqs * (num_steps + 1)].reshape(num_seqs, num_steps + 1).to(device)
    was_training = net.training
    net.eval()
    logits, _ = net(data[:, :-1], net.begin_state(num_seqs, device))  # (num_seqs, num_steps, vocab_size)
    full = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), data[:, 1:].reshape(-1)).item()
    prefix = 0.0
    for t in range(1, num_steps + 1):
        logits, _ = net(data[:, :t], net.begin_state(num_seqs, device))  # (num_seqs, t, vocab_size)
        prefix += F.cross_entropy(logits[:, -1], data[:, t]).item() / num_steps
    net.train(was_training)
    return PrefixPerplexity(math.exp(full), math.exp(prefix))


def mask_tokens(X, mask_prob, mask_id=0, generator=None):
    """填空任务的输入：把 ``X`` 中每个位置以概率 ``mask_prob`` 换成 ``mask_id``（默认 ``<unk>`` 的索引 0）。

    X (batch_size, num_steps) 整数索引，不会被修改。返回 ``(X_masked, mask)``，形状都与 X 相同，
    ``mask`` 为布尔张量，标出被挖空的位置。随机数来自 ``generator``（CPU 上的 ``torch.Generator``）。
    """
    if not isinstance(X, torch.Tensor) or X.dim() != 2 or X.is_floating_point():
        raise ValueError("X 应为 (batch_size, num_steps) 的整数张量")
    if not isinstance(mask_prob, (int, float)) or not 0 < mask_prob < 1:
        raise ValueError(f"mask_prob 应在 (0, 1) 之间，实际得到 {mask_prob!r}")
    mask = (torch.rand(X.shape, generator=generator) < mask_prob).to(X.device)  # (batch_size, num_steps)
    return X.masked_fill(mask, mask_id), mask


def _fill_blank_step(net, X, mask_prob, generator, device):
    """一个小批量上的填空：返回 (被挖空位置的交叉熵之和, 猜对的个数, 挖空的个数)。"""
    X = X.to(device)
    X_masked, mask = mask_tokens(X, mask_prob, generator=generator)
    logits, _ = net(X_masked, net.begin_state(X.shape[0], device))  # (batch_size, num_steps, vocab_size)
    logits, targets = logits[mask], X[mask]  # (num_masked, vocab_size), (num_masked,)
    loss = F.cross_entropy(logits, targets, reduction="sum")
    return loss, (logits.argmax(dim=-1) == targets).sum().item(), targets.numel()


@torch.no_grad()
def evaluate_fill_blank(net, data_iter, device, mask_prob=0.15, seed=0):
    """填空的准确率：在 ``data_iter`` 的每个小批量上随机挖空（随机数由 ``seed`` 固定），
    统计模型在被挖空位置上猜对原词元的比例。每个小批量从零状态开始。"""
    was_training = net.training
    net.eval()
    generator = torch.Generator().manual_seed(seed)
    correct = total = 0
    for X, _ in data_iter:
        _, c, n = _fill_blank_step(net, X, mask_prob, generator, device)
        correct, total = correct + c, total + n
    net.train(was_training)
    return correct / max(total, 1)


def train_fill_blank(net, train_iter, val_iter, lr, num_epochs, device, mask_prob=0.15, seed=0):
    """训练模型做填空：输入中约 ``mask_prob`` 的词元被换成 ``<unk>``，只在这些位置上计算损失。

    ``net`` 满足语言模型的接口（``begin_state``、``forward(X, state) -> (logits, state)``），
    例如单向或双向的 :class:`seqbook.RNNModel`；``train_iter``/``val_iter`` 产生 ``(X, Y)``，这里只用 X。
    用 Adam 训练，每个小批量从零状态开始。返回验证集上每轮的准确率列表，并打印最终结果、词元/秒与设备。
    """
    _check_positive_int(num_epochs, "num_epochs")
    net.to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    accuracies, num_tokens, timer = [], 0, Timer()
    for _ in range(num_epochs):
        net.train()
        for X, _ in train_iter:
            loss, _, n = _fill_blank_step(net, X, mask_prob, generator, device)
            optimizer.zero_grad()
            (loss / max(n, 1)).backward()  # 被挖空位置上的平均交叉熵
            nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            optimizer.step()
            num_tokens += X.numel()
        accuracies.append(evaluate_fill_blank(net, val_iter, device, mask_prob))
    seconds = timer.stop()
    print(f"验证集填空准确率 {accuracies[-1]:.1%}，{num_tokens / seconds:,.0f} 词元/秒，设备 {device}，"
          f"用时 {seconds:.1f} 秒")
    return accuracies
