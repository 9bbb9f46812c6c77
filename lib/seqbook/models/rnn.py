"""循环神经网络：从零实现的 RNN 层与字符级语言模型，以及包装 PyTorch 循环层的 ``RNNModel``。

语言模型的统一接口（训练循环 :func:`seqbook.train_lm` 与 :func:`seqbook.predict` 只依赖它）::

    state = net.begin_state(batch_size, device)   # 初始隐状态（张量或张量的元组）
    logits, state = net(X, state)                 # X: (batch_size, num_steps) 整数索引
                                                  # logits: (batch_size, num_steps, vocab_size)
"""

import math

import torch
from torch import nn
from torch.nn import functional as F

from .._checks import check_positive_int
from .recurrent import RecurrentScratch


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
        check_positive_int(vocab_size, "vocab_size")
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


class RNNScratch(nn.Module):
    """从零实现的单层循环神经网络（tanh 激活）：

    ``H_t = tanh(X_t W_xh + H_{t-1} W_hh + b_h)``

    参数的初始化与 ``nn.RNN`` 相同：在 ``[-1/sqrt(h), 1/sqrt(h)]`` 上均匀分布。
    """

    def __init__(self, num_inputs, num_hiddens):
        super().__init__()
        for name, value in [("num_inputs", num_inputs), ("num_hiddens", num_hiddens)]:
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{name} 应为正整数，实际得到 {value!r}")
        self.num_inputs, self.num_hiddens = num_inputs, num_hiddens
        bound = 1 / math.sqrt(num_hiddens)
        self.W_xh = nn.Parameter(torch.empty(num_inputs, num_hiddens).uniform_(-bound, bound))
        self.W_hh = nn.Parameter(torch.empty(num_hiddens, num_hiddens).uniform_(-bound, bound))
        self.b_h = nn.Parameter(torch.empty(num_hiddens).uniform_(-bound, bound))

    def forward(self, inputs, state=None):
        """``inputs``：``(batch_size, num_steps, num_inputs)``；``state``：``(batch_size, num_hiddens)``，
        为 None 时用全零。返回 ``(outputs, state)``：所有时间步的隐状态
        ``(batch_size, num_steps, num_hiddens)`` 与最后一步的隐状态 ``(batch_size, num_hiddens)``。"""
        if inputs.dim() != 3 or inputs.shape[-1] != self.num_inputs:
            raise ValueError(f"inputs 的形状应为 (batch_size, num_steps, {self.num_inputs})，"
                             f"实际为 {tuple(inputs.shape)}")
        batch_size, num_steps, _ = inputs.shape
        if state is None:
            state = torch.zeros(batch_size, self.num_hiddens, device=inputs.device)
        elif state.shape != (batch_size, self.num_hiddens):
            raise ValueError(f"state 的形状应为 ({batch_size}, {self.num_hiddens})，"
                             f"实际为 {tuple(state.shape)}")
        # 输入项与隐状态无关，可以一次算出所有时间步的，循环里只剩 H W_hh
        XW = inputs @ self.W_xh + self.b_h  # (batch_size, num_steps, num_hiddens)
        H, outputs = state, []
        for t in range(num_steps):
            H = torch.tanh(XW[:, t] + H @ self.W_hh)  # (batch_size, num_hiddens)
            outputs.append(H)
        return torch.stack(outputs, dim=1), H  # (batch_size, num_steps, num_hiddens)


class RNNLMScratch(nn.Module):
    """从零实现的字符级循环神经网络语言模型：独热输入 → :class:`RNNScratch` → 输出层。

    ``O_t = H_t W_hq + b_q`` 给出下一个词元的得分（logits）。
    """

    def __init__(self, vocab_size, num_hiddens):
        super().__init__()
        self.vocab_size, self.num_hiddens = vocab_size, num_hiddens
        self.rnn = RNNScratch(vocab_size, num_hiddens)
        bound = 1 / math.sqrt(num_hiddens)
        self.W_hq = nn.Parameter(torch.empty(num_hiddens, vocab_size).uniform_(-bound, bound))
        self.b_q = nn.Parameter(torch.zeros(vocab_size))

    def begin_state(self, batch_size, device=None):
        """初始隐状态：全零，形状 ``(batch_size, num_hiddens)``。"""
        return torch.zeros(batch_size, self.num_hiddens, device=device)

    def forward(self, X, state):
        """``X``：``(batch_size, num_steps)`` 整数索引。返回 ``(logits, state)``，
        ``logits`` 的形状是 ``(batch_size, num_steps, vocab_size)``。"""
        inputs = F.one_hot(X, self.vocab_size).float()  # (batch_size, num_steps, vocab_size)
        outputs, state = self.rnn(inputs, state)        # (batch_size, num_steps, num_hiddens)
        return outputs @ self.W_hq + self.b_q, state    # (batch_size, num_steps, vocab_size)


class RNNModel(nn.Module):
    """包装 ``nn.RNN``、``nn.GRU`` 或 ``nn.LSTM`` 的语言模型：嵌入层 → 循环层 → 输出层。

    参数：
        rnn_layer: 用 ``batch_first=True`` 构造的 ``nn.RNN``/``nn.GRU``/``nn.LSTM``，可以多层、
            双向；它的 ``input_size`` 就是嵌入维度。
        vocab_size: 词表大小。

    嵌入层 ``nn.Embedding(vocab_size, input_size)`` 等价于“独热向量乘一个矩阵”，但只取
    一行，不做乘法。双向模型在每个位置都看到了后文，不能用来做下一个词元的预测；这里支持
    它只是为了让其他任务复用同一个类。
    """

    def __init__(self, rnn_layer, vocab_size):
        super().__init__()
        if not isinstance(rnn_layer, (nn.RNN, nn.GRU, nn.LSTM)):
            raise TypeError(f"rnn_layer 应为 nn.RNN、nn.GRU 或 nn.LSTM，实际是 {type(rnn_layer).__name__}")
        if not rnn_layer.batch_first:
            raise ValueError("rnn_layer 应以 batch_first=True 构造：本书的序列形状是 "
                             "(batch_size, num_steps, ...)")
        if getattr(rnn_layer, "proj_size", 0):
            raise ValueError("不支持 proj_size > 0 的 LSTM")
        if not isinstance(vocab_size, int) or vocab_size <= 0:
            raise ValueError(f"vocab_size 应为正整数，实际得到 {vocab_size!r}")
        self.rnn = rnn_layer
        self.vocab_size = vocab_size
        self.num_hiddens = rnn_layer.hidden_size
        self.num_directions = 2 if rnn_layer.bidirectional else 1
        self.embedding = nn.Embedding(vocab_size, rnn_layer.input_size)
        self.output = nn.Linear(self.num_hiddens * self.num_directions, vocab_size)

    def begin_state(self, batch_size, device=None):
        """初始状态：``(num_directions * num_layers, batch_size, num_hiddens)`` 的全零张量；
        LSTM 返回 ``(隐状态, 记忆元)`` 两个这样的张量组成的元组。"""
        shape = (self.num_directions * self.rnn.num_layers, batch_size, self.num_hiddens)
        if isinstance(self.rnn, nn.LSTM):
            return (torch.zeros(shape, device=device), torch.zeros(shape, device=device))
        return torch.zeros(shape, device=device)

    def forward(self, X, state):
        """``X``：``(batch_size, num_steps)`` 整数索引。返回 ``(logits, state)``，
        ``logits`` 的形状是 ``(batch_size, num_steps, vocab_size)``。"""
        embs = self.embedding(X)          # (batch_size, num_steps, embed_size)
        Y, state = self.rnn(embs, state)  # (batch_size, num_steps, num_directions * num_hiddens)
        return self.output(Y), state      # (batch_size, num_steps, vocab_size)
