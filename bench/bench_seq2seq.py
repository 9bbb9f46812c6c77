"""第 2 章的基准：GRU seq2seq 的训练速度与束搜索的解码速度。

用法（在仓库根目录）::

    SEQBOOK_DATA=/path/to/data python bench/bench_seq2seq.py \
        [--device cpu] [--threads 2] [--json PATH]

1. 训练速度（目标词元/秒，与 :func:`seqbook.train_seq2seq` 的口径相同）：
   - 英译中：书中的设置 :data:`seqbook.GRU_CMN_CONFIG`，在训练集的前若干个按
     长度分桶的小批量上各做一个库的训练步 :func:`seqbook.train_step`（与
     :func:`seqbook.train_seq2seq` 相同的损失、梯度裁剪与 Adam 更新）；
   - 经典英译法：600 个句对、两层 32 维 GRU、批量 64（《动手学深度学习》的
     设置），训练若干轮；在同一台机器上接着用《动手学深度学习》的经典代码
     （:func:`d2l_classic_training`，照原书重写：不打包、不分桶、每批填充到
     ``num_steps``、损失按序列平均后求和）训练同样的轮数，报告两者的用时之比。
     两边都不画图。
2. 束搜索速度（句/秒）：用随机初始化的书中规模的模型（速度与权重无关）翻译
   1,000 个测试句子，束宽 1、2、4、8，每次 256 句一批；束宽 1 同时给出贪心搜索
   的速度作对照。
每项重复 ``--repeats`` 次取最快的一次（两个英译法训练各只运行一次；束宽之间
轮流重复）。``--only beam`` 只测束搜索的速度；与 ``--json`` 同用时更新已有 JSON
文件中束搜索的几项，保留其余各项。``--json PATH`` 把所有结果连同机器与设置写入
一个 JSON 文件（书中读取 ``bench/results/`` 下的文件）。
"""

import argparse
import json
import os
import platform
import time

import torch

import seqbook
from seqbook import GRU_CMN_CONFIG


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def best_of(repeats, fn, device):
    """运行 ``fn`` ``repeats`` 次，返回最短的秒数与最后一次的返回值。"""
    best, out = float("inf"), None
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        out = fn()
        sync(device)
        best = min(best, time.perf_counter() - start)
    return best, out


def bench_cmn_training(data, device, num_batches, repeats):
    cfg = GRU_CMN_CONFIG
    seqbook.set_seed(0)
    model = cfg.build(data.src_vocab, data.tgt_vocab).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, foreach=True)
    loss_fn = seqbook.seq2seq_loss(data.tgt_vocab["<bos>"], device)
    batches = []
    for i, batch in enumerate(data.train_iter(cfg.batch_size)):
        if i == num_batches:
            break
        batches.append([t.to(device) for t in batch])
    num_tokens = sum(int(b[3].sum()) for b in batches)

    def run():  # 库的训练步：前向、损失、反向、梯度裁剪（阈值 1）、Adam 更新
        model.train()
        for batch in batches:
            seqbook.train_step(model, loss_fn, batch, optimizer, grad_clip=1.0)

    seconds, _ = best_of(repeats, run, device)
    return num_tokens / seconds, 1000 * seconds / len(batches)


def bench_fra_training(device, num_epochs, repeats):
    fra = seqbook.load_translation(
        "fra-eng", num_steps=10, max_tokens=None, num_test=0, num_examples=600
    )

    def run():
        seqbook.set_seed(0)
        model = seqbook.build_seq2seq(fra.src_vocab, fra.tgt_vocab, 32, 32, 2, 0.1)
        return seqbook.train_seq2seq(
            model, fra, num_epochs, 0.005, device, 64, plot=False
        )

    _, result = best_of(repeats, run, device)
    return result


def d2l_classic_training(
    fra,
    device,
    num_epochs,
    lr=0.005,
    batch_size=64,
    embed_size=32,
    num_hiddens=32,
    num_layers=2,
    dropout=0.1,
):
    """《动手学深度学习》（PyTorch 版，9.7 节）的经典 seq2seq 训练，照原书重写，
    只去掉画图。

    与本书实现的区别正是正文讨论的那些：编码器读入填充词元（不打包）；小批量
    不分桶，每批都填充到 ``num_steps``；解码器在每步拼接 ``state[-1]``；损失在
    ``num_steps`` 个位置（含填充）上平均后对批量求和再反向传播。数据是同样的
    600 个句对与词表。
    返回 ``(秒数, 有效目标词元数)``。
    """
    from torch import nn

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(len(fra.src_vocab), embed_size)
            self.rnn = nn.GRU(embed_size, num_hiddens, num_layers, dropout=dropout)

        def forward(self, X):
            return self.rnn(self.embedding(X).permute(1, 0, 2))

    class Decoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(len(fra.tgt_vocab), embed_size)
            self.rnn = nn.GRU(
                embed_size + num_hiddens, num_hiddens, num_layers, dropout=dropout
            )
            self.dense = nn.Linear(num_hiddens, len(fra.tgt_vocab))

        def forward(self, X, state):
            X = self.embedding(X).permute(1, 0, 2)
            context = state[-1].repeat(X.shape[0], 1, 1)
            output, state = self.rnn(torch.cat((X, context), 2), state)
            return self.dense(output).permute(1, 0, 2), state

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder, self.decoder = Encoder(), Decoder()

        def forward(self, enc_X, dec_X):
            return self.decoder(dec_X, self.encoder(enc_X)[1])[0]

    def xavier_init_weights(m):
        if type(m) == nn.Linear:  # noqa: E721
            nn.init.xavier_uniform_(m.weight)
        if type(m) == nn.GRU:  # noqa: E721
            for param in m._flat_weights_names:
                if "weight" in param:
                    nn.init.xavier_uniform_(m._parameters[param])

    def masked_softmax_ce(pred, label, valid_len):
        weights = seqbook.sequence_mask(valid_len, label.shape[1]).float()
        unweighted = nn.functional.cross_entropy(
            pred.permute(0, 2, 1), label, reduction="none"
        )
        return (unweighted * weights).mean(dim=1)

    def grad_clipping(net, theta):
        params = [p for p in net.parameters() if p.requires_grad]
        norm = torch.sqrt(sum(torch.sum(p.grad**2) for p in params))
        if norm > theta:
            for param in params:
                param.grad[:] *= theta / norm

    seqbook.set_seed(0)
    net = Net()
    net.apply(xavier_init_weights)
    net.to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    bos = fra.tgt_vocab["<bos>"]
    net.train()
    num_tokens = 0
    sync(device)
    start = time.perf_counter()
    for _ in range(num_epochs):
        for batch in fra.train_iter(batch_size, bucket=False, trim=False):
            optimizer.zero_grad()
            X, X_valid_len, Y, Y_valid_len = [x.to(device) for x in batch]
            dec_input = torch.cat(
                [torch.full((Y.shape[0], 1), bos, device=device), Y[:, :-1]], 1
            )
            l = masked_softmax_ce(net(X, dec_input), Y, Y_valid_len)  # noqa: E741
            l.sum().backward()
            grad_clipping(net, 1)
            optimizer.step()
            with torch.no_grad():
                float(
                    l.sum()
                )  # 原书每步把损失累加到 Python 数里（d2l.Accumulator）
            num_tokens += int(Y_valid_len.sum())
    sync(device)
    return time.perf_counter() - start, num_tokens


def cpu_name():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def bench_beam(data, device, repeats):
    cfg = GRU_CMN_CONFIG
    seqbook.set_seed(0)
    model = cfg.build(data.src_vocab, data.tgt_vocab).to(device).eval()
    sources = [src for src, _ in data.test_pairs]
    X, valid_len = seqbook.encode_source(sources, data.src_vocab, data.num_steps)
    X, valid_len = X.to(device), valid_len.to(device)
    bos, eos = data.tgt_vocab["<bos>"], data.tgt_vocab["<eos>"]
    chunks = [
        (X[i : i + 256], valid_len[i : i + 256])
        for i in range(0, len(sources), 256)
    ]

    def decode(beam_size):
        def run():
            for Xb, lb in chunks:
                if beam_size == 0:
                    seqbook.greedy_search(model, Xb, lb, bos, eos, data.num_steps)
                else:
                    seqbook.beam_search(
                        model, Xb, lb, bos, eos, data.num_steps, beam_size
                    )

        return run

    # 各束宽轮流运行、每轮各测一次，取每个束宽最快的一次：机器上的其他负载随时间
    # 变化时，它对各束宽的影响大致相同，比值比逐项连续测量可靠
    best = {beam_size: float("inf") for beam_size in (0, 1, 2, 4, 8)}
    for _ in range(repeats):
        for beam_size in best:
            seconds, _ = best_of(1, decode(beam_size), device)
            best[beam_size] = min(best[beam_size], seconds)
    return {
        beam_size: len(sources) / seconds for beam_size, seconds in best.items()
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None, help="cpu、cuda 等；默认自动选择")
    parser.add_argument(
        "--threads", type=int, default=None, help="PyTorch 的 CPU 线程数"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--batches", type=int, default=40, help="英译中训练测多少个小批量"
    )
    parser.add_argument(
        "--fra-epochs", type=int, default=300, help="英译法训练多少轮"
    )
    parser.add_argument(
        "--only", choices=["beam"], default=None, help="只测束搜索的速度"
    )
    parser.add_argument(
        "--json", default=None, metavar="PATH", help="把结果写入这个 JSON 文件"
    )
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    device = seqbook.get_device(args.device)
    threads = torch.get_num_threads()
    print(f"设备 {device}，PyTorch {torch.__version__}，CPU 线程 {threads}")
    data = seqbook.load_translation(
        "cmn-eng", num_steps=12, max_tokens=10, num_test=1000
    )

    if args.only == "beam":
        rates = bench_beam(data, device, args.repeats)
        for beam_size, rate in rates.items():
            name = "贪心搜索" if beam_size == 0 else f"束搜索 束宽 {beam_size}"
            ratio = rate / rates[0]
            print(f"{name}：{rate:,.0f} 句/秒（贪心搜索的 {ratio:.2f} 倍）")
        if args.json:
            with open(args.json, encoding="utf-8") as f:
                record = json.load(f)
            record.update(
                beam_command=f"python bench/bench_seq2seq.py --only beam --threads "
                f"{torch.get_num_threads()} --repeats {args.repeats}",
                beam_date=time.strftime("%Y-%m-%d"),
                greedy_sentences_per_sec=rates[0],
                beam_sentences_per_sec={str(k): rates[k] for k in (1, 2, 4, 8)},
                beam_over_greedy={
                    str(k): rates[k] / rates[0] for k in (1, 2, 4, 8)
                },
            )
            with open(args.json, "w", encoding="utf-8") as f:
                json.dump(record, f, ensure_ascii=False, indent=2)
                f.write("\n")
            print("结果写入", args.json)
        return
    rate, ms = bench_cmn_training(data, device, args.batches, args.repeats)
    print(
        f"英译中 GRU seq2seq 训练：{rate:,.0f} 词元/秒（每步 {ms:.1f} 毫秒，"
        f"批量 {GRU_CMN_CONFIG.batch_size}）"
    )
    result = bench_fra_training(device, args.fra_epochs, 1)
    print(
        f"英译法 600 句对 {args.fra_epochs} 轮：{result.seconds:.1f} 秒，"
        f"{result.tokens_per_sec:,.0f} 词元/秒，损失 {result.losses[-1]:.3f}"
    )
    fra = seqbook.load_translation(
        "fra-eng", num_steps=10, max_tokens=None, num_test=0, num_examples=600
    )
    d2l_seconds, d2l_tokens = d2l_classic_training(fra, device, args.fra_epochs)
    print(
        f"同样的训练，《动手学深度学习》的经典代码：{d2l_seconds:.1f} 秒，"
        f"{d2l_tokens / d2l_seconds:,.0f} 词元/秒；用时是本书实现的 "
        f"{d2l_seconds / result.seconds:.2f} 倍"
    )
    rates = bench_beam(data, device, args.repeats)
    print(f"贪心搜索：{rates[0]:,.0f} 句/秒")
    for beam_size in (1, 2, 4, 8):
        print(
            f"束搜索 束宽 {beam_size}：{rates[beam_size]:,.0f} 句/秒"
            f"（贪心搜索的 {rates[beam_size] / rates[0]:.2f} 倍）"
        )
    if args.json:
        pins = (
            "ATEN_CPU_CAPABILITY",
            "MKL_ENABLE_INSTRUCTIONS",
            "ONEDNN_MAX_CPU_ISA",
            "OMP_NUM_THREADS",
            "MKL_NUM_THREADS",
        )
        record = {
            "script": "bench/bench_seq2seq.py",
            "command": "python bench/bench_seq2seq.py "
            + " ".join(
                f"--{k.replace('_', '-')} {v}"
                for k, v in vars(args).items()
                if v is not None and k != "json"
            ),
            "date": time.strftime("%Y-%m-%d"),
            "cpu": cpu_name(),
            "cpu_count": os.cpu_count(),
            "device": str(device),
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "env": {k: os.environ.get(k) for k in pins},
            "cmn_train_tokens_per_sec": rate,
            "cmn_train_ms_per_step": ms,
            "fra_epochs": args.fra_epochs,
            "fra_book_seconds": result.seconds,
            "fra_book_tokens_per_sec": result.tokens_per_sec,
            "fra_d2l_seconds": d2l_seconds,
            "fra_d2l_tokens_per_sec": d2l_tokens / d2l_seconds,
            "fra_d2l_over_book": d2l_seconds / result.seconds,
            "greedy_sentences_per_sec": rates[0],
            "beam_sentences_per_sec": {str(k): rates[k] for k in (1, 2, 4, 8)},
            "beam_over_greedy": {str(k): rates[k] / rates[0] for k in (1, 2, 4, 8)},
        }
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False, indent=2)
            f.write("\n")
        print("结果写入", args.json)


if __name__ == "__main__":
    main()
