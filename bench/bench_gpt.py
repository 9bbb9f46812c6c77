"""第 5 章的基准：本书的 GPT 与 nanoGPT 式的对照实现比较训练速度（词元/秒），
以及生成时键值缓存带来的加速。

用法（在仓库根目录）::

    SEQBOOK_DATA=/path/to/data python bench/bench_gpt.py \
        [--part train|generate|all] [--threads 1] [--rounds 10] [--steps 8] \
        [--gen-rounds 5] [--lengths 64 256 512] [--layers N] [--variants] \
        [--json PATH]

1. 训练（``--part train``）：两个模型都按 :data:`seqbook.training.gpt.GPT_CONFIG`
   的规模构造：词表 5,520（书中字符分词器的大小）、宽度 128、4 个头、前馈网络
   512、可学习位置嵌入 max_len 128、暂退概率 0，层数取 ``GPT_CONFIG.num_layers``
   （现为 2；``--layers`` 可以改）；小批量 16 行 × 64 步。

   - 本书：:class:`seqbook.models.gpt.GPT`（:class:`CausalSelfAttention` 用三个
     独立的投影 W_q、W_k、W_v，因果掩码由 :func:`seqbook.valid_key_mask` 构造成
     布尔张量，交给 :func:`seqbook.scaled_dot_product` 的融合路径）。
   - 对照：:class:`RefGPT`，nanoGPT 式的写法（本文件自己写的）：一个融合的
     ``nn.Linear(d, 3d)`` 一次算出查询、键、值，
     ``F.scaled_dot_product_attention(q, k, v, is_causal=True)``，输出投影，
     前规范化，``Linear → GELU → Linear`` 的前馈网络；词元嵌入 + 可学习位置嵌入，
     末尾的层规范化，输出层与词元嵌入绑定（``logits = h @ wte.weight.T``）。

   两边参数量相同（检查相等）。计时前把本书模型的权重复制到对照模型（W_q、W_k、
   W_v 的权重与偏置按顺序拼成融合投影的权重与偏置），检查两者在同一小批量上的
   损失相同（差不超过 1e-4），确认两边做的是同一个计算。

   训练步与 :func:`seqbook.training.gpt.pretrain_gpt` 相同，两边共用一份代码：
   前向 → :func:`lm_loss` → 反向 → 梯度裁剪到 1 → AdamW
   （:func:`seqbook.training.bert.adamw`，权重衰减 0.1，betas (0.9, 0.99)）一步
   （不含学习率调度）。小批量预先用 :func:`lm_windows` 从一条在 5,520 个词元上
   均匀随机的词元流中截取、两边用同一组，数据准备不计时（速度只取决于形状）。

   计时：每个模型先预热 ``--warmup`` 步，然后两个模型交替运行 ``--rounds`` 轮，
   每轮各 ``--steps`` 步（先后顺序每轮对调），用 ``time.perf_counter`` 计时。报告
   每个模型各轮词元/秒的中位数与两者之比（本书 / 对照；议题的目标是不低于
   0.9 倍），以及逐轮比值的中位数（机器上其他负载随时间变化时更可靠）。

   ``--variants``：另外计时几个用猴子补丁（monkeypatch）改过的本书模型，量出
   差距来自哪里（只在本脚本里改，不改库）：
   ``is_causal``——直接调用 ``F.scaled_dot_product_attention``，不构造布尔掩码，
   也不经过 :func:`scaled_dot_product` 的空行与 NaN 处理（没有缓存时
   ``is_causal=True``；有缓存、只来 1 个新词元时不要掩码）；``fused_qkv``——三个
   投影拼成一次矩阵乘法（每步把三个权重拼起来）；``both``——两者都改。

2. 生成（``--part generate``）：同样规模的本书 GPT，只是 max_len 为 600（可学习
   位置），用 :func:`seqbook.inference.generate.generate` 从提示 ``[1]``
   （``<bos>``）贪心地生成 ``--lengths`` 个词元，比较 ``use_cache=True``（每步只
   输入新词元）与 ``use_cache=False``（每步把整个前缀重新输入模型）。两者生成的
   词元必须完全相同。每个长度交替运行 ``--gen-rounds`` 轮（先后顺序每轮对调），
   报告生成词元/秒的中位数与逐轮加速比的中位数（议题的目标：256 个词元时不低于
   5 倍）。``--variants`` 时再加上补丁 ``is_causal`` 的带与不带缓存两列。

默认单线程（``torch.set_num_threads(1)``）。默认设置在单线程上 2 层时约 1 分钟
多，4 层（``--layers 4``）时约 1.5 分钟，大半是不带缓存地生成 512 个词元。
``--json PATH`` 把结果连同机器与设置写成 JSON（例如 ``bench/results/``）。
"""

import argparse
import contextlib
import json
import math
import os
import pathlib
import platform
import statistics
import sys
import time
import unicodedata

import torch
import torch.nn.functional as F
from torch import nn

from seqbook.data.gpt_data import lm_windows
from seqbook.inference.generate import generate
from seqbook.models import gpt as gpt_module
from seqbook.models.gpt import GPT
from seqbook.training.bert import adamw
from seqbook.training.gpt import GPT_CONFIG, lm_loss
from seqbook.training.trainer import train_step

VOCAB_SIZE = 5520  # 书中字符分词器的大小（第 5 章）
BOS_ID = 1  # <pad>、<bos>、<eos> 之后是普通的字


class RefBlock(nn.Module):
    """对照的解码器块（nanoGPT 式）：``X + proj(SDPA(qkv(LN(X))))``，再
    ``X + fc2(GELU(fc1(LN(X))))``。``(b, n, d)`` → ``(b, n, d)``。"""

    def __init__(self, num_hiddens, ffn_num_hiddens, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.ln1, self.ln2 = nn.LayerNorm(num_hiddens), nn.LayerNorm(num_hiddens)
        self.qkv = nn.Linear(num_hiddens, 3 * num_hiddens)  # 融合的 W_q、W_k、W_v
        self.proj = nn.Linear(num_hiddens, num_hiddens)
        self.fc1 = nn.Linear(num_hiddens, ffn_num_hiddens)
        self.fc2 = nn.Linear(ffn_num_hiddens, num_hiddens)

    def forward(self, X):
        b, n, d = X.shape
        nh = self.num_heads
        q, k, v = self.qkv(self.ln1(X)).split(d, dim=2)  # 各 (b, n, d)
        q, k, v = (t.view(b, n, nh, d // nh).transpose(1, 2)
                   for t in (q, k, v))  # 各 (b, nh, n, hd)
        Y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        X = X + self.proj(Y.transpose(1, 2).reshape(b, n, d))  # (b, n, d)
        return X + self.fc2(F.gelu(self.fc1(self.ln2(X))))


class RefGPT(nn.Module):
    """对照：nanoGPT 式的 GPT。``forward(X)``：X ``(b, n)`` 整数，返回
    ``(logits (b, n, V), None)``（与 :class:`GPT` 的返回值形式相同，没有缓存）。

    嵌入的参数名含 ``embedding``，:func:`adamw` 对两边的参数分组就相同
    （嵌入、偏置与层规范化不做权重衰减）。"""

    def __init__(self, vocab_size, num_hiddens=128, ffn_num_hiddens=512,
                 num_heads=4, num_layers=4, max_len=128):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab_size, num_hiddens)  # wte
        self.position_embedding = nn.Embedding(max_len, num_hiddens)  # wpe
        self.blocks = nn.ModuleList(
            RefBlock(num_hiddens, ffn_num_hiddens, num_heads)
            for _ in range(num_layers))
        self.final_norm = nn.LayerNorm(num_hiddens)

    def forward(self, X):
        n = X.shape[1]
        pos = torch.arange(n, device=X.device)  # (n,)
        H = self.token_embedding(X) + self.position_embedding(pos)  # (b, n, d)
        for blk in self.blocks:
            H = blk(H)
        H = self.final_norm(H)
        return H @ self.token_embedding.weight.T, None  # 权重绑定：(b, n, V)


def copy_book_weights(book, ref):
    """把本书模型的权重复制到对照模型：W_q、W_k、W_v 的权重与偏置按顺序拼成
    融合投影 ``qkv`` 的权重 ``(3d, d)`` 与偏置 ``(3d,)``。"""
    src = book.state_dict()
    state = {
        "token_embedding.weight": src["embedding.weight"],
        "position_embedding.weight": src["pos_embedding.weight"],
        "final_norm.weight": src["final_norm.weight"],
        "final_norm.bias": src["final_norm.bias"],
    }
    for i in range(len(ref.blocks)):
        blk, dst = f"blocks.{i}.", f"blocks.{i}."
        for p in ("weight", "bias"):
            state[f"{dst}qkv.{p}"] = torch.cat(
                [src[f"{blk}attention.W_{x}.{p}"] for x in "qkv"])
            for a, b in (("proj", "attention.W_o"), ("fc1", "ffn.dense1"),
                         ("fc2", "ffn.dense2"), ("ln1", "ln1"), ("ln2", "ln2")):
                state[f"{dst}{a}.{p}"] = src[f"{blk}{b}.{p}"]
    ref.load_state_dict(state, strict=True)


# region 猴子补丁（只用于 --variants，量出差距来自哪里；库本身不改）
def _is_causal_forward(self, X, past_kv=None, rotary=None):
    """原型：不构造布尔掩码，直接调用 ``F.scaled_dot_product_attention``（也就不经过
    :func:`scaled_dot_product` 的空行与 NaN 处理）：没有缓存时 ``is_causal=True``；
    有缓存且只来 1 个新词元（逐词元生成）时它看得见全部键，不要掩码。"""
    if (self.keep_weights or rotary is not None
            or (past_kv is not None and X.shape[1] > 1)):
        return _BOOK_FORWARD(self, X, past_kv, rotary)
    Q = self.split_heads(self.W_q(X))  # (b, nh, n, hd)
    K, V = self.split_heads(self.W_k(X)), self.split_heads(self.W_v(X))
    if past_kv is not None:
        K = torch.cat([past_kv[0], K], dim=2)  # (b, nh, t + 1, hd)
        V = torch.cat([past_kv[1], V], dim=2)
    dropout = self.dropout if self.training else 0.0
    out = F.scaled_dot_product_attention(Q, K, V, dropout_p=dropout,
                                         is_causal=past_kv is None)
    self.attention_weights = None
    return self.W_o(self.merge_heads(out)), (K, V)  # (b, n, d)


def _fused_qkv(self, X):
    """原型：三个投影拼成一次矩阵乘法，返回分好头的 Q、K、V。"""
    W = torch.cat([self.W_q.weight, self.W_k.weight, self.W_v.weight])  # (3d, d)
    b = torch.cat([self.W_q.bias, self.W_k.bias, self.W_v.bias])  # (3d,)
    Q, K, V = F.linear(X, W, b).split(self.num_hiddens, dim=-1)  # 各 (b, n, d)
    return self.split_heads(Q), self.split_heads(K), self.split_heads(V)


def _fused_qkv_forward(self, X, past_kv=None, rotary=None):
    """原型：融合投影，注意力仍走库的布尔掩码路径。"""
    if past_kv is not None or rotary is not None:
        return _BOOK_FORWARD(self, X, past_kv, rotary)
    Q, K, V = _fused_qkv(self, X)
    mask = gpt_module.valid_key_mask(None, Q.shape[2], K.shape[2], causal=True,
                                     device=X.device)  # (1, n, n)
    dropout = self.dropout if self.training else 0.0
    out, weights = gpt_module.scaled_dot_product(Q, K, V, mask, dropout,
                                                 self.keep_weights)
    self.attention_weights = None if weights is None else weights.detach()
    return self.W_o(self.merge_heads(out)), (K, V)


def _both_forward(self, X, past_kv=None, rotary=None):
    """原型：融合投影 + ``is_causal=True``。"""
    if past_kv is not None or self.keep_weights or rotary is not None:
        return _BOOK_FORWARD(self, X, past_kv, rotary)
    Q, K, V = _fused_qkv(self, X)
    dropout = self.dropout if self.training else 0.0
    out = F.scaled_dot_product_attention(Q, K, V, dropout_p=dropout,
                                         is_causal=True)  # (b, nh, n, hd)
    self.attention_weights = None
    return self.W_o(self.merge_heads(out)), (K, V)


_BOOK_FORWARD = gpt_module.CausalSelfAttention.forward
VARIANTS = {"is_causal": _is_causal_forward, "fused_qkv": _fused_qkv_forward,
            "both": _both_forward}


@contextlib.contextmanager
def patched(forward):
    """在 ``with`` 块内把 ``CausalSelfAttention.forward`` 换成 ``forward``
    （None 时不换），离开时换回。"""
    cls = gpt_module.CausalSelfAttention
    if forward is not None:
        cls.forward = forward
    try:
        yield
    finally:
        cls.forward = _BOOK_FORWARD


class Patched(nn.Module):
    """包住本书的 GPT：前向时把 ``CausalSelfAttention.forward`` 临时换成
    ``forward``，算完换回（其他模型不受影响）。参数就是 ``model`` 的参数。"""

    def __init__(self, model, forward):
        super().__init__()
        self.model, self.patched = model, forward

    def forward(self, X):
        with patched(self.patched):
            return self.model(X)
# endregion


def make_batches(stream, num_batches, generator):
    """预先生成 ``num_batches`` 个小批量 ``(X, Y)``，与 :func:`pretrain_gpt` 的
    做法相同。"""
    cfg = GPT_CONFIG
    return [lm_windows(stream, cfg.batch_size, cfg.seq_len, generator)
            for _ in range(num_batches)]


def loss_fn(model, batch):
    """:func:`pretrain_gpt` 的损失：全部位置上下一个词元的交叉熵。"""
    X, Y = batch
    logits, _ = model(X)  # (b, n, V)
    loss = lm_loss(logits, Y)
    return loss, (loss.item() * Y.numel(), Y.numel())


def run_steps(model, optimizer, batches, start, num_steps):
    """从第 ``start`` 个小批量起做 ``num_steps`` 个训练步，返回（秒数，词元数）。"""
    model.train()
    num_tokens = 0
    begin = time.perf_counter()
    for i in range(start, start + num_steps):
        batch = batches[i % len(batches)]
        num_tokens += train_step(model, loss_fn, batch, optimizer, grad_clip=1.0)[1]
    return time.perf_counter() - begin, num_tokens


def rjust(text, width):
    """按显示宽度右对齐（汉字占两列）。"""
    shown = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return " " * max(0, width - shown) + text


def num_params(model):
    return sum(p.numel() for p in model.parameters())  # 绑定的权重只计一次


def load_average():
    try:
        return os.getloadavg()
    except OSError:
        return None


def cpu_name():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def interleave(runners, rounds, print_row):
    """交替运行 ``runners``（名字 → 无参函数，返回一个速度）``rounds`` 轮，
    先后顺序每轮对调；每轮之后 ``print_row(轮次, 这一轮的速度)``。返回
    名字 → 各轮速度的列表。"""
    names = list(runners)
    rates = {name: [] for name in names}
    for r in range(rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            rates[name].append(runners[name]())
        print_row(r, {name: rates[name][-1] for name in names})
    return rates


def bench_train(args):
    """第 1 部分：训练速度。返回写进 JSON 的字典。"""
    cfg = GPT_CONFIG
    generator = torch.Generator().manual_seed(0)
    stream = torch.randint(0, VOCAB_SIZE, (200_000,), generator=generator)
    batches = make_batches(stream, args.batches, generator)
    sizes = dict(num_hiddens=cfg.num_hiddens, ffn_num_hiddens=cfg.ffn_num_hiddens,
                 num_heads=cfg.num_heads, num_layers=args.layers,
                 max_len=cfg.max_len)
    torch.manual_seed(0)
    book = GPT(VOCAB_SIZE, dropout=0.0, position="learned", **sizes)
    ref = RefGPT(VOCAB_SIZE, **sizes)
    copy_book_weights(book, ref)
    models = {"本书 GPT": book, "对照 RefGPT": ref}
    print(f"\n第 1 部分：训练。词表 {VOCAB_SIZE:,}，宽度 {cfg.num_hiddens}，"
          f"{cfg.num_heads} 个头，{args.layers} 层，前馈网络 "
          f"{cfg.ffn_num_hiddens}，max_len {cfg.max_len}；小批量 "
          f"{cfg.batch_size} × {cfg.seq_len}")
    losses = {}
    for name, model in models.items():  # 训练模式、带梯度：与计时的路径相同
        model.train()
        losses[name] = loss_fn(model, batches[0])[0].item()
        print(f"{name:<20}参数量 {num_params(model):>9,}  "
              f"初始损失 {losses[name]:.6f}")
    if num_params(book) != num_params(ref):
        raise AssertionError(f"参数量不同：{num_params(book)} 与 {num_params(ref)}")
    book_loss, ref_loss = losses.values()
    if not all(map(math.isfinite, losses.values())):
        raise AssertionError("有模型的损失不是有限值")
    if abs(book_loss - ref_loss) > 1e-4:
        raise AssertionError(f"同样的权重下两个模型的损失不同：{book_loss} 与 "
                             f"{ref_loss}：对照模型与本书的结构不一致")
    print(f"同样的权重下两者的损失相同（差 {abs(book_loss - ref_loss):.1e}）")

    if args.variants:  # 用猴子补丁改过的本书模型：与原样的本书模型共享初始权重
        for key, forward in VARIANTS.items():
            clone = GPT(VOCAB_SIZE, dropout=0.0, position="learned", **sizes)
            clone.load_state_dict(book.state_dict())
            models[f"补丁 {key}"] = Patched(clone, forward)
        for name in list(models)[2:]:
            models[name].train()
            loss = loss_fn(models[name], batches[0])[0].item()
            if abs(loss - book_loss) > 1e-4:
                raise AssertionError(f"{name} 的损失 {loss} 与本书的 "
                                     f"{book_loss} 不同")
        print("猴子补丁的变体（只在本脚本中改，不改库）：损失与本书相同")

    optimizers = {name: adamw(model, cfg.lr, weight_decay=0.1, betas=(0.9, 0.99))
                  for name, model in models.items()}
    for name, model in models.items():  # 预热
        run_steps(model, optimizers[name], batches, 0, args.warmup)
    start = {name: args.warmup for name in models}

    def runner(name):
        def run():
            seconds, tokens = run_steps(models[name], optimizers[name], batches,
                                        start[name], args.steps)
            start[name] += args.steps
            return tokens / seconds
        return run

    names = list(models)
    width = 16
    print(f"\n训练步（前向 + lm_loss + 反向 + 梯度裁剪 + AdamW），词元/秒；"
          f"预热 {args.warmup} 步，{args.rounds} 轮 × 每轮 {args.steps} 步：")
    print(f"{rjust('轮', 6)}" + "".join(rjust(n, width) for n in names)
          + rjust("本书/对照", 12))

    def print_row(r, row):
        ratio = row[names[0]] / row[names[1]]
        print(f"{r + 1:>6}" + "".join(f"{row[n]:>{width},.0f}" for n in names)
              + f"{ratio:>11.3f}x")

    rates = interleave({n: runner(n) for n in names}, args.rounds, print_row)
    medians = {name: statistics.median(v) for name, v in rates.items()}
    ratio = medians[names[0]] / medians[names[1]]
    paired = statistics.median(a / b for a, b in zip(rates[names[0]],
                                                     rates[names[1]]))
    print(f"{rjust('中位数', 6)}"
          + "".join(f"{medians[n]:>{width},.0f}" for n in names)
          + f"{ratio:>11.3f}x")
    tokens_per_step = cfg.batch_size * cfg.seq_len
    ms = {n: 1000 * tokens_per_step / medians[n] for n in names}
    print("毫秒/步（中位数）：" + "，".join(f"{n} {ms[n]:.1f}" for n in names))
    verdict = "达到" if paired >= 0.9 else "未达到"
    print(f"本书 / 对照：中位数之比 {ratio:.3f} 倍，逐轮比值的中位数 "
          f"{paired:.3f} 倍（目标 ≥ 0.9 倍：{verdict}）")
    result = {
        "vocab_size": VOCAB_SIZE,
        "num_layers": args.layers,
        "batch": [cfg.batch_size, cfg.seq_len],
        "parameters": {n: num_params(m) for n, m in models.items()},
        "initial_loss": losses,
        "tokens_per_sec": rates,
        "median_tokens_per_sec": medians,
        "ms_per_step": ms,
        "ratio_of_medians": ratio,
        "median_of_ratios": paired,
    }
    if args.variants:
        print("猴子补丁的变体相对原样的本书模型（逐轮比值的中位数）：")
        gains = {}
        for n in names[2:]:
            gains[n] = statistics.median(a / b for a, b in zip(rates[n],
                                                               rates[names[0]]))
            vs_ref = statistics.median(a / b for a, b in zip(rates[n],
                                                             rates[names[1]]))
            print(f"  {n:<16}{gains[n]:.3f} 倍（相对对照 {vs_ref:.3f} 倍；"
                  f"{ms[n]:.1f} 毫秒/步，本书 {ms[names[0]]:.1f}）")
        result["variant_over_book"] = gains
    return result


def generation_runner(model, length, use_cache, forward, outputs, name):
    """返回无参函数：从 ``[BOS_ID]`` 贪心地生成 ``length`` 个词元，返回词元/秒；
    生成的词元记在 ``outputs[name]``，每次都应相同。"""
    def run():
        begin = time.perf_counter()
        with patched(forward):
            out = generate(model, [BOS_ID], length, greedy=True,
                           use_cache=use_cache)
        seconds = time.perf_counter() - begin
        if out.shape != (1, length):
            raise AssertionError(f"生成了 {tuple(out.shape)} 个词元，"
                                 f"应为 (1, {length})")
        outputs.setdefault(name, out)
        if not torch.equal(out, outputs[name]):
            raise AssertionError(f"{name}：同一设置两次生成的词元不同")
        return length / seconds
    return run


def bench_generate(args):
    """第 2 部分：生成时带与不带键值缓存。返回写进 JSON 的字典。"""
    cfg = GPT_CONFIG
    max_len = max(600, max(args.lengths) + 1)
    torch.manual_seed(0)
    model = GPT(VOCAB_SIZE, cfg.num_hiddens, cfg.ffn_num_hiddens, cfg.num_heads,
                args.layers, max_len, 0.0, "learned").eval()
    print(f"\n第 2 部分：生成。本书 GPT（同样规模，{args.layers} 层，max_len "
          f"{max_len}），提示 "
          f"[{BOS_ID}]（<bos>），贪心；{args.gen_rounds} 轮交替，生成词元/秒：")
    # 名字 → (use_cache, 猴子补丁)；--variants 时加上补丁 is_causal 的两种
    modes = {"带缓存": (True, None), "不带缓存": (False, None)}
    if args.variants:
        modes.update({"带缓存·补丁": (True, _is_causal_forward),
                      "不带缓存·补丁": (False, _is_causal_forward)})
    for use_cache, forward in modes.values():  # 预热
        with patched(forward):
            generate(model, [BOS_ID], 8, greedy=True, use_cache=use_cache)
    names = list(modes)
    pairs = [(names[i], names[i + 1]) for i in range(0, len(names), 2)]
    width = 14
    print(f"{rjust('词元数', 8)}{rjust('轮', 4)}"
          + "".join(rjust(n, width) for n in names)
          + "".join(rjust("加速" if not i else "加速·补丁", 12)
                    for i in range(len(pairs))))
    result = {}
    for length in args.lengths:
        def print_row(r, row, length=length):
            print(f"{length:>8}{r + 1:>4}"
                  + "".join(f"{row[n]:>{width},.0f}" for n in names)
                  + "".join(f"{row[a] / row[b]:>11.2f}x" for a, b in pairs))

        outputs = {}
        runners = {n: generation_runner(model, length, *modes[n], outputs, n)
                   for n in names}
        rates = interleave(runners, args.gen_rounds, print_row)
        for name in names[1:]:
            if not torch.equal(outputs[names[0]], outputs[name]):
                diff = (outputs[names[0]] != outputs[name]).nonzero()
                raise AssertionError(f"{length} 个词元：{names[0]}与{name}生成的"
                                     f"词元不同，第一处在位置 {int(diff[0, 1])}")
        medians = {n: statistics.median(v) for n, v in rates.items()}
        speedups = [statistics.median(x / y for x, y in zip(rates[a], rates[b]))
                    for a, b in pairs]
        print(f"{length:>8}{rjust('中', 4)}"
              + "".join(f"{medians[n]:>{width},.0f}" for n in names)
              + "".join(f"{x:>11.2f}x" for x in speedups)
              + "  （生成的词元都相同）")
        result[str(length)] = {
            "tokens_per_sec": {"cache": rates[names[0]],
                               "no_cache": rates[names[1]]},
            "median_tokens_per_sec": {"cache": medians[names[0]],
                                      "no_cache": medians[names[1]]},
            "median_speedup": speedups[0],
        }
        if args.variants:
            result[str(length)]["patched_is_causal"] = {
                "tokens_per_sec": {"cache": rates[names[2]],
                                   "no_cache": rates[names[3]]},
                "median_speedup": speedups[1],
                "cache_over_book": statistics.median(
                    x / y for x, y in zip(rates[names[2]], rates[names[0]])),
                "no_cache_over_book": statistics.median(
                    x / y for x, y in zip(rates[names[3]], rates[names[1]])),
            }
    if "256" in result:
        speedup = result["256"]["median_speedup"]
        verdict = "达到" if speedup >= 5 else "未达到"
        print(f"256 个词元时键值缓存的加速 {speedup:.2f} 倍"
              f"（目标 ≥ 5 倍：{verdict}）")
    if args.variants:
        print("补丁 is_causal 相对原样的本书模型（逐轮比值的中位数）：")
        for length, r in result.items():
            v = r["patched_is_causal"]
            print(f"  {length:>4} 个词元：带缓存 {v['cache_over_book']:.3f} 倍，"
                  f"不带缓存 {v['no_cache_over_book']:.3f} 倍")
    return {"num_layers": args.layers, "max_len": max_len, "prompt": [BOS_ID],
            "lengths": result}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["train", "generate", "all"],
                        default="all", help="只测训练、只测生成，或两者（默认）")
    parser.add_argument("--threads", type=int, default=1,
                        help="CPU 线程数（torch.set_num_threads），默认 1")
    parser.add_argument("--warmup", type=int, default=3, help="每个模型预热的步数")
    parser.add_argument("--rounds", type=int, default=10, help="训练交替计时的轮数")
    parser.add_argument("--steps", type=int, default=8,
                        help="每轮每个模型的训练步数")
    parser.add_argument("--layers", type=int, default=GPT_CONFIG.num_layers,
                        help="层数，默认取 GPT_CONFIG.num_layers")
    parser.add_argument("--batches", type=int, default=32,
                        help="预先生成的小批量个数（循环使用）")
    parser.add_argument("--variants", action="store_true",
                        help="另外计时用猴子补丁改过的本书模型（找出差距的来源）")
    parser.add_argument("--gen-rounds", type=int, default=5,
                        help="生成时每个长度交替计时的轮数")
    parser.add_argument("--lengths", type=int, nargs="+", default=[64, 256, 512],
                        help="生成的词元数")
    parser.add_argument("--json", default=None, metavar="PATH",
                        help="把结果写成 JSON 文件")
    args = parser.parse_args(argv)
    for name in ("threads", "warmup", "rounds", "steps", "layers", "batches",
                 "gen_rounds"):
        if getattr(args, name) < (0 if name == "warmup" else 1):
            parser.error(f"--{name.replace('_', '-')} 应为正整数")
    if min(args.lengths) < 1:
        parser.error("--lengths 应为正整数")
    torch.set_num_threads(args.threads)
    print(f"PyTorch {torch.__version__}，CPU 线程 {torch.get_num_threads()}，"
          f"测量 {args.part}")
    load_before = load_average()
    if load_before is not None:
        print("开始时的平均负载（1/5/15 分钟）：",
              " / ".join(f"{x:.2f}" for x in load_before))
    begin = time.perf_counter()
    result = {}
    if args.part in ("train", "all"):
        result["train"] = bench_train(args)
    if args.part in ("generate", "all"):
        result["generate"] = bench_generate(args)
    total = time.perf_counter() - begin
    load_after = load_average()
    if load_after is not None:
        print("\n结束时的平均负载（1/5/15 分钟）：",
              " / ".join(f"{x:.2f}" for x in load_after))
    print(f"总用时 {total:.0f} 秒")

    if args.json:
        def arg_text(k, v):
            flag = "--" + k.replace("_", "-")
            if isinstance(v, bool):
                return flag if v else None
            if isinstance(v, list):
                return flag + " " + " ".join(map(str, v))
            return f"{flag} {v}"

        result = {
            "script": "bench/bench_gpt.py",
            "command": "python bench/bench_gpt.py " + " ".join(
                t for k, v in vars(args).items()
                if v is not None and k != "json" and (t := arg_text(k, v))),
            "date": time.strftime("%Y-%m-%d"),
            "cpu": cpu_name(),
            "cpu_count": os.cpu_count(),
            "load_average": {"start": load_before, "end": load_after},
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "env": {k: os.environ.get(k) for k in (
                "ATEN_CPU_CAPABILITY", "MKL_ENABLE_INSTRUCTIONS",
                "ONEDNN_MAX_CPU_ISA", "OMP_NUM_THREADS", "MKL_NUM_THREADS")},
            "seconds": total,
            **result,
        }
        path = pathlib.Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n",
                        encoding="utf-8")
        print("结果写入", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
