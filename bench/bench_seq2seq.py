"""第 2 章的基准：GRU seq2seq 的训练速度与束搜索的解码速度。

用法（在仓库根目录）::

    SEQBOOK_DATA=/path/to/data python bench/bench_seq2seq.py [--device cpu] [--threads 2]

1. 训练速度（目标词元/秒，与 :func:`seqbook.train_seq2seq` 的口径相同）：
   - 英译中：书中的设置 :data:`seqbook.seq2seq.GRU_CMN_CONFIG`，在训练集的前若干个按长度分桶的
     小批量上做前向、反向与一次 Adam 更新；
   - 经典英译法：600 个句对、两层 32 维 GRU、批量 64（《动手学深度学习》的设置），训练若干轮。
2. 束搜索速度（句/秒）：用随机初始化的书中规模的模型（速度与权重无关）翻译 1,000 个测试句子，
   束宽 1、2、4、8，每次 256 句一批；束宽 1 同时给出贪心搜索的速度作对照。
每项重复 ``--repeats`` 次取最快的一次。
"""
import argparse
import time

import torch

import seqbook
from seqbook.seq2seq import GRU_CMN_CONFIG


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
    model = seqbook.build_seq2seq(data.src_vocab, data.tgt_vocab, cfg["embed_size"],
                                  cfg["num_hiddens"], cfg["num_layers"], cfg["dropout"]).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg["lr"], foreach=True)
    bos = data.tgt_vocab["<bos>"]
    batches = []
    for i, batch in enumerate(data.train_iter(cfg["batch_size"])):
        if i == num_batches:
            break
        batches.append([t.to(device) for t in batch])
    num_tokens = sum(int(b[3].sum()) for b in batches)

    def run():
        model.train()
        for X, X_len, Y, Y_len in batches:
            logits = model(X, X_len, seqbook.decoder_inputs(Y, bos))
            loss = seqbook.masked_cross_entropy(logits, Y, Y_len)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
        return loss.item()

    seconds, _ = best_of(repeats, run, device)
    return num_tokens / seconds, 1000 * seconds / len(batches)


def bench_fra_training(device, num_epochs, repeats):
    fra = seqbook.load_translation("fra-eng", num_steps=10, max_tokens=None, num_test=0,
                                   num_examples=600)

    def run():
        seqbook.set_seed(0)
        model = seqbook.build_seq2seq(fra.src_vocab, fra.tgt_vocab, 32, 32, 2, 0.1)
        return seqbook.train_seq2seq(model, fra, num_epochs, 0.005, device, 64, plot=False)

    _, result = best_of(repeats, run, device)
    return result


def bench_beam(data, device, repeats):
    cfg = GRU_CMN_CONFIG
    seqbook.set_seed(0)
    model = seqbook.build_seq2seq(data.src_vocab, data.tgt_vocab, cfg["embed_size"],
                                  cfg["num_hiddens"], cfg["num_layers"], cfg["dropout"]).to(device).eval()
    sources = [src for src, _ in data.test_pairs]
    X, valid_len = seqbook.encode_source(sources, data.src_vocab, data.num_steps)
    X, valid_len = X.to(device), valid_len.to(device)
    bos, eos = data.tgt_vocab["<bos>"], data.tgt_vocab["<eos>"]
    chunks = [(X[i:i + 256], valid_len[i:i + 256]) for i in range(0, len(sources), 256)]

    def decode(beam_size):
        def run():
            for Xb, lb in chunks:
                if beam_size == 0:
                    seqbook.greedy_search(model, Xb, lb, bos, eos, data.num_steps)
                else:
                    seqbook.beam_search(model, Xb, lb, bos, eos, data.num_steps, beam_size)
        return run

    rates = {}
    for beam_size in (0, 1, 2, 4, 8):
        seconds, _ = best_of(repeats, decode(beam_size), device)
        rates[beam_size] = len(sources) / seconds
    return rates


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None, help="cpu、cuda 等；默认自动选择")
    parser.add_argument("--threads", type=int, default=None, help="PyTorch 的 CPU 线程数")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batches", type=int, default=40, help="英译中训练测多少个小批量")
    parser.add_argument("--fra-epochs", type=int, default=300, help="英译法训练多少轮")
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    device = seqbook.get_device(args.device)
    print(f"设备 {device}，PyTorch {torch.__version__}，CPU 线程 {torch.get_num_threads()}")
    data = seqbook.load_translation("cmn-eng", num_steps=12, max_tokens=10, num_test=1000)

    rate, ms = bench_cmn_training(data, device, args.batches, args.repeats)
    print(f"英译中 GRU seq2seq 训练：{rate:,.0f} 词元/秒（每步 {ms:.1f} 毫秒，"
          f"批量 {GRU_CMN_CONFIG['batch_size']}）")
    result = bench_fra_training(device, args.fra_epochs, 1)
    print(f"英译法 600 句对 {args.fra_epochs} 轮：{result.seconds:.1f} 秒，"
          f"{result.tokens_per_sec:,.0f} 词元/秒，损失 {result.losses[-1]:.3f}")
    rates = bench_beam(data, device, args.repeats)
    print(f"贪心搜索：{rates[0]:,.0f} 句/秒")
    for beam_size in (1, 2, 4, 8):
        print(f"束搜索 束宽 {beam_size}：{rates[beam_size]:,.0f} 句/秒")


if __name__ == "__main__":
    main()
