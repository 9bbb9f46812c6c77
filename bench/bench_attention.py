"""第 3 章的基准：三种翻译模型一个训练步的速度，Transformer 解码时键值缓存的作用。

用法（在仓库根目录）::

    SEQBOOK_DATA=/path/to/data python bench/bench_attention.py \
        [--device cpu] [--threads 2] [--json out.json]

1. 训练速度：GRU seq2seq、Bahdanau 注意力、Transformer 按书中的规模构造，在英译中
   训练集的同一组小批量（批量 128，按长度分桶）上各做一个库的训练步
   :func:`seqbook.train_step`（前向、反向与一次 Adam 更新）；报告每秒处理的目标
   词元数（与 :func:`seqbook.train_seq2seq` 的“词元/秒”口径相同）。
2. 解码速度：Transformer 贪心地生成 10、50、200 个词元（不在 ``<eos>`` 处停止），
   比较“带键值缓存”（每步只输入新词元）与“不带缓存”（每步把整个前缀重新输入
   解码器）。两者生成的词元必须完全相同。

3. ``--norm-ablation``（只做这一项）：书中“训练与评估 Transformer”一节的对照试验。
   同样的数据、6 轮余弦衰减、批量 128（共 672 个优化步），训练后规范化
   （``norm_first=False``）的模型：不预热时学习率 0.002 与 0.004；学习率 0.004 加
   线性预热 50 步（约占全部步数的 7%）与 112 步（一轮）；以及前规范化、学习率
   0.004、不预热（书中正式训练的设置）。每种设置用 ``--seeds`` 给出的几个随机种子
   （默认 0、1、2）各训练一次，报告每轮的训练损失与测试集 BLEU（贪心、束宽 4）。
   种子 0 的前规范化一行与书中的正式训练从同样的随机数状态开始。

``--json PATH`` 把结果（连同机器、线程数、PyTorch 版本与数值设置）写成 JSON，
例如书中引用的 ``bench/results/``。
"""

import argparse
import dataclasses
import datetime
import itertools
import json
import math
import os
import pathlib
import platform
import statistics
import sys
import time

import torch

import seqbook

# 书中各节使用的设置：第 2 章的 GRU seq2seq、Bahdanau 注意力一节与 Transformer 一节
CONFIGS = {
    "GRU seq2seq": seqbook.GRU_CMN_CONFIG,
    "Bahdanau 注意力": seqbook.BAHDANAU_CMN_CONFIG,
    # 速度基准一直用后规范化的 Transformer（bench/results/ 中的测量就是它）
    "Transformer": dataclasses.replace(
        seqbook.TRANSFORMER_CMN_CONFIG, norm_first=False
    ),
}


def build_models(data):
    return {
        name: cfg.build(data.src_vocab, data.tgt_vocab)
        for name, cfg in CONFIGS.items()
    }


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bench_training(model, batches, bos, device, repeats):
    """返回（目标词元/秒，每步毫秒）：在给定的小批量上训练，取 ``repeats`` 次中
    最快的一次。"""
    model.to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    batches = [tuple(t.to(device) for t in b) for b in batches]
    num_tokens = sum(int(b[3].sum()) for b in batches)
    loss_fn = seqbook.seq2seq_loss(bos, device)

    def one_pass():  # 库的训练步（不裁剪梯度）
        for batch in batches:
            seqbook.train_step(model, loss_fn, batch, optimizer)

    one_pass()  # 预热
    times = []
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        one_pass()
        sync(device)
        times.append(time.perf_counter() - start)
    best = min(times)
    return num_tokens / best, best / len(batches) * 1000


@torch.no_grad()
def greedy_tokens(model, X, valid_lens, bos, num_tokens, use_cache):
    """贪心地生成恰好 ``num_tokens`` 个词元，返回 ``(batch_size, num_tokens)``。"""
    state0 = model.init_decoder_state(X, valid_lens)
    state = state0
    tokens = torch.full((X.shape[0], 1), bos, dtype=torch.long, device=X.device)
    for _ in range(num_tokens):
        if use_cache:  # 只输入最新的词元，旧位置的键和值取自缓存
            logits, state = model.decoder(tokens[:, -1:], state)
        else:  # 每一步把整个前缀重新算一遍
            logits, _ = model.decoder(tokens, state0)
        tokens = torch.cat([tokens, logits[:, -1].argmax(-1, keepdim=True)], dim=1)
    return tokens[:, 1:]


def bench_decoding(model, X, valid_lens, bos, lengths, device, repeats):
    model.to(device).eval()
    X, valid_lens = X.to(device), valid_lens.to(device)
    rows = []
    for n in lengths:
        result = {}
        for use_cache in (True, False):
            greedy_tokens(model, X, valid_lens, bos, min(n, 5), use_cache)  # 预热
            times = []
            for _ in range(repeats):
                sync(device)
                start = time.perf_counter()
                out = greedy_tokens(model, X, valid_lens, bos, n, use_cache)
                sync(device)
                times.append(time.perf_counter() - start)
            result[use_cache] = (statistics.median(times), out)
        if not torch.equal(result[True][1], result[False][1]):
            raise AssertionError(f"生成 {n} 个词元时，带缓存与不带缓存的结果不同")
        rows.append((n, result[True][0], result[False][0]))
    return rows


def machine_info(device):
    """记录测量条件：CPU 型号、线程数、PyTorch 版本、数值相关的环境变量。"""
    cpu = platform.processor() or platform.machine()
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    env = {
        k: os.environ.get(k)
        for k in (
            "ATEN_CPU_CAPABILITY",
            "MKL_ENABLE_INSTRUCTIONS",
            "ONEDNN_MAX_CPU_ISA",
            "OMP_NUM_THREADS",
            "MKL_NUM_THREADS",
        )
    }
    return {
        "device": str(device),
        "cpu": cpu,
        "logical_cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "env": env,
        "date": datetime.date.today().isoformat(),
    }


# 对照试验的各组设置：(norm_first, 学习率, 预热步数)
NORM_ABLATION_SETTINGS = (
    (False, 0.002, 0),
    (False, 0.004, 0),
    (False, 0.004, 50),  # 约为 6 轮共 672 步的 7%
    (False, 0.004, 112),  # 一轮
    (True, 0.004, 0),  # 书中的正式训练
)


def norm_ablation(
    data, device, settings=NORM_ABLATION_SETTINGS, seeds=(0, 1, 2), num_epochs=6
):
    """Transformer 的对照试验：规范化的位置、学习率与预热步数不同的模型，每种
    设置在每个随机种子下各训练一次，返回每次的结果。各组的数据、轮数与余弦衰减
    都相同；同一个种子下各组的初始化与小批量顺序也相同。"""
    rows = []
    for (norm_first, lr, warmup_steps), seed in itertools.product(settings, seeds):
        seqbook.set_seed(seed)
        cfg = dataclasses.replace(
            seqbook.TRANSFORMER_CMN_CONFIG, norm_first=norm_first
        )
        model = cfg.build(data.src_vocab, data.tgt_vocab).to(device)
        result = seqbook.train_seq2seq(
            model,
            data,
            num_epochs=num_epochs,
            lr=lr,
            device=device,
            batch_size=128,
            lr_decay="cosine",
            warmup_steps=warmup_steps,
            plot=False,
        )
        greedy, _ = seqbook.evaluate_bleu(model, data, device)
        beam, _ = seqbook.evaluate_bleu(model, data, device, beam_size=4)
        rows.append(
            {
                "norm_first": norm_first,
                "lr": lr,
                "seed": seed,
                "warmup_steps": warmup_steps,
                "num_epochs": num_epochs,
                "total_steps": num_epochs * math.ceil(len(data) / 128),
                "final_loss": result.losses[-1],
                "losses": result.losses,
                "seconds": result.seconds,
                "bleu_greedy": greedy,
                "bleu_beam4": beam,
            }
        )
        print(
            f"norm_first={norm_first!s:5} lr={lr} 预热 {warmup_steps} 步 种子 {seed}："
            f"最后一轮损失 {result.losses[-1]:.2f}，"
            f"BLEU 贪心 {greedy:.2f}、束宽 4 {beam:.2f}"
            f"（训练 {result.seconds:.0f} 秒）"
        )
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None, help="cpu / cuda；默认自动选择")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="CPU 线程数（torch.set_num_threads）",
    )
    parser.add_argument(
        "--train-batches", type=int, default=20, help="计时用的小批量个数"
    )
    parser.add_argument(
        "--decode-batch", type=int, default=16, help="解码基准的批量大小"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--lengths",
        type=int,
        nargs="+",
        default=[10, 50, 200],
        help="解码基准生成的词元数",
    )
    parser.add_argument(
        "--json", default=None, metavar="PATH", help="把结果写成 JSON 文件"
    )
    parser.add_argument(
        "--norm-ablation",
        action="store_true",
        help="只做 Transformer 规范化位置与预热的对照试验"
        "（五种设置 × 每个种子各训练 6 轮，单线程每次约两分钟）",
    )
    parser.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=[0, 1, 2],
        help="对照试验的随机种子",
    )
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    seqbook.set_seed(0)
    device = seqbook.get_device(args.device)
    threads = torch.get_num_threads()
    print(f"设备 {device}，PyTorch {torch.__version__}，CPU 线程 {threads}")
    data = seqbook.load_translation("cmn-eng")
    if args.norm_ablation:
        rows = norm_ablation(data, device, seeds=args.seeds)
        if args.json:
            write_json(
                args.json, {"machine": machine_info(device), "norm_ablation": rows}
            )
        return 0
    bos = data.tgt_vocab[seqbook.BOS]
    generator = torch.Generator().manual_seed(0)
    batches = list(data.train_iter(128, generator=generator))[: args.train_batches]
    models = build_models(data)

    print("\n一个训练步（批量 128，前向 + 反向 + Adam）：")
    print(f"{'模型':<16}{'参数量':>12}{'目标词元/秒':>14}{'毫秒/步':>10}")
    training = []
    for name, model in models.items():
        tps, ms = bench_training(model, batches, bos, device, args.repeats)
        params = sum(p.numel() for p in model.parameters())
        print(f"{name:<16}{params:>12,}{tps:>14,.0f}{ms:>10.1f}")
        training.append(
            {
                "model": name,
                "parameters": params,
                "tokens_per_sec": tps,
                "ms_per_step": ms,
            }
        )

    print(
        f"\nTransformer 贪心解码（批量 {args.decode_batch}，未训练的模型，"
        f"不在 <eos> 处停止）："
    )
    print(f"{'生成词元数':>10}{'带缓存 秒':>12}{'不带缓存 秒':>14}{'加速比':>8}")
    X, valid_lens = (
        data.src[: args.decode_batch],
        data.src_valid_len[: args.decode_batch],
    )
    rows = bench_decoding(
        models["Transformer"],
        X,
        valid_lens,
        bos,
        args.lengths,
        device,
        args.repeats,
    )
    for n, cached, uncached in rows:
        print(f"{n:>10}{cached:>12.3f}{uncached:>14.3f}{uncached / cached:>8.1f}x")
    speedups = [uncached / cached for _, cached, uncached in rows]
    ok = all(s > 1 for s in speedups) and speedups == sorted(speedups)
    print("键值缓存更快，且差距随长度增大：", "是" if ok else "否")
    if args.json:
        result = {
            "machine": machine_info(device),
            "settings": {
                "train_batches": args.train_batches,
                "train_batch_size": 128,
                "decode_batch": args.decode_batch,
                "repeats": args.repeats,
                "timing": "训练取最快一次，解码取中位数",
            },
            "training": training,
            "decoding": [
                {
                    "num_tokens": n,
                    "cached_seconds": c,
                    "uncached_seconds": u,
                    "speedup": u / c,
                }
                for n, c, u in rows
            ],
        }
        write_json(args.json, result)
    return 0 if ok else 1


def write_json(path, result):
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    print("结果写入", path)


if __name__ == "__main__":
    sys.exit(main())
