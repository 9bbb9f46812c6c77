"""微调 BERT：句子（对）分类与词元标注，以及“预训练 vs 随机初始化”的对照实验。

微调的做法对所有任务相同：在编码器上接一个新的输出层，所有权重一起训练；
AdamW，学习率先线性预热（前 10% 的步）再线性降到 0，梯度裁剪到 1，暂退概率 0.1。
两个对照组（预训练的编码器、随机初始化的编码器）用完全相同的设置、步数与种子。
"""

import collections
import math
import random
import statistics

import torch
import torch.nn.functional as F

from .._checks import check_positive_int, check_sized
from ..data.bert_corpus import bert_inputs, pad_rows
from ..data.bert_data import span_f1, split_examples
from ..models.bert import BERTClassifier, BERTEncoder, BERTTagger, copy_encoder
from .bert import adamw
from .schedule import lr_scheduler
from .trainer import fit, prepare

IGNORE = -100  # 不计损失的标签（<cls>、<sep> 与填充的位置）


def init_encoder(pretrained, use_pretrained, seed, dropout=0.1):
    """微调的起点：``use_pretrained=True`` 时复制预训练的编码器，
    否则构造一个同样大小、随机初始化的编码器。随后新建的输出层也由 ``seed`` 决定。
    """
    torch.manual_seed(1000 + seed)
    if use_pretrained:
        return copy_encoder(pretrained, dropout)
    config = dict(pretrained.config)
    return BERTEncoder(config.pop("vocab_size"), dropout=dropout, **config)


def steps_for(num_examples, batch_size=32, epochs=10, min_steps=60, max_steps=300):
    """微调的步数：约 ``epochs`` 轮，限制在 [min_steps, max_steps] 之内。"""
    steps = math.ceil(num_examples * epochs / batch_size)
    return max(min_steps, min(max_steps, steps))


def finetune(model, sample_batch, loss_fn, num_steps, lr=1e-3, seed=0, device=None):
    """按步数微调 ``model``：``sample_batch(generator)``
    返回一个小批量（随机抽取），``loss_fn(model, batch)``
    返回 ``(loss, (损失之和, 样本数))``。返回:class:`TrainResult`。"""
    check_positive_int(num_steps, "num_steps")
    device = prepare(model, 1, lr, device)
    generator = torch.Generator().manual_seed(seed)
    optimizer = adamw(model, lr)
    warmup = max(1, num_steps // 10)
    scheduler = lr_scheduler(optimizer, warmup, "linear", num_steps)

    def batches():
        for _ in range(num_steps):
            batch = sample_batch(generator)
            yield [t if t is None else t.to(device) for t in batch]

    def epoch_end(metric):
        return {"losses": metric[0] / metric[1]}

    return fit(model, batches, loss_fn, optimizer, 1, device, epoch_end,
               grad_clip=1.0, scheduler=scheduler)


def _sample(n, batch_size, generator):
    return torch.randint(n, (batch_size,), generator=generator).tolist()


def finetune_classifier(encoder, examples, num_classes, tokenizer, num_steps,
                        seed=0, lr=1e-3, batch_size=32, max_len=128, freeze=False,
                        device=None):
    """句子分类（样本为 ``(文本, 标签)``）或句对分类（``(文本 A, 文本 B, 标签)``）。
    ``freeze=True`` 时编码器不动，只训练输出层（线性探测）。返回训练好的
    :class:`seqbook.BERTClassifier`（``eval`` 模式）。"""
    check_sized(examples, "examples")
    encoder.requires_grad_(not freeze)
    labels = torch.tensor([ex[-1] for ex in examples])
    _check_labels(labels, num_classes)
    model = BERTClassifier(encoder, num_classes)

    def sample_batch(generator):
        idx = _sample(len(examples), batch_size, generator)
        part = [examples[i] for i in idx]
        tokens, segments, valid_lens = _inputs(tokenizer, part, max_len)
        return tokens, segments, valid_lens, labels[idx]

    def loss_fn(model, batch):
        tokens, segments, valid_lens, y = batch
        loss = F.cross_entropy(model(tokens, segments, valid_lens), y)
        return loss, (loss.item() * len(y), len(y))

    finetune(model, sample_batch, loss_fn, num_steps, lr, seed, device)
    return model


@torch.no_grad()
def classification_accuracy(model, tokenizer, examples, max_len=128,
                            batch_size=256):
    """分类准确率：样本为 ``(文本, 标签)`` 或 ``(文本 A, 文本 B, 标签)``。"""
    model.eval()
    device = next(model.parameters()).device
    correct = 0
    for i in range(0, len(examples), batch_size):
        part = examples[i:i + batch_size]
        inputs = (t.to(device) for t in _inputs(tokenizer, part, max_len))
        y = torch.tensor([ex[-1] for ex in part], device=device)
        correct += (model(*inputs).argmax(-1) == y).sum().item()
    return correct / len(examples)


def _inputs(tokenizer, examples, max_len):
    if len(examples[0]) == 3:  # 句对
        return bert_inputs(tokenizer, [ex[0] for ex in examples],
                           [ex[1] for ex in examples], max_len)
    return bert_inputs(tokenizer, [ex[0] for ex in examples], max_len=max_len)


def tagging_chunks(examples, tokenizer, tag_names, max_len=64):
    """把 ``(字的列表, 标签的列表)`` 切成至多 ``max_len - 2`` 个字的片段，每段
    ``<cls> 字… <sep>``；标签换成索引，``<cls>``、``<sep>`` 处为 -100（不计损失）。
    返回 ``[(词元索引的列表, 标签索引的列表, 句子编号)]``。"""
    tag_id = {t: i for i, t in enumerate(tag_names)}
    cls, sep = tokenizer.special_id("<cls>"), tokenizer.special_id("<sep>")
    chunks, width = [], max_len - 2
    for k, (chars, tags) in enumerate(examples):
        if len(chars) != len(tags):
            raise ValueError(f"第 {k} 句有 {len(chars)} 个字、{len(tags)} 个标签："
                             "应相同")
        for s in range(0, len(chars), width):
            ids = tokenizer.encode("".join(chars[s:s + width]))
            y = [tag_id[t] for t in tags[s:s + width]]
            chunks.append(([cls] + ids + [sep], [IGNORE] + y + [IGNORE], k))
    return chunks


def finetune_tagger(encoder, examples, tag_names, tokenizer, num_steps, seed=0,
                    lr=1e-3, batch_size=32, max_len=64, device=None):
    """词元标注（如命名实体识别）：样本为 ``(字的列表, BIO 标签的列表)``。
    返回训练好的 :class:`seqbook.BERTTagger`（``eval`` 模式）。"""
    chunks = tagging_chunks(examples, tokenizer, tag_names, max_len)
    model = BERTTagger(encoder, len(tag_names))

    def sample_batch(generator):
        part = [chunks[i] for i in _sample(len(chunks), batch_size, generator)]
        tokens, _ = pad_rows([c[0] for c in part], tokenizer.pad_id)
        y, _ = pad_rows([c[1] for c in part], IGNORE)
        return tokens, torch.tensor([len(c[0]) for c in part]), y

    # region loss
    def loss_fn(model, batch):
        tokens, valid_lens, y = batch
        logits = model(tokens, None, valid_lens)  # (b, n, 标签数)
        loss = F.cross_entropy(logits.flatten(0, 1), y.flatten(),
                               ignore_index=IGNORE)
        n = int((y != IGNORE).sum())
        return loss, (loss.item() * n, n)
    # endregion

    finetune(model, sample_batch, loss_fn, num_steps, lr, seed, device)
    return model


@torch.no_grad()
def predict_tags(model, tokenizer, examples, tag_names, max_len=64, batch_size=128):
    """每句预测的标签序列（片段的预测按原顺序接回整句）。"""
    model.eval()
    device = next(model.parameters()).device
    chunks = tagging_chunks(examples, tokenizer, tag_names, max_len)
    pred = collections.defaultdict(list)
    for i in range(0, len(chunks), batch_size):
        part = chunks[i:i + batch_size]
        tokens, _ = pad_rows([c[0] for c in part], tokenizer.pad_id)
        valid_lens = torch.tensor([len(c[0]) for c in part])
        out = model(tokens.to(device), None, valid_lens.to(device)).argmax(-1)
        for row, (ids, _, k) in zip(out.tolist(), part):
            pred[k] += [tag_names[j] for j in row[1:len(ids) - 1]]
    return [pred[k] for k in range(len(examples))]


def tagging_f1(model, tokenizer, examples, tag_names, max_len=64):
    """实体级别的 F1（区间与类别都对才算对，见 :func:`seqbook.span_f1`）。"""
    pred = predict_tags(model, tokenizer, examples, tag_names, max_len)
    return span_f1([tags for _, tags in examples], pred)["f1"]


def compare_pretraining(run, budgets, seeds=(0, 1, 2)):
    """对照实验：对每个标注预算 n 与种子，``run(use_pretrained, n, seed)`` 返回
    测试集上的分数。返回 ``{(组, n): [各种子的分数]}``，组为 ``"预训练"`` 或
    ``"随机初始化"``。"""
    results = {}
    for n in budgets:
        for name, use_pretrained in (("预训练", True), ("随机初始化", False)):
            results[(name, n)] = [run(use_pretrained, n, seed) for seed in seeds]
    return results


def mean_std(values):
    """均值与样本标准差（一个值时标准差为 0）。"""
    values = list(values)
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return statistics.fmean(values), std


def sample_labelled(examples, n, seed):
    """从训练集中按种子抽 n 个有标注的样本（n 为 None 时全部）。"""
    if n is None or n >= len(examples):
        return list(examples)
    return random.Random(seed).sample(list(examples), n)


def bag_of_chars_baseline(train, test, seed=0, penalties=(1e-4, 1e-3, 1e-2, 1e-1)):
    """“字袋”逻辑回归基线：特征是每个字出现与否，L2 正则的强度在训练集中留出的
    20% 上选。样本为 ``(文本, 0 或 1)``，返回测试集准确率。"""
    fit_part, val_part = split_examples(train, 0.2, seed, stratify=lambda ex: ex[1])
    vocab = {c: i for i, c in enumerate(sorted({c for t, _ in train for c in t}))}

    def features(examples):
        X = torch.zeros(len(examples), len(vocab))
        for r, (text, _) in enumerate(examples):
            X[r, [vocab[c] for c in set(text) if c in vocab]] = 1.0
        return X, torch.tensor([float(y) for _, y in examples])

    def fit_lr(X, y, penalty):
        w = torch.zeros(X.shape[1], requires_grad=True)
        b = torch.zeros(1, requires_grad=True)
        opt = torch.optim.LBFGS([w, b], max_iter=200, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = F.binary_cross_entropy_with_logits(X @ w + b, y)
            loss = loss + penalty * (w ** 2).sum()
            loss.backward()
            return loss
        opt.step(closure)
        return lambda X: ((X @ w + b) > 0).float()

    def accuracy(predict, examples):
        X, y = features(examples)
        return (predict(X) == y).float().mean().item()

    Xf, yf = features(fit_part)
    best = max(penalties, key=lambda p: accuracy(fit_lr(Xf, yf, p), val_part))
    return accuracy(fit_lr(*features(train), best), test)


def _check_labels(labels, num_classes):
    if labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"标签应在 [0, {num_classes}) 之内，实际范围 "
                         f"[{int(labels.min())}, {int(labels.max())}]")
