"""第 4 章的基准：本书的 BERT 与用 ``torch.nn.TransformerEncoder`` 写成的同一结构
比较预训练的速度（词元/秒）。

用法（在仓库根目录）::

    SEQBOOK_DATA=/path/to/data python bench/bench_bert.py \
        [--position distance|learned] [--threads 1] [--rounds 15] [--steps 40] \
        [--corpus synthetic|real] [--json PATH]

两个模型都按 :data:`seqbook.training.bert.BERT_CONFIG` 的规模构造：词表 5,217、
宽度 128、4 个头、2 层、前馈网络 512、前规范化、GELU、暂退概率 0；小批量
16 行 × 64 步，遮住 40% 的字。

- 本书：:class:`seqbook.models.bert.BERTModel`（编码器块是第 3 章的
  :class:`seqbook.TransformerEncoderBlock`）。
- 对照：:class:`TorchBERT`，词元嵌入 + 片段嵌入（+ 位置嵌入）+ 嵌入层规范化，
  ``nn.TransformerEncoder(nn.TransformerEncoderLayer(d_model=128, nhead=4,
  dim_feedforward=512, dropout=0.0, activation="gelu", batch_first=True,
  norm_first=True), num_layers=2)`` 加末尾的层规范化，同样的掩蔽语言模型头
  （``Linear → GELU → LayerNorm``，输出层与词元嵌入绑定，只在被遮住的位置上
  计算）与下一句预测头（不进损失，两边都一样）。
  ``--position distance``（书中的默认）时两边都不用位置嵌入，注意力分数加上
  同一个按距离的固定偏置 :func:`seqbook.models.bert.distance_bias`：对照把它作为
  浮点 ``mask``（形状 ``(b·nh, n, n)``，每个头一份偏置）交给
  ``nn.TransformerEncoder``；``--position learned`` 时两边都用可学习的位置嵌入、
  不加偏置。唯一的结构差别：``nn.MultiheadAttention`` 的输入 / 输出投影带偏置，
  本书的 :class:`seqbook.MultiHeadAttention` 默认不带（每层多 4 × 128 个参数，
  计算量可以忽略）。计时前把本书模型的权重复制到对照模型（这些偏置初始为 0），
  检查两者在同一小批量上的损失有限且相等，确认两边做的是同一个计算。

训练步与 :func:`seqbook.training.bert.pretrain_bert` 相同，两边共用一份代码：
前向 → 只在被遮住位置上的交叉熵 :func:`mlm_loss` → 反向 → 梯度裁剪到 1 →
AdamW（:func:`seqbook.training.bert.adamw`）一步（不含学习率调度）。
小批量预先用 :func:`packed_batch` 与 :func:`mlm_mask` 生成好、两边用同一组，
数据准备不计时。默认 ``--corpus synthetic``：在 5,217 个词元上均匀随机的词元流
（每 40 个词元插一个 ``<sep>``），加载快，速度与真实语料相同（速度只取决于形状与
被遮住的位置数）；``--corpus real`` 改用 :func:`load_bert_corpus` 的真实语料流。

计时：每个模型先预热 ``--warmup`` 步，然后两个模型交替运行 ``--rounds`` 轮，
每轮各 ``--steps`` 步（先后顺序每轮对调），用 ``time.perf_counter`` 计时。报告
每个模型各轮词元/秒的中位数与两者之比（本书 / 对照；议题的目标是不低于
0.9 倍），以及逐轮比值的中位数（机器上其他负载随时间变化时更可靠）。默认单
线程（``torch.set_num_threads(1)``），默认设置在单线程上约 2 分钟。
``--json PATH`` 把结果连同机器与设置写成 JSON。
"""

import argparse
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

from seqbook.data.bert_corpus import BERT_SPECIAL_TOKENS, mlm_mask, packed_batch
from seqbook.models.bert import BERTModel, distance_bias
from seqbook.training.bert import BERT_CONFIG, adamw, mlm_loss
from seqbook.training.trainer import train_step

VOCAB_SIZE = 5217  # 书中字符词表的大小（len(load_bert_corpus().tokenizer)）
SEP_ID = BERT_SPECIAL_TOKENS.index("<sep>")
NUM_SPECIAL = len(BERT_SPECIAL_TOKENS)


class TorchBERT(nn.Module):
    """对照：同样结构的 BERT，编码器用 ``nn.TransformerEncoder``。

    ``forward(tokens, segments=None, valid_lens=None, selected=None)`` 的输入与
    返回值同 :class:`BERTModel`（这里不支持 valid_lens：打包的小批量没有填充）。
    """

    def __init__(self, vocab_size, num_hiddens=128, ffn_num_hiddens=512,
                 num_heads=4, num_layers=2, max_len=128, position="distance"):
        super().__init__()
        self.num_heads, self.position = num_heads, position
        self.token_embedding = nn.Embedding(vocab_size, num_hiddens)
        self.segment_embedding = nn.Embedding(2, num_hiddens)
        self.position_embedding = (nn.Embedding(max_len, num_hiddens)
                                   if position == "learned" else None)
        self.embed_norm = nn.LayerNorm(num_hiddens)
        layer = nn.TransformerEncoderLayer(
            d_model=num_hiddens, nhead=num_heads, dim_feedforward=ffn_num_hiddens,
            dropout=0.0, activation="gelu", batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(
            layer, num_layers, norm=nn.LayerNorm(num_hiddens),
            enable_nested_tensor=False)  # 前规范化时本来也用不上嵌套张量
        # 掩蔽语言模型头：Linear → GELU → LayerNorm → 与词元嵌入绑定的输出层
        self.mlm_dense = nn.Linear(num_hiddens, num_hiddens)
        self.mlm_norm = nn.LayerNorm(num_hiddens)
        self.mlm_decoder = nn.Linear(num_hiddens, vocab_size)
        self.mlm_decoder.weight = self.token_embedding.weight
        self.nsp = nn.Linear(num_hiddens, 2)

    def forward(self, tokens, segments=None, valid_lens=None, selected=None):
        if valid_lens is not None:
            raise ValueError("TorchBERT 只用于没有填充的小批量："
                             "valid_lens 应为 None")
        b, n = tokens.shape
        if segments is None:
            segments = torch.zeros_like(tokens)
        X = self.token_embedding(tokens) + self.segment_embedding(segments)
        mask = None
        if self.position_embedding is not None:
            X = X + self.position_embedding(torch.arange(n, device=tokens.device))
        else:  # 同一个距离偏置，每个样本的每个头一份：(b·nh, n, n)
            bias = distance_bias(self.num_heads, n, tokens.device)  # (nh, n, n)
            mask = bias.repeat(b, 1, 1)  # 第 i·nh + h 个是第 h 个头的偏置
        H = self.encoder(self.embed_norm(X), mask=mask)  # (b, n, d)
        mlm_logits = None
        if selected is not None:
            Z = self.mlm_norm(F.gelu(self.mlm_dense(H[selected])))  # (m, d)
            mlm_logits = self.mlm_decoder(Z)  # (m, V)
        return H, mlm_logits, self.nsp(H[:, 0])


def copy_book_weights(book, ref):
    """把本书模型的权重复制到对照模型：W_q、W_k、W_v 拼成 ``in_proj_weight``，
    ``nn.MultiheadAttention`` 多出的偏置保持为 0。"""
    src = book.state_dict()
    enc = "encoder."
    state = {
        "token_embedding.weight": src[enc + "token_embedding.weight"],
        "segment_embedding.weight": src[enc + "segment_embedding.weight"],
        "embed_norm.weight": src[enc + "embed_norm.weight"],
        "embed_norm.bias": src[enc + "embed_norm.bias"],
        "encoder.norm.weight": src[enc + "final_norm.weight"],
        "encoder.norm.bias": src[enc + "final_norm.bias"],
        "mlm_dense.weight": src["mlm.dense.weight"],
        "mlm_dense.bias": src["mlm.dense.bias"],
        "mlm_norm.weight": src["mlm.norm.weight"],
        "mlm_norm.bias": src["mlm.norm.bias"],
        "mlm_decoder.weight": src["mlm.decoder.weight"],
        "mlm_decoder.bias": src["mlm.decoder.bias"],
        "nsp.weight": src["nsp.weight"],
        "nsp.bias": src["nsp.bias"],
    }
    if ref.position_embedding is not None:
        state["position_embedding.weight"] = src[enc + "position_embedding.weight"]
    for i, layer in enumerate(ref.encoder.layers):
        blk, dst = f"{enc}blocks.{i}.", f"encoder.layers.{i}."
        attn = layer.self_attn
        state[dst + "self_attn.in_proj_weight"] = torch.cat(
            [src[f"{blk}attention.W_{x}.weight"] for x in "qkv"])
        state[dst + "self_attn.in_proj_bias"] = torch.zeros_like(attn.in_proj_bias)
        state[dst + "self_attn.out_proj.weight"] = src[blk + "attention.W_o.weight"]
        state[dst + "self_attn.out_proj.bias"] = torch.zeros_like(
            attn.out_proj.bias)
        for a, b in (("linear1", "ffn.dense1"), ("linear2", "ffn.dense2"),
                     ("norm1", "ln1"), ("norm2", "ln2")):
            for p in ("weight", "bias"):
                state[f"{dst}{a}.{p}"] = src[f"{blk}{b}.{p}"]
    ref.load_state_dict(state, strict=True)


def synthetic_stream(vocab_size, length, generator):
    """均匀随机的普通词元，每 40 个插一个 ``<sep>``（像首尾相接的短文档）。"""
    stream = torch.randint(NUM_SPECIAL, vocab_size, (length,), generator=generator)
    stream[39::40] = SEP_ID
    return stream


def make_batches(stream, vocab_size, num_batches, generator):
    """预先生成 ``num_batches`` 个小批量 ``(inputs, selected, targets)``，与
    :func:`pretrain_bert` 的做法相同（不加下一句预测）。"""
    cfg = BERT_CONFIG
    batches = []
    for _ in range(num_batches):
        tokens = packed_batch(stream, cfg.batch_size, cfg.seq_len, generator)
        batches.append(mlm_mask(tokens, vocab_size, cfg.mask_rate, generator))
    return batches


def loss_fn(model, batch):
    """:func:`pretrain_bert` 的损失（不加下一句预测）：只在被遮住的位置上。"""
    inputs, selected, targets = batch
    _, mlm_logits, _ = model(inputs, None, None, selected)
    loss = mlm_loss(mlm_logits, targets)
    return loss, (loss.item() * inputs.numel(), inputs.numel())


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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--position", choices=["distance", "learned"],
                        default=BERT_CONFIG.position,
                        help="位置信息：按距离的固定偏置（书中默认）或可学习的位置嵌入")
    parser.add_argument("--threads", type=int, default=1,
                        help="CPU 线程数（torch.set_num_threads），默认 1")
    parser.add_argument("--warmup", type=int, default=10, help="每个模型预热的步数")
    parser.add_argument("--rounds", type=int, default=15, help="交替计时的轮数")
    parser.add_argument("--steps", type=int, default=40, help="每轮每个模型的步数")
    parser.add_argument("--batches", type=int, default=64,
                        help="预先生成的小批量个数（循环使用）")
    parser.add_argument("--corpus", choices=["synthetic", "real"],
                        default="synthetic",
                        help="随机词元流（默认）或 load_bert_corpus() 的真实语料")
    parser.add_argument("--json", default=None, metavar="PATH",
                        help="把结果写成 JSON 文件")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    cfg = BERT_CONFIG
    print(f"PyTorch {torch.__version__}，CPU 线程 {torch.get_num_threads()}，"
          f"位置 {args.position}，语料 {args.corpus}")
    load_before = load_average()
    if load_before is not None:
        print("开始时的平均负载（1/5/15 分钟）：",
              " / ".join(f"{x:.2f}" for x in load_before))

    generator = torch.Generator().manual_seed(0)
    if args.corpus == "real":
        from seqbook.data.bert_corpus import load_bert_corpus
        corpus = load_bert_corpus()
        vocab_size, stream = len(corpus.tokenizer), corpus.stream(cfg.seed)
    else:
        vocab_size = VOCAB_SIZE
        stream = synthetic_stream(vocab_size, 200_000, generator)
    batches = make_batches(stream, vocab_size, args.batches, generator)
    num_masked = statistics.mean(len(t) for _, _, t in batches)

    sizes = dict(num_hiddens=cfg.num_hiddens, ffn_num_hiddens=cfg.ffn_num_hiddens,
                 num_heads=cfg.num_heads, num_layers=cfg.num_layers,
                 max_len=cfg.max_len, position=args.position)
    torch.manual_seed(0)
    models = {"本书 BERTModel": BERTModel(vocab_size, **sizes),
              "nn.TransformerEncoder": TorchBERT(vocab_size, **sizes)}
    book, ref = models.values()
    copy_book_weights(book, ref)
    print(f"\n词表 {vocab_size:,}，宽度 {cfg.num_hiddens}，{cfg.num_heads} 个头，"
          f"{cfg.num_layers} 层，前馈网络 {cfg.ffn_num_hiddens}；小批量 "
          f"{cfg.batch_size} × {cfg.seq_len}，遮住率 {cfg.mask_rate}"
          f"（平均每批 {num_masked:.0f} 个被遮住的位置）")
    losses = {}
    for name, model in models.items():  # 训练模式、带梯度：与计时的路径相同
        model.train()
        losses[name] = loss_fn(model, batches[0])[0].item()
        print(f"{name:<24}参数量 {num_params(model):>9,}  "
              f"初始损失 {losses[name]:.6f}")
    book_loss, ref_loss = losses.values()
    if not all(map(math.isfinite, losses.values())):
        raise AssertionError("有模型的损失不是有限值")
    if abs(book_loss - ref_loss) > 1e-4 * abs(ref_loss):
        raise AssertionError(f"同样的权重下两个模型的损失不同：{book_loss} 与 "
                             f"{ref_loss}：对照模型与本书的结构不一致")
    print("同样的权重下两者的损失相同（相对差 "
          f"{abs(book_loss - ref_loss) / abs(ref_loss):.1e}）")

    optimizers = {name: adamw(model, cfg.lr) for name, model in models.items()}
    for name, model in models.items():  # 预热
        run_steps(model, optimizers[name], batches, 0, args.warmup)
    start = {name: args.warmup for name in models}
    rates = {name: [] for name in models}
    print(f"\n训练步（前向 + 稀疏的掩蔽语言模型损失 + 反向 + 梯度裁剪 + AdamW），"
          f"预热 {args.warmup} 步，{args.rounds} 轮 × 每轮 {args.steps} 步：")
    names = list(models)
    header = "".join(rjust(name, 24) for name in names)
    print(f"{rjust('轮', 6)}{header}{rjust('比值', 10)}")
    for r in range(args.rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            seconds, tokens = run_steps(models[name], optimizers[name], batches,
                                        start[name], args.steps)
            start[name] += args.steps
            rates[name].append(tokens / seconds)
        row = "".join(f"{rates[name][-1]:>24,.0f}" for name in names)
        ratio = rates[names[0]][-1] / rates[names[1]][-1]
        print(f"{r + 1:>6}{row}{ratio:>9.3f}x")
    medians = {name: statistics.median(v) for name, v in rates.items()}
    ratio = medians[names[0]] / medians[names[1]]
    paired = statistics.median(a / b for a, b in zip(*rates.values()))
    row = "".join(f"{medians[name]:>24,.0f}" for name in names)
    print(f"{rjust('中位数', 6)}{row}{ratio:>9.3f}x")
    ms = {name: 1000 * cfg.batch_size * cfg.seq_len / medians[name]
          for name in names}
    print("毫秒/步（中位数）：" + "，".join(f"{n} {ms[n]:.1f}" for n in names))
    verdict = "达到" if paired >= 0.9 else "未达到"
    print(f"本书 / 对照：中位数之比 {ratio:.3f} 倍，逐轮比值的中位数 "
          f"{paired:.3f} 倍（目标 ≥ 0.9 倍：{verdict}）")
    load_after = load_average()
    if load_after is not None:
        print("结束时的平均负载（1/5/15 分钟）：",
              " / ".join(f"{x:.2f}" for x in load_after))

    if args.json:
        result = {
            "script": "bench/bench_bert.py",
            "command": "python bench/bench_bert.py " + " ".join(
                f"--{k} {v}" for k, v in vars(args).items()
                if v is not None and k != "json"),
            "date": time.strftime("%Y-%m-%d"),
            "cpu": cpu_name(),
            "cpu_count": os.cpu_count(),
            "load_average": {"start": load_before, "end": load_after},
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "env": {k: os.environ.get(k) for k in (
                "ATEN_CPU_CAPABILITY", "MKL_ENABLE_INSTRUCTIONS",
                "ONEDNN_MAX_CPU_ISA", "OMP_NUM_THREADS", "MKL_NUM_THREADS")},
            "vocab_size": vocab_size,
            "parameters": {n: num_params(m) for n, m in models.items()},
            "tokens_per_sec": rates,
            "median_tokens_per_sec": medians,
            "ratio_of_medians": ratio,
            "median_of_ratios": paired,
        }
        path = pathlib.Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n",
                        encoding="utf-8")
        print("结果写入", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
