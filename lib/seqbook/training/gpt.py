"""GPT 预训练：下一个词元预测，按优化步训练，在留出的诗上量每个字的比特数。

:class:`GPTConfig` 记下全部设置，:func:`seqbook.train_or_load` 按它训练一次并缓存。
"""

import collections
import dataclasses
import math

import torch
import torch.nn.functional as F

from .._checks import check_positive_int, check_positive_number, check_probability
from ..data.gpt_data import lm_windows
from ..models.gpt import GPT
from .bert import adamw
from .schedule import lr_scheduler
from .trainer import fit, prepare


@dataclasses.dataclass(frozen=True)
class GPTConfig:
    """字符级中文 GPT 的预训练设置（第 5 章）。默认值在两核 CPU 上单线程约
    三到四分钟：同样的时间里，2 层的模型比 4 层的多走一半的步数，留出诗上更好。"""
    num_hiddens: int = 128
    ffn_num_hiddens: int = 512
    num_heads: int = 4
    num_layers: int = 2
    position: str = "learned"
    max_len: int = 128
    dropout: float = 0.0
    num_steps: int = 1800      # 优化步数
    batch_size: int = 16
    seq_len: int = 64          # 训练窗口的长度
    lr: float = 3e-3           # 峰值学习率
    warmup: float = 0.05       # 预热占总步数的比例
    num_evals: int = 6         # 训练中在留出集上评估几次
    eval_max_chars: int = 62   # 留出评估诗的最大字数
    seed: int = 0
    name: str = "gpt-tang"

    def build_for(self, corpus):
        return GPT(len(corpus.tokenizer), self.num_hiddens, self.ffn_num_hiddens,
                   self.num_heads, self.num_layers, self.max_len, self.dropout,
                   self.position)

    def train(self, model, corpus, device):
        return pretrain_gpt(model, corpus, self, device)


GPT_CONFIG = GPTConfig()  # 第 5 章的主模型


def lm_loss(logits, Y):
    """下一个词元预测的损失：全部位置上交叉熵的平均。logits ``(b, n, V)``，
    Y ``(b, n)``。"""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), Y.reshape(-1))


@torch.no_grad()
def poem_nll(model, corpus, texts, batch_size=64, by_position=False):
    """每首诗 ``<bos> 正文 <eos>`` 的总负对数似然（纳特，从 ``<bos>`` 之后的第一个
    词元算到 ``<eos>``）。返回 ``(每首的负对数似然 (m,), 每首的字数 + 1 (m,))``：
    ``+1`` 是 ``<eos>``，它在两种分词下都是一个要预测的符号。

    ``by_position=True`` 时改为返回 ``(各位置的平均负对数似然 (n,), 各位置参与平均
    的诗数 (n,))``：第 i 个元素是预测第 i + 1 个词元时的损失（看位置长度外推用）。
    """
    if not texts:
        raise ValueError("texts 为空：至少要有一首诗才能评估")
    model.eval()
    device = next(model.parameters()).device
    pad = corpus.tokenizer.pad_id
    seqs = [corpus.encode_poem(t) for t in texts]
    nll = torch.zeros(len(seqs), dtype=torch.float64)
    longest = max(len(x) for x in seqs) - 1
    pos_sum = torch.zeros(longest, dtype=torch.float64)
    pos_count = torch.zeros(longest, dtype=torch.float64)
    for s in range(0, len(seqs), batch_size):
        chunk = seqs[s:s + batch_size]
        n = max(len(x) for x in chunk)
        X = torch.full((len(chunk), n), pad, dtype=torch.long)
        for i, x in enumerate(chunk):
            X[i, :len(x)] = torch.tensor(x)
        X = X.to(device)
        logits, _ = model(X[:, :-1])  # (m, n-1, V)
        Y = X[:, 1:]
        loss = F.cross_entropy(logits.transpose(1, 2).float(), Y,
                               reduction="none")  # (m, n-1)
        loss = loss.masked_fill(Y == pad, 0.0).double().cpu()
        nll[s:s + len(chunk)] = loss.sum(1)
        pos_sum[:n - 1] += loss.sum(0)
        pos_count[:n - 1] += (Y != pad).sum(0).double().cpu()
    if by_position:
        return pos_sum / pos_count.clamp(min=1), pos_count
    chars = torch.tensor([len(t) + 1 for t in texts], dtype=torch.float64)
    return nll, chars


def bits_per_char(model, corpus, texts):
    """留出诗上每个字（含 ``<eos>``）的平均比特数：总负对数似然 / 总字数 / ln 2。
    比特数与分词无关：字符分词与 BPE 的模型可以直接比较。"""
    nll, chars = poem_nll(model, corpus, texts)
    return (nll.sum() / chars.sum()).item() / math.log(2)


def ngram_bits_per_char(corpus, texts, n):
    """一元（``n=1``）与二元（``n=2``）字模型在同一组留出诗上的每字比特数
    （加一平滑，二元模型对 ``P(字 | 前一字)`` 与一元模型按 0.9 : 0.1 插值）。
    只在训练诗上计数；``<bos>`` 与 ``<eos>`` 也是符号。"""
    uni, bi = collections.Counter(), collections.Counter()
    for p in corpus.train:
        seq = ["<bos>"] + list(p.text) + ["<eos>"]
        uni.update(seq[1:])
        bi.update(zip(seq, seq[1:]))
    prev = collections.Counter()
    for (a, _), c in bi.items():
        prev[a] += c
    total, V = sum(uni.values()), len(uni) + 1
    bits = chars = 0.0
    for t in texts:
        seq = ["<bos>"] + list(t) + ["<eos>"]
        for a, b in zip(seq, seq[1:]):
            p1 = (uni[b] + 1) / (total + V)
            p = p1 if n == 1 else 0.9 * bi[(a, b)] / max(prev[a], 1) + 0.1 * p1
            if n == 2 and prev[a] == 0:
                p = p1
            bits -= math.log2(p)
            chars += 1
    return bits / chars


def pretrain_gpt(model, corpus, config, device=None):
    """按 ``config`` 训练 ``model``（:class:`seqbook.GPT`）。

    每步从训练词元流中随机截取 ``batch_size`` 个长 ``seq_len`` 的窗口，预测每个位置
    的下一个词元。AdamW（只对矩阵做权重衰减），线性预热后按余弦降到 0，
    梯度裁剪到 1。
    训练分成 ``num_evals`` 段，每段之后在留出诗上评估。返回 :class:`TrainResult`：
    ``history`` 中有每段的训练损失 ``losses``、留出诗的每字比特数 ``val_bpc``
    与已训练的步数 ``steps``。
    """
    _check_config(config)
    device = prepare(model, 1, config.lr, device)
    generator = torch.Generator().manual_seed(config.seed)
    heldout = corpus.heldout(max_chars=config.eval_max_chars, limit=500)

    # region loss_fn
    def loss_fn(model, batch):
        X, Y = (t.to(device) for t in batch)
        logits, _ = model(X)  # (b, n, V)
        loss = lm_loss(logits, Y)
        return loss, (loss.item() * Y.numel(), Y.numel())
    # endregion

    optimizer = adamw(model, config.lr, weight_decay=0.1, betas=(0.9, 0.99))
    total = config.num_steps
    scheduler = lr_scheduler(optimizer, max(1, round(total * config.warmup)),
                             "cosine", total)
    n = config.num_evals
    bounds = [round(total * (i + 1) / n) for i in range(n)]
    segments = [b - a for a, b in zip([0] + bounds, bounds)]  # 每段的步数
    done = []

    def batches():
        steps = segments[len(done)]
        done.append(steps)
        return (lm_windows(corpus.stream, config.batch_size, config.seq_len,
                           generator) for _ in range(steps))

    def epoch_end(metric):
        return {"losses": metric[0] / metric[1], "steps": sum(done),
                "val_bpc": bits_per_char(model, corpus, heldout)}

    return fit(model, batches, loss_fn, optimizer, n, device, epoch_end,
               grad_clip=1.0, scheduler=scheduler)


def _check_config(config):
    check_positive_int(config.num_steps, "num_steps")
    check_positive_int(config.batch_size, "batch_size")
    check_positive_int(config.num_evals, "num_evals")
    check_positive_number(config.lr, "lr")
    check_probability(config.warmup, "warmup")
    if config.position == "learned" and config.seq_len > config.max_len:
        raise ValueError(f"seq_len={config.seq_len} 不能超过 "
                         f"max_len={config.max_len}")
    if config.num_evals > config.num_steps:
        raise ValueError(f"num_evals={config.num_evals} 不能多于 "
                         f"num_steps={config.num_steps}")
