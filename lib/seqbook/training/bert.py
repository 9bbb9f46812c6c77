"""BERT 预训练：掩蔽语言模型（可选加上下一句预测），按优化步训练，
在留出的文本上量被遮住的字猜对了多少。

:class:`BERTConfig` 记下全部设置，:func:`seqbook.train_or_load` 按它训练一次并缓存。
"""

import collections
import dataclasses
import math
import random

import torch
import torch.nn.functional as F

from .._checks import check_positive_int, check_positive_number, check_probability
from ..data.bert_corpus import (
    BERT_SPECIAL_TOKENS,
    bert_inputs,
    mlm_mask,
    nsp_batch,
    packed_batch,
    split_sentences,
)
from ..models.bert import BERTModel
from .schedule import lr_scheduler
from .trainer import fit, prepare


@dataclasses.dataclass(frozen=True)
class BERTConfig:
    """字符级中文 BERT 的预训练设置（第 4 章）。默认值在两核 CPU 上单线程约 5 分钟。
    """
    num_hiddens: int = 128
    ffn_num_hiddens: int = 512
    num_heads: int = 4
    num_layers: int = 2
    position: str = "distance"
    max_len: int = 128
    num_steps: int = 3600      # 优化步数
    batch_size: int = 16
    seq_len: int = 64          # 每行 <cls> + 63 个字
    lr: float = 1e-3           # 峰值学习率
    warmup: float = 0.06       # 预热占总步数的比例
    mask_rate: float = 0.4
    nsp: bool = False          # 是否加上下一句预测
    num_evals: int = 12        # 训练中在留出集上评估几次
    seed: int = 0
    name: str = "bert-zh"

    def build_for(self, corpus):
        return BERTModel(len(corpus.tokenizer), num_hiddens=self.num_hiddens,
                         ffn_num_hiddens=self.ffn_num_hiddens,
                         num_heads=self.num_heads, num_layers=self.num_layers,
                         max_len=self.max_len, position=self.position)

    def train(self, model, corpus, device):
        return pretrain_bert(model, corpus, self, device)


BERT_CONFIG = BERTConfig()  # 第 4 章预训练的模型


def heldout_mlm_set(corpus, num_texts=600, rate=0.15, seed=123):
    """留出的掩蔽语言模型评估集：测试集中的评论与《人民日报》句子各一半，
    ``<cls> 文本 <sep>``，用固定的随机数按 80/10/10 规则遮住 ``rate`` 的字。
    返回 ``(inputs, valid_lens, selected, targets)``。"""
    rng = random.Random(seed)
    reviews = [t for t, _ in corpus.reviews[1]]
    sentences = ["".join(c) for c, _ in corpus.people_daily[1]]
    texts = (rng.sample(reviews, num_texts // 2)
             + rng.sample(sentences, num_texts - num_texts // 2))
    tokens, _, valid_lens = bert_inputs(corpus.tokenizer, texts)
    generator = torch.Generator().manual_seed(seed)
    inputs, selected, targets = mlm_mask(tokens, len(corpus.tokenizer), rate,
                                            generator)
    return inputs, valid_lens, selected, targets


@torch.no_grad()
def evaluate_mlm(model, heldout):
    """在 :func:`heldout_mlm_set` 上：被遮住的字猜对的比例与平均负对数似然。"""
    model.eval()
    device = next(model.parameters()).device
    inputs, valid_lens, selected, targets = (t.to(device) for t in heldout)
    _, logits, _ = model(inputs, None, valid_lens, selected)
    return {"acc": (logits.argmax(-1) == targets).float().mean().item(),
            "nll": F.cross_entropy(logits, targets).item()}


def heldout_nsp_set(corpus, num_pairs=1000, seed=123):
    """留出的下一句预测评估集：由测试集中至少两句的评论构成（正负各半）。"""
    docs = [split_sentences(t) for t, _ in corpus.reviews[1]]
    generator = torch.Generator().manual_seed(seed)
    return nsp_batch(docs, num_pairs, 64, corpus.tokenizer, generator)


@torch.no_grad()
def evaluate_nsp(model, heldout):
    model.eval()
    device = next(model.parameters()).device
    tokens, segments, valid_lens, labels = (t.to(device) for t in heldout)
    _, _, nsp_logits = model(tokens, segments, valid_lens)
    return (nsp_logits.argmax(-1) == labels).float().mean().item()


def mlm_loss(mlm_logits, targets):
    """掩蔽语言模型的损失：只在被遮住的 m 个位置上求交叉熵的平均。"""
    return F.cross_entropy(mlm_logits, targets)  # (m, V) 与 (m,)


def pretrain_bert(model, corpus, config, device=None):
    """按 ``config`` 预训练 ``model``（:class:`seqbook.BERTModel`）。

    每步：从语料流中截取 ``batch_size`` 行（加下一句预测时改为句对），按 80/10/10
    规则遮住 ``mask_rate`` 的字，只在这些位置上求损失。AdamW（只对矩阵做权重衰减），
    线性预热后按余弦降到 0，梯度裁剪到 1。训练分成 ``num_evals`` 段，每段之后在留出
    集上评估。返回 :class:`TrainResult`：``history`` 中有每段的训练损失
    ``losses``、留出集的 ``val_mlm_acc``、``val_mlm_nll``、已训练的步数
    ``steps``（加下一句预测时还有 ``val_nsp_acc``）。
    """
    _check_config(config)
    device = prepare(model, 1, config.lr, device)
    generator = torch.Generator().manual_seed(config.seed)
    stream = corpus.stream(config.seed)
    V = len(corpus.tokenizer)
    heldout = heldout_mlm_set(corpus)
    nsp_docs = _nsp_documents(corpus) if config.nsp else None
    nsp_heldout = heldout_nsp_set(corpus) if config.nsp else None

    # region loss_fn
    def batch():
        if config.nsp:
            tokens, segments, valid_lens, labels = nsp_batch(
                nsp_docs, config.batch_size, config.seq_len, corpus.tokenizer,
                generator)
        else:
            tokens = packed_batch(stream, config.batch_size, config.seq_len,
                                  generator)
            segments = valid_lens = labels = None
        inputs, selected, targets = mlm_mask(tokens, V, config.mask_rate,
                                                generator)
        return [t if t is None else t.to(device)
                for t in (inputs, segments, valid_lens, selected, targets, labels)]

    def loss_fn(model, batch):
        inputs, segments, valid_lens, selected, targets, labels = batch
        _, mlm_logits, nsp_logits = model(inputs, segments, valid_lens, selected)
        loss = mlm_loss(mlm_logits, targets)
        if labels is not None:
            loss = loss + F.cross_entropy(nsp_logits, labels)
        num_tokens = int(inputs.numel() if valid_lens is None else valid_lens.sum())
        return loss, (loss.item() * num_tokens, num_tokens)
    # endregion

    optimizer = adamw(model, config.lr)
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
        return (batch() for _ in range(steps))

    def epoch_end(metric):
        model.eval()
        out = {"losses": metric[0] / metric[1], "steps": sum(done)}
        mlm = evaluate_mlm(model, heldout)
        out.update({f"val_mlm_{k}": v for k, v in mlm.items()})
        if config.nsp:
            out["val_nsp_acc"] = evaluate_nsp(model, nsp_heldout)
        return out

    return fit(model, batches, loss_fn, optimizer, config.num_evals, device,
               epoch_end, grad_clip=1.0, scheduler=scheduler)


def adamw(model, lr, weight_decay=0.01, betas=(0.9, 0.98)):
    """AdamW：只对矩阵（线性层的权重）做权重衰减，偏置、层规范化与嵌入不衰减。"""
    decay, other = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:
            matrix = p.dim() >= 2 and "embedding" not in name
            (decay if matrix else other).append(p)
    groups = [{"params": decay, "weight_decay": weight_decay},
              {"params": other, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, betas=betas, eps=1e-6)


def mlm_baselines(corpus, heldout):
    """不看上下文与只看左右邻字的两个基线在同一批被遮住的位置上的准确率：

    ``unigram``：总猜语料中最常见的字；``bigram``：按语料中“左邻字 → 字”与
    “字 → 右邻字”的次数，猜两边条件概率之积最大的字（只数字对，不学习）。"""
    tok = corpus.tokenizer
    nspecial = len(BERT_SPECIAL_TOKENS)
    stream = corpus.stream(0).tolist()
    unigram = collections.Counter(t for t in stream if t >= nspecial)
    left, right = collections.defaultdict(collections.Counter), \
        collections.defaultdict(collections.Counter)
    for a, b in zip(stream, stream[1:]):
        left[a][b] += 1   # a 之后是 b
        right[b][a] += 1  # b 之前是 a
    top = unigram.most_common(1)[0][0]
    inputs, valid_lens, selected, targets = heldout
    tokens = inputs.clone()
    tokens[selected] = targets  # 基线看的是原文：邻字不会恰好也被遮住
    hits, rows, cols = 0, *selected.nonzero(as_tuple=True)
    for r, c, t in zip(rows.tolist(), cols.tolist(), targets.tolist()):
        prev, nxt = tokens[r, c - 1].item(), tokens[r, c + 1].item()
        scores = collections.Counter()
        for w, n in left[prev].items():
            if w >= nspecial and right[nxt][w]:
                scores[w] = math.log(n) + math.log(right[nxt][w] / unigram[w])
        guess = scores.most_common(1)[0][0] if scores else top
        hits += guess == t
    return {"unigram": (targets == top).float().mean().item(),
            "unigram_char": tok.id_to_token[top], "bigram": hits / len(targets)}


def _nsp_documents(corpus):
    """下一句预测用的文档：每条训练评论切成句子；《人民日报》的训练句子按原顺序
    作为一个长文档（相邻两句多半来自同一篇文章）。"""
    docs = [split_sentences(t) for t in corpus.documents["评论"]]
    return docs + [corpus.documents["人民日报"]]


def _check_config(config):
    check_positive_int(config.num_steps, "num_steps")
    check_positive_int(config.batch_size, "batch_size")
    check_positive_int(config.num_evals, "num_evals")
    check_positive_number(config.lr, "lr")
    check_probability(config.mask_rate, "mask_rate", low_open=True)
    check_probability(config.warmup, "warmup")
    if not 4 <= config.seq_len <= config.max_len:
        raise ValueError(f"seq_len 应在 [4, max_len={config.max_len}] 之内，"
                         f"实际得到 {config.seq_len}")
    if config.num_evals > config.num_steps:
        raise ValueError(f"num_evals={config.num_evals} 不能多于 "
                         f"num_steps={config.num_steps}")
