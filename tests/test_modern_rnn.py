"""modern_rnn：从零实现的 GRU、LSTM、深度与双向循环网络与 torch.nn 逐位相等（输出、状态、梯度）。"""
import math

import pytest
import torch
from torch import nn

import seqbook
from seqbook.inference.lm import prefix_perplexity
from seqbook.models.cells import (
    GRUCellScratch,
    LSTMCellScratch,
    RNNCellScratch,
    run_cell,
)
from seqbook.models.recurrent import (
    BiRNNScratch,
    DeepRNNScratch,
    GRUScratch,
    LSTMScratch,
)
from seqbook.models.rnn import RNNLMScratch, RNNModel
from seqbook.training.fill_blank import (
    evaluate_fill_blank,
    mask_tokens,
    train_fill_blank,
)

TORCH = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}
GATES = {"rnn": ("h",), "gru": ("r", "z", "h"), "lstm": ("i", "f", "c", "o")}


def _pair(mode, d, h, num_layers=1, bidirectional=False, seed=0):
    """随机初始化的 torch 模块，以及复制了它参数的从零实现（double 精度）。"""
    torch.manual_seed(seed)
    ref = TORCH[mode](d, h, num_layers=num_layers, bidirectional=bidirectional,
                      batch_first=True).double()
    if bidirectional:
        mine = BiRNNScratch(d, h, num_layers, mode=mode)
    elif num_layers > 1:
        mine = DeepRNNScratch(d, h, num_layers, mode=mode)
    else:
        mine = {"gru": GRUScratch, "lstm": LSTMScratch}.get(mode, lambda d, h: DeepRNNScratch(
            d, h, 1, mode="rnn"))(d, h)
    return ref, mine.double().copy_from_torch(ref)


def _state(mode, L, b, h):
    H = torch.randn(L, b, h, dtype=torch.double)
    return (H, torch.randn(L, b, h, dtype=torch.double)) if mode == "lstm" else H


def _expected_grads(ref, mode, num_layers, num_dirs):
    """torch 参数的梯度，按从零实现的参数名重新排列：{(cell 下标, 参数名): 梯度}。"""
    h = ref.hidden_size
    out = {}
    for layer in range(num_layers):
        for direction in range(num_dirs):
            k = layer * num_dirs + direction
            sfx = f"l{layer}" + ("_reverse" if direction else "")
            Wi, Wh = getattr(ref, f"weight_ih_{sfx}").grad, getattr(ref, f"weight_hh_{sfx}").grad
            bi, bh = getattr(ref, f"bias_ih_{sfx}").grad, getattr(ref, f"bias_hh_{sfx}").grad
            for j, g in enumerate(GATES[mode]):
                rows = slice(j * h, (j + 1) * h)
                out[k, f"W_x{g}"], out[k, f"W_h{g}"] = Wi[rows].T, Wh[rows].T
                if mode == "gru" and g == "h":
                    out[k, "b_h"], out[k, "b_hh"] = bi[rows], bh[rows]
                else:
                    # 合并后的偏置 b = b_ih + b_hh：对它的梯度等于对其中任何一个的梯度
                    torch.testing.assert_close(bi[rows], bh[rows])
                    out[k, f"b_{g}"] = bi[rows]
    return out


CONFIGS = [(mode, L, bi) for mode in ("rnn", "gru", "lstm") for L, bi in
           [(1, False), (3, False), (1, True), (2, True)]]


@pytest.mark.parametrize("mode,num_layers,bidirectional", CONFIGS)
def test_equals_torch_outputs_states_grads(mode, num_layers, bidirectional):
    d, h, b, T = 5, 7, 3, 6
    ref, mine = _pair(mode, d, h, num_layers, bidirectional)
    dirs = 2 if bidirectional else 1
    X = torch.randn(b, T, d, dtype=torch.double)
    s0 = _state(mode, num_layers * dirs, b, h)
    # 输入与初始状态各复制一份，分别求梯度
    X1, X2 = X.clone().requires_grad_(), X.clone().requires_grad_()
    leaf = lambda s: tuple(t.clone().requires_grad_() for t in s) if mode == "lstm" \
        else s.clone().requires_grad_()
    s1, s2 = leaf(s0), leaf(s0)
    Y1, S1 = ref(X1, s1)
    Y2, S2 = mine(X2, s2)
    assert Y2.shape == (b, T, dirs * h)
    torch.testing.assert_close(Y2, Y1)
    torch.testing.assert_close(S2, S1)
    # 一个涉及输出与最终状态的标量损失，比较所有梯度
    w = torch.randn_like(Y1)
    flat = lambda S: sum(s.sum() for s in S) if mode == "lstm" else S.sum()
    ((Y1 * w).sum() + flat(S1) ** 2).backward()
    ((Y2 * w).sum() + flat(S2) ** 2).backward()
    torch.testing.assert_close(X2.grad, X1.grad)
    for a, c in zip(s2 if mode == "lstm" else (s2,), s1 if mode == "lstm" else (s1,)):
        torch.testing.assert_close(a.grad, c.grad)
    expected = _expected_grads(ref, mode, num_layers, dirs)
    got = {(k, n): p.grad for k, cell in enumerate(mine.cells) for n, p in cell.named_parameters()}
    assert set(got) == set(expected)
    for key in expected:
        torch.testing.assert_close(got[key], expected[key], msg=lambda m: f"{key}: {m}")


@pytest.mark.parametrize("mode", ["rnn", "gru", "lstm"])
def test_default_state_is_zero_and_float32_close(mode):
    ref = TORCH[mode](4, 6, num_layers=2, batch_first=True)
    mine = DeepRNNScratch(4, 6, 2, mode=mode).copy_from_torch(ref)
    X = torch.randn(2, 5, 4)
    Y1, S1 = ref(X)
    Y2, S2 = mine(X)
    torch.testing.assert_close(Y2, Y1, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(S2, S1, atol=1e-5, rtol=1e-4)


def test_parameter_counts_equal_torch():
    """参数个数：除了 torch 每个门的两个偏置被合成一个，其余完全一样。"""
    for mode, extra_bias in [("rnn", 1), ("gru", 2), ("lstm", 4)]:
        for L, bi in [(1, False), (3, False), (2, True)]:
            ref = TORCH[mode](5, 7, num_layers=L, bidirectional=bi)
            mine = (BiRNNScratch(5, 7, L, mode=mode) if bi else DeepRNNScratch(5, 7, L, mode=mode))
            n_ref = sum(p.numel() for p in ref.parameters())
            n_mine = sum(p.numel() for p in mine.parameters())
            assert n_ref - n_mine == L * (2 if bi else 1) * extra_bias * 7


def test_deep_rnn_weight_shapes():
    """第一层的输入权重是 d × h，之后各层是 h × h（双向时 2h × h）。"""
    net = DeepRNNScratch(10, 4, 3, mode="gru")
    assert [tuple(c.W_xz.shape) for c in net.cells] == [(10, 4), (4, 4), (4, 4)]
    assert all(tuple(c.W_hz.shape) == (4, 4) for c in net.cells)
    bi = BiRNNScratch(10, 4, 2)
    assert [tuple(c.W_xh.shape) for c in bi.cells] == [(10, 4), (10, 4), (8, 4), (8, 4)]


def test_gru_cell_textbook_variant():
    """reset_after=False 是教科书公式 tanh(X W_xh + (R ⊙ H) W_hh + b_h)：手算验证，并与 torch 的变体不同。"""
    torch.manual_seed(0)
    cell = GRUCellScratch(3, 4, reset_after=False).double()
    assert not hasattr(cell, "b_hh") or cell.b_hh is None
    X, H = torch.randn(2, 3, dtype=torch.double), torch.randn(2, 4, dtype=torch.double)
    R = torch.sigmoid(X @ cell.W_xr + H @ cell.W_hr + cell.b_r)
    Z = torch.sigmoid(X @ cell.W_xz + H @ cell.W_hz + cell.b_z)
    H_tilde = torch.tanh(X @ cell.W_xh + (R * H) @ cell.W_hh + cell.b_h)
    torch.testing.assert_close(cell(X, H), Z * H + (1 - Z) * H_tilde)
    after = GRUCellScratch(3, 4, reset_after=True).double()
    with torch.no_grad():
        for name, p in cell.named_parameters():
            getattr(after, name).copy_(p)
        after.b_hh.zero_()
    assert not torch.allclose(after(X, H), cell(X, H))
    with torch.no_grad():  # H 为零时两种写法只差 b_hh 的位置；b_hh = 0 且 H = 0 时相同
        torch.testing.assert_close(after(X, torch.zeros_like(H)), cell(X, torch.zeros_like(H)))


def test_lstm_cell_by_hand():
    torch.manual_seed(0)
    cell = LSTMCellScratch(3, 4).double()
    X = torch.randn(2, 3, dtype=torch.double)
    H, C = cell.begin_state(2)
    H, C = cell(X, (H.double(), C.double()))
    I = torch.sigmoid(X @ cell.W_xi + cell.b_i)
    Ct = torch.tanh(X @ cell.W_xc + cell.b_c)
    O = torch.sigmoid(X @ cell.W_xo + cell.b_o)
    torch.testing.assert_close(C, I * Ct)  # C_0 = 0：遗忘门不起作用
    torch.testing.assert_close(H, O * torch.tanh(I * Ct))


def test_run_cell_reverse_order():
    """reverse=True 等于把输入倒过来正向运行，再把输出倒回去。"""
    torch.manual_seed(0)
    cell = RNNCellScratch(3, 5)
    X = torch.randn(2, 4, 3)
    H0 = cell.begin_state(2)
    out_r, h_r = run_cell(cell, X, H0, reverse=True)
    out_f, h_f = run_cell(cell, X.flip(1), H0)
    torch.testing.assert_close(out_r, out_f.flip(1))
    torch.testing.assert_close(h_r, h_f)
    torch.testing.assert_close(out_r[:, 0], h_r)  # 反向的最后状态在第一个时间步


def test_bidirectional_sees_future_unidirectional_does_not():
    """改动最后一个输入：单向网络前面的输出不变，双向网络的都变。"""
    torch.manual_seed(0)
    X = torch.randn(2, 5, 3)
    X2 = X.clone()
    X2[:, -1] += 1.0
    uni, bi = DeepRNNScratch(3, 4, 2, mode="gru"), BiRNNScratch(3, 4, mode="gru")
    torch.testing.assert_close(uni(X)[0][:, :-1], uni(X2)[0][:, :-1])
    assert not torch.allclose(bi(X)[0][:, :-1], bi(X2)[0][:, :-1])


def test_dropout_between_layers():
    torch.manual_seed(0)
    net = DeepRNNScratch(3, 8, 2, mode="lstm", dropout=0.5)
    X = torch.randn(4, 5, 3)
    net.eval()
    Y1, Y2 = net(X)[0], net(X)[0]
    torch.testing.assert_close(Y1, Y2)  # 评估时没有暂退
    net.train()
    assert not torch.allclose(net(X)[0], Y1)
    # 单层时 dropout 无处可加（与 torch 相同）
    one = DeepRNNScratch(3, 8, 1, mode="gru", dropout=0.5).train()
    torch.testing.assert_close(one(X)[0], one(X)[0])


class _TinyLM(nn.Module):
    """测试用的语言模型：独热输入 + 循环层 + 线性输出。"""

    def __init__(self, rnn, vocab_size):
        super().__init__()
        self.rnn, self.vocab_size = rnn, vocab_size
        self.out = nn.Linear(rnn.hidden_size * rnn.num_directions, vocab_size)

    def begin_state(self, batch_size, device=None):
        return self.rnn.begin_state(batch_size, device)

    def forward(self, X, state):
        Y, state = self.rnn(nn.functional.one_hot(X, self.vocab_size).float(), state)
        return self.out(Y), state


def test_prefix_perplexity():
    torch.manual_seed(0)
    V, T = 6, 5
    corpus = torch.randint(0, V, (3 * (T + 1) + 2,))
    data = corpus[:3 * (T + 1)].reshape(3, T + 1)

    def full_ppl(net):  # 一次性前向、从零状态开始的困惑度，直接计算
        with torch.no_grad():
            logits, _ = net(data[:, :-1], net.begin_state(3))
            return math.exp(nn.functional.cross_entropy(logits.reshape(-1, V),
                                                        data[:, 1:].reshape(-1)).item())

    # 单向模型：只看前文与一次性前向相同
    uni = _TinyLM(DeepRNNScratch(V, 8, 1, mode="gru"), V)
    r = prefix_perplexity(uni, corpus, T)
    assert math.isclose(r.full, full_ppl(uni), rel_tol=1e-5)
    assert math.isclose(r.prefix, r.full, rel_tol=1e-5)
    assert uni.training  # 恢复原来的模式
    # 双向模型：两者不同
    bi = _TinyLM(BiRNNScratch(V, 8, mode="gru"), V)
    r = prefix_perplexity(bi, corpus.tolist(), T)
    assert math.isclose(r.full, full_ppl(bi), rel_tol=1e-5)
    assert not math.isclose(r.prefix, r.full, rel_tol=1e-3)
    one = prefix_perplexity(uni, corpus, T, max_sequences=1)
    assert one.full > 0 and math.isclose(one.prefix, one.full, rel_tol=1e-5)
    with pytest.raises(ValueError, match="corpus 太短"):
        prefix_perplexity(uni, corpus[:T], T)
    with pytest.raises(ValueError, match="num_steps"):
        prefix_perplexity(uni, corpus, 0)
    with pytest.raises(ValueError, match="max_sequences"):
        prefix_perplexity(uni, corpus, T, max_sequences=0)


@pytest.mark.parametrize("rnn", [GRUScratch(6, 5), LSTMScratch(6, 5), DeepRNNScratch(6, 5, 2),
                                 BiRNNScratch(6, 5, mode="lstm")])
def test_recurrent_lm_scratch(rnn):
    """语言模型外壳：形状、状态可以接着用，并能被第 1 章的训练函数训练（困惑度下降）。"""
    torch.manual_seed(0)
    net = RNNLMScratch(6, rnn=rnn)
    X = torch.randint(0, 6, (2, 4))
    logits, state = net(X, net.begin_state(2))
    assert logits.shape == (2, 4, 6)
    # 分两段送入并传递状态 == 一次送入（双向网络不成立：它要看完整个序列）
    l1, s1 = net(X[:, :2], net.begin_state(2))
    l2, _ = net(X[:, 2:], s1)
    assert torch.allclose(torch.cat([l1, l2], 1), logits) != rnn.bidirectional


def test_recurrent_lm_scratch_trains_with_chapter1_loop():
    torch.manual_seed(0)
    net = RNNLMScratch(6, rnn=GRUScratch(6, 16))
    corpus = [i % 6 for i in range(121)]  # 周期序列：完全可以预测
    loader = seqbook.data.lm_data.SeqDataLoader(corpus, 4, 6, seed=0)
    opt = torch.optim.Adam(net.parameters(), lr=0.05)
    ppls = [seqbook.training.lm.train_epoch(net, loader, opt, "cpu")[0] for _ in range(8)]
    assert ppls[-1] < ppls[0] and ppls[-1] < 1.5, ppls


def test_recurrent_lm_scratch_bad_args():
    with pytest.raises(TypeError, match="RNNModel"):
        RNNLMScratch(6, rnn=nn.GRU(6, 5))
    with pytest.raises(ValueError, match="num_inputs"):
        RNNLMScratch(6, rnn=GRUScratch(5, 5))
    with pytest.raises(ValueError, match="vocab_size"):
        RNNLMScratch(0, rnn=GRUScratch(5, 5))
    with pytest.raises(TypeError, match="num_hiddens 与 rnn"):
        RNNLMScratch(6)
    with pytest.raises(TypeError, match="num_hiddens 与 rnn"):
        RNNLMScratch(6, 5, rnn=GRUScratch(6, 5))


@pytest.mark.parametrize("mode", ["rnn", "gru", "lstm"])
def test_rnn_model_wraps_scratch_layers(mode):
    """RNNModel 包装从零实现的循环层，与包装同样参数的 torch 层给出相同的 logits。"""
    torch.manual_seed(0)
    layer = TORCH[mode](4, 8, num_layers=2, bidirectional=True, batch_first=True)
    scratch = BiRNNScratch(4, 8, num_layers=2, mode=mode).copy_from_torch(layer)
    net, net_scratch = RNNModel(layer, 9), RNNModel(scratch, 9)
    net_scratch.load_state_dict({k: v for k, v in net.state_dict().items()
                                 if not k.startswith("rnn.")}, strict=False)
    X = torch.randint(0, 9, (3, 5))
    state, state_scratch = net.begin_state(3), net_scratch.begin_state(3)
    assert type(state) is type(state_scratch)
    logits, _ = net(X, state)
    logits_scratch, _ = net_scratch(X, state_scratch)
    assert torch.allclose(logits, logits_scratch, atol=1e-5)


def test_mask_tokens():
    X = torch.randint(1, 10, (50, 40))
    X0 = X.clone()
    Xm, mask = mask_tokens(X, 0.15, generator=torch.Generator().manual_seed(0))
    assert torch.equal(X, X0)  # 输入不被修改
    assert mask.dtype == torch.bool and mask.shape == X.shape
    assert 0.1 < mask.float().mean().item() < 0.2
    assert (Xm[mask] == 0).all() and torch.equal(Xm[~mask], X[~mask])
    Xm2, mask2 = mask_tokens(X, 0.15, generator=torch.Generator().manual_seed(0))
    assert torch.equal(mask, mask2)  # 同一个种子，同样的挖空
    for bad in [0, 1, 1.5]:
        with pytest.raises(ValueError, match="mask_prob"):
            mask_tokens(X, bad)
    with pytest.raises(TypeError, match="mask_prob"):
        mask_tokens(X, "0.1")
    with pytest.raises(TypeError, match="整数张量"):
        mask_tokens(X.float(), 0.15)
    with pytest.raises(ValueError, match=r"\(batch_size, num_steps\)"):
        mask_tokens(X[0], 0.15)


def test_fill_blank_bidirectional_beats_unidirectional():
    """填空：语料是 a a b b c c ……，每个词元与左邻或右邻相同。挖掉每对的第一个时，
    答案只在后文里：双向模型能看到，单向模型只能猜（准确率上限约 0.5 + 0.5 / 5 = 0.6）。"""
    torch.manual_seed(0)
    pairs = torch.randint(1, 6, (2000,))
    corpus = pairs.repeat_interleave(2)
    loader = seqbook.data.lm_data.SeqDataLoader(corpus, 16, 10, seed=0)
    accs = {}
    for bi in [False, True]:
        torch.manual_seed(0)
        net = seqbook.RNNModel(nn.GRU(8, 16, bidirectional=bi, batch_first=True), 6)
        acc0 = evaluate_fill_blank(net, loader, "cpu")
        accs[bi] = train_fill_blank(net, loader, 5, 0.02, "cpu", val_iter=loader,
                                    mask_prob=0.2).val_acc
        assert 0 <= acc0 <= 1 and len(accs[bi]) == 5
    assert accs[False][-1] < 0.6 and accs[True][-1] > max(0.6, accs[False][-1] + 0.1), accs


# ---------- 错误输入 ----------

@pytest.mark.parametrize("make", [
    lambda: GRUScratch(0, 4), lambda: GRUScratch(3, 0), lambda: LSTMScratch(3, -2),
    lambda: DeepRNNScratch(3, 4, 0), lambda: DeepRNNScratch(3, 4, -1, mode="gru"),
    lambda: BiRNNScratch(3, 4, num_layers=0), lambda: GRUCellScratch(3, 0),
    lambda: DeepRNNScratch(3, 4, 2, mode="transformer"),
    lambda: DeepRNNScratch(3, 4, 2, dropout=1.0), lambda: DeepRNNScratch(3, 4, 2, dropout=-0.1),
])
def test_bad_sizes(make):
    with pytest.raises(ValueError):
        make()


@pytest.mark.parametrize("make", [lambda: GRUScratch(3.0, 4), lambda: LSTMScratch(3, "4"),
                                  lambda: DeepRNNScratch(3, 4, 2.5), lambda: GRUScratch(True, 4)])
def test_bad_size_types(make):
    with pytest.raises(TypeError, match="正整数"):
        make()


def test_bad_inputs():
    net = GRUScratch(3, 4)
    with pytest.raises(ValueError, match=r"inputs 的形状应为 \(batch_size, num_steps, 3\)"):
        net(torch.randn(2, 5, 4))  # 特征数不对
    with pytest.raises(ValueError, match="inputs 的形状"):
        net(torch.randn(5, 3))  # 少了批量维
    with pytest.raises(ValueError, match="至少要有一个时间步"):
        net(torch.randn(2, 0, 3))
    with pytest.raises(TypeError, match="浮点张量"):
        net(torch.randint(0, 3, (2, 5, 3)))  # 整数索引要先变成独热或嵌入
    with pytest.raises(TypeError, match="浮点张量"):
        net([[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match=r"state 中 H 的形状应为 \(1, 2, 4\)"):
        net(torch.randn(2, 5, 3), torch.zeros(2, 4))  # 忘了层数维
    lstm = DeepRNNScratch(3, 4, 2, mode="lstm")
    with pytest.raises(TypeError, match=r"\(H, C\)"):
        lstm(torch.randn(2, 5, 3), torch.zeros(2, 2, 4))
    with pytest.raises(ValueError, match="C 的形状"):
        lstm(torch.randn(2, 5, 3), (torch.zeros(2, 2, 4), torch.zeros(1, 2, 4)))


def test_copy_from_torch_mismatch():
    with pytest.raises(TypeError, match="GRU"):
        GRUScratch(3, 4).copy_from_torch(nn.LSTM(3, 4))
    with pytest.raises(ValueError, match="结构不一致"):
        GRUScratch(3, 4).copy_from_torch(nn.GRU(3, 5))
    with pytest.raises(ValueError, match="结构不一致"):
        DeepRNNScratch(3, 4, 2).copy_from_torch(nn.RNN(3, 4, num_layers=3))
    textbook = GRUScratch(3, 4)
    textbook.cells[0] = GRUCellScratch(3, 4, reset_after=False)
    with pytest.raises(ValueError, match="reset_after=False"):
        textbook.copy_from_torch(nn.GRU(3, 4))
    assert textbook(torch.randn(2, 5, 3))[0].shape == (2, 5, 4)  # 换了单元照样能运行
    with pytest.raises(ValueError, match="tanh"):
        DeepRNNScratch(3, 4, 1).copy_from_torch(nn.RNN(3, 4, nonlinearity="relu"))


def test_exported():
    # 章节用到的在顶层；其余在子模块（顶层恰好导出章节用到的名字，见 test_public_api）
    for name in ["GRUScratch", "LSTMScratch", "DeepRNNScratch", "BiRNNScratch", "GRUCellScratch",
                 "LSTMCellScratch", "run_cell", "prefix_perplexity", "mask_tokens",
                 "train_fill_blank", "RNNLMScratch", "RecurrentScratch"]:
        assert callable(getattr(seqbook, name))
    assert callable(seqbook.models.cells.RNNCellScratch)
    assert callable(seqbook.training.fill_blank.evaluate_fill_blank)
