"""循环神经网络：从零实现的 RNN 层、字符级语言模型 ``RNNLMScratch``，
以及包装任意循环层的 ``RNNModel``。

语言模型的统一接口（训练循环 :func:`seqbook.train_lm` 与 :func:`seqbook.predict`
只依赖它）::

    state = net.begin_state(batch_size, device)  # 初始隐状态（张量或张量的元组）
    logits, state = net(X, state)  # X: (batch_size, num_steps) 整数索引
                                   # logits: (batch_size, num_steps, vocab_size)

循环层的接口（``nn.RNN``/``nn.GRU``/``nn.LSTM`` 以 ``batch_first=True`` 构造时，
以及本书从零实现的各种循环层）::

    outputs, state = layer(inputs, state)  # inputs: (batch_size, num_steps, d)
"""

import math

import torch
from torch import nn
from torch.nn import functional as F

from .._checks import check_positive_int, check_tensor
from .cells import _Cell
from .recurrent import RecurrentScratch


class RNNScratch(_Cell):
    """从零实现的单层循环神经网络（tanh 激活）：

    ``H_t = tanh(X_t W_xh + H_{t-1} W_hh + b_h)``

    参数 ``W_xh (num_inputs, num_hiddens)``、``W_hh (num_hiddens, num_hiddens)``、
    ``b_h (num_hiddens,)`` 与全零的初始状态 ``begin_state(batch_size)`` 来自
    :class:`seqbook.models.cells._Cell`；初始化与 ``nn.RNN`` 相同：在
    ``[-1/sqrt(h), 1/sqrt(h)]`` 上均匀分布。
    """

    gates = ("h",)

    def forward(self, inputs, state=None):
        """inputs ``(batch_size, num_steps, num_inputs)``；state
        ``(batch_size, num_hiddens)``，为 None 时用全零。返回 ``(outputs, state)``：
        所有时间步的隐状态 ``(batch_size, num_steps, num_hiddens)``
        与最后一步的隐状态。"""
        check_tensor(inputs, "inputs", 3)
        if inputs.shape[-1] != self.num_inputs:
            raise ValueError(f"inputs 的形状应为 (batch_size, num_steps, "
                             f"{self.num_inputs})，实际为 {tuple(inputs.shape)}")
        batch_size, num_steps, _ = inputs.shape
        if state is None:
            state = self.begin_state(batch_size, inputs.device)
        elif state.shape != (batch_size, self.num_hiddens):
            raise ValueError("state 的形状应为 "
                             f"({batch_size}, {self.num_hiddens})，"
                             f"实际为 {tuple(state.shape)}")
        # 输入项与隐状态无关，可以一次算出所有时间步的，循环里只剩 H W_hh
        XW = inputs @ self.W_xh + self.b_h  # (batch_size, num_steps, num_hiddens)
        H, outputs = state, []
        for t in range(num_steps):
            H = torch.tanh(XW[:, t] + H @ self.W_hh)  # (batch_size, num_hiddens)
            outputs.append(H)
        outputs = torch.stack(outputs, dim=1)  # (batch_size, num_steps, h)
        return outputs, H


class OutputScratch(nn.Module):
    """从零实现的输出层 ``O_t = H_t W_hq + b_q``：W_hq 均匀初始化，
    b_q 从 0 开始。"""

    def __init__(self, num_hiddens, vocab_size):
        super().__init__()
        bound = 1 / math.sqrt(num_hiddens)
        self.W_hq = nn.Parameter(
            torch.empty(num_hiddens, vocab_size).uniform_(-bound, bound))
        self.b_q = nn.Parameter(torch.zeros(vocab_size))

    def forward(self, H):
        return H @ self.W_hq + self.b_q  # (batch_size, num_steps, vocab_size)


def _layer_sizes(layer, name):
    """循环层的 ``(输入维数, 每个时间步输出的维数)``；不是循环层时报错。"""
    if isinstance(layer, (nn.RNN, nn.GRU, nn.LSTM)):
        if not layer.batch_first:
            raise ValueError(f"{name} 应以 batch_first=True 构造：本书的序列形状是 "
                             "(batch_size, num_steps, ...)")
        if layer.proj_size:
            raise ValueError("不支持 proj_size > 0 的 LSTM")
    d = getattr(layer, "input_size", getattr(layer, "num_inputs", None))
    h = getattr(layer, "hidden_size", getattr(layer, "num_hiddens", None))
    if not isinstance(layer, nn.Module) or not isinstance(d, int) \
            or not isinstance(h, int):
        raise TypeError(
            f"{name} 应为循环层：nn.RNN/nn.GRU/nn.LSTM 或 RNNScratch、GRUScratch "
            "等，即 outputs, state = layer(inputs, state) 且有 input_size 与 "
            f"hidden_size 属性的模块，实际是 {type(layer).__name__}")
    return d, h * (2 if getattr(layer, "bidirectional", False) else 1)


class RNNLMScratch(nn.Module):
    """从零实现的字符级语言模型：独热输入 → 循环层 → 输出层（下一个词元的 logits）。

    - ``RNNLMScratch(vocab_size, num_hiddens)``：循环层是 :class:`RNNScratch`，
      输出层是 :class:`OutputScratch`，``O_t = H_t W_hq + b_q``；
    - ``RNNLMScratch(vocab_size, rnn=GRUScratch(vocab_size, num_hiddens))``：
      用给定的从零实现的循环层（GRU、LSTM、深度或双向网络），输出层是
      ``nn.Linear``。
    """

    def __init__(self, vocab_size, num_hiddens=None, *, rnn=None):
        super().__init__()
        check_positive_int(vocab_size, "vocab_size")
        if (num_hiddens is None) == (rnn is None):
            raise TypeError("num_hiddens 与 rnn 应给出且只给出一个")
        # 登记的顺序就是 parameters() 的顺序（梯度裁剪按它求和）：两种构造各自
        # 沿用原来的顺序，训练结果逐位不变
        if rnn is None:
            rnn = RNNScratch(vocab_size, num_hiddens)
            self.output = OutputScratch(num_hiddens, vocab_size)
            self.rnn = rnn
        elif not isinstance(rnn, (RNNScratch, RecurrentScratch)):
            raise TypeError("rnn 应为 RNNScratch、GRUScratch、LSTMScratch、"
                            "DeepRNNScratch 或 BiRNNScratch，实际是 "
                            f"{type(rnn).__name__}；"
                            "torch 的循环层请用 seqbook.RNNModel")
        else:
            num_inputs, num_outputs = _layer_sizes(rnn, "rnn")
            if num_inputs != vocab_size:
                raise ValueError(f"rnn 的 num_inputs 应等于独热输入的维数 "
                                 f"vocab_size={vocab_size}，实际为 {num_inputs}")
            self.rnn = rnn
            self.output = nn.Linear(num_outputs, vocab_size)
        self.vocab_size = vocab_size

    def begin_state(self, batch_size, device=None):
        """循环层的初始状态（全零）。"""
        return self.rnn.begin_state(batch_size, device)

    def forward(self, X, state):
        """X ``(batch_size, num_steps)`` 整数索引 → ``(logits, state)``，
        logits 的形状是 ``(batch_size, num_steps, vocab_size)``。"""
        inputs = F.one_hot(X, self.vocab_size).float()  # (batch_size, num_steps, V)
        outputs, state = self.rnn(inputs, state)  # (batch_size, num_steps, h 或 2h)
        return self.output(outputs), state  # (batch_size, num_steps, vocab_size)


class RNNModel(nn.Module):
    """包装任意循环层的语言模型：嵌入层 → 循环层 → 输出层。

    参数：
        rnn_layer: 循环层，``outputs, state = rnn_layer(inputs, state)``：
            ``batch_first=True`` 的 ``nn.RNN``/``nn.GRU``/``nn.LSTM``（可以多层、
            双向），或本书从零实现的 ``RNNScratch``、``GRUScratch`` 等；
            它的输入维数就是嵌入维度。
        vocab_size: 词表大小。

    嵌入层 ``nn.Embedding(vocab_size, input_size)`` 等价于“独热向量乘一个矩阵”，
    但只取一行，不做乘法。双向模型在每个位置都看到了后文，不能用来预测下一个词元；
    这里支持它只是为了让其他任务复用同一个类。
    """

    def __init__(self, rnn_layer, vocab_size):
        super().__init__()
        embed_size, num_outputs = _layer_sizes(rnn_layer, "rnn_layer")
        check_positive_int(vocab_size, "vocab_size")
        self.rnn, self.vocab_size = rnn_layer, vocab_size
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.output = nn.Linear(num_outputs, vocab_size)

    def begin_state(self, batch_size, device=None):
        """初始状态（全零）。torch 的循环层：``(num_directions * num_layers,
        batch_size, num_hiddens)``，LSTM 是 ``(隐状态, 记忆元)`` 两个这样的张量。"""
        if hasattr(self.rnn, "begin_state"):
            return self.rnn.begin_state(batch_size, device)
        num_directions = 2 if self.rnn.bidirectional else 1
        shape = (num_directions * self.rnn.num_layers, batch_size,
                 self.rnn.hidden_size)
        if isinstance(self.rnn, nn.LSTM):
            return (torch.zeros(shape, device=device),
                    torch.zeros(shape, device=device))
        return torch.zeros(shape, device=device)

    def forward(self, X, state):
        """X ``(batch_size, num_steps)`` 整数索引 → ``(logits, state)``，
        logits 的形状是 ``(batch_size, num_steps, vocab_size)``。"""
        embs = self.embedding(X)  # (batch_size, num_steps, embed_size)
        Y, state = self.rnn(embs, state)  # (batch_size, num_steps, h 或 2h)
        return self.output(Y), state  # (batch_size, num_steps, vocab_size)
