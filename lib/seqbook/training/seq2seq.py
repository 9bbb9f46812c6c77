"""编码器-解码器的训练：遮蔽的交叉熵损失、计划采样、训练循环、配置与缓存。"""

import dataclasses
import math

import torch
import torch.nn.functional as F
from torch import nn

from .._checks import check_positive_int
from ..data.mt_data import BOS
from ..display.plotting import TrainingPlot
from ..models.attention import sequence_mask
from ..models.encoder_decoder import EncoderDecoder
from ..models.seq2seq import build_seq2seq
from ..utils import Accumulator, Timer, get_device

# 英译中 Bahdanau 模型的设置（第 3 章“Bahdanau 注意力”一节）：训练时间与第 2 章
# GRU_CMN_CONFIG 的 GRU seq2seq 相近（两核 CPU 上约 90 秒）
BAHDANAU_CMN_CONFIG = {"embed_size": 256, "num_hiddens": 256, "num_layers": 1, "dropout": 0.1,
                       "lr": 0.005, "batch_size": 64, "num_epochs": 4, "lr_decay": "cosine",
                       "seed": 0}


def masked_cross_entropy(logits, labels, valid_lens, reduction="mean", label_smoothing=0.0):
    """遮蔽交叉熵：只在有效目标词元上计算。

    参数：
        logits: ``(batch_size, num_steps, vocab_size)``。
        labels: ``(batch_size, num_steps)`` 整数。
        valid_lens: ``(batch_size,)`` 每个目标序列的有效长度（含 ``<eos>``）。
        reduction: ``"mean"`` 返回所有有效词元上的**平均**损失（除以有效词元总数，
            不是除以 ``num_steps``）；``"sum"`` 返回总和；``"none"`` 返回
            ``(batch_size, num_steps)`` 的逐位置损失（填充位置为 0）。
        label_smoothing: 标签平滑的 ε（0 为不平滑）：目标分布把 ε
            的概率均匀分给全部词元，与 ``F.cross_entropy(label_smoothing=...)`` 相同。
    """
    if not 0.0 <= label_smoothing < 1.0:
        raise ValueError(f"label_smoothing 应在 [0, 1) 内，实际得到 {label_smoothing!r}")
    if logits.dim() != 3 or labels.shape != logits.shape[:2]:
        raise ValueError(f"logits 应为 (batch_size, num_steps, vocab_size)、labels 应为 "
                         f"(batch_size, num_steps)，实际为 {tuple(logits.shape)} 与 {tuple(labels.shape)}")
    if valid_lens.shape != labels.shape[:1]:
        raise ValueError(f"valid_lens 的形状应为 ({labels.shape[0]},)，实际为 {tuple(valid_lens.shape)}")
    mask = sequence_mask(valid_lens, labels.shape[1])  # (batch_size, num_steps)；检查 valid_lens 非负
    loss = F.cross_entropy(logits.transpose(1, 2), labels, reduction="none",
                           label_smoothing=label_smoothing)  # (batch_size, num_steps)
    loss = loss.masked_fill(~mask, 0.0)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.sum() / mask.sum().clamp(min=1)
    raise ValueError(f"reduction 应为 'mean'、'sum' 或 'none'，实际得到 {reduction!r}")


def decoder_inputs(Y, bos):
    """强制教学的解码器输入：``<bos>`` 加上去掉最后一个词元的目标序列，形状同 ``Y``。"""
    bos_column = torch.full((Y.shape[0], 1), bos, dtype=Y.dtype, device=Y.device)
    return torch.cat([bos_column, Y[:, :-1]], dim=1)  # (batch_size, num_steps)


def scheduled_sampling_logits(model, enc_X, enc_valid_lens, dec_X, teacher_forcing_ratio,
                              generator=None):
    """计划采样：逐步解码，每个位置以概率 ``teacher_forcing_ratio`` 输入真实的上一个词元，
    否则输入模型自己上一步预测（argmax）的词元。

    适用于任何遵守 :class:`seqbook.Decoder` 接口的模型。比例为 1 时与强制教学的整段前向
    给出相同的 logits。
    参数：``dec_X`` ``(batch_size, num_steps)`` 强制教学的解码器输入（首列为 ``<bos>``）。
    返回：``(batch_size, num_steps, vocab_size)`` 的 logits。
    """
    if not 0.0 <= teacher_forcing_ratio <= 1.0:
        raise ValueError(f"teacher_forcing_ratio 应在 [0, 1] 内，实际得到 {teacher_forcing_ratio!r}")
    state = model.init_decoder_state(enc_X, enc_valid_lens)
    inputs, all_logits = dec_X[:, :1], []
    for t in range(dec_X.shape[1]):
        logits, state = model.decoder(inputs, state)  # (batch_size, 1, vocab_size)
        all_logits.append(logits)
        if t + 1 < dec_X.shape[1]:
            predicted = logits.argmax(dim=-1)          # (batch_size, 1)
            coin = torch.rand(dec_X.shape[0], 1, generator=generator, device="cpu")
            use_truth = (coin < teacher_forcing_ratio).to(dec_X.device)
            inputs = torch.where(use_truth, dec_X[:, t + 1:t + 2], predicted)
    return torch.cat(all_logits, dim=1)


@dataclasses.dataclass
class Seq2SeqTrainResult:
    """训练记录：每轮的平均损失（每个有效目标词元）、总秒数、处理的目标词元数与速度。"""
    losses: list
    seconds: float
    num_tokens: int
    tokens_per_sec: float
    device: str

    def summary(self):
        return (f"损失 {self.losses[-1]:.3f}，{self.tokens_per_sec:,.0f} 词元/秒，"
                f"共 {self.seconds:.1f} 秒，设备 {self.device}")


def train_seq2seq(model, data, num_epochs, lr, device=None, batch_size=64,
                  teacher_forcing_ratio=1.0, grad_clip=1.0, lr_decay=None, bucket=True,
                  plot=True, generator=None, label_smoothing=0.0, warmup_steps=0):
    """训练一个编码器-解码器模型（任何 :class:`seqbook.EncoderDecoder`）。

    参数：
        model: 编码器-解码器模型。
        data: :class:`seqbook.TranslationData`（用其 ``train_iter`` 与 ``tgt_vocab``）。
        num_epochs: 训练轮数（正整数）。
        lr: Adam 的学习率。
        device: 计算设备，默认 :func:`seqbook.get_device`。
        batch_size: 批量大小。
        teacher_forcing_ratio: 强制教学比例；1 为完全强制教学（一次整段前向），
            小于 1 时用 :func:`scheduled_sampling_logits` 逐步解码。
        grad_clip: 梯度范数裁剪的阈值；``None`` 不裁剪。
        lr_decay: ``None`` 学习率不变；``"cosine"`` 在训练过程中按余弦曲线降到 0。
        bucket: 是否按长度分桶组成小批量（见 :meth:`TranslationData.train_iter`）。
        plot: 是否画训练曲线。
        generator: 打乱数据与计划采样用的 ``torch.Generator``；默认用全局随机数生成器。
        label_smoothing: 标签平滑的 ε（见 :func:`masked_cross_entropy`），默认 0。
            打印与返回的损失是带平滑的训练目标。
        warmup_steps: 学习率预热的步数：前 ``warmup_steps`` 个优化步学习率从接近 0 线性升到
            ``lr``（再与 ``lr_decay`` 相乘），默认 0 不预热。
    返回：:class:`Seq2SeqTrainResult`。
    """
    if not isinstance(model, EncoderDecoder):
        raise TypeError(f"model 应为 seqbook.EncoderDecoder，实际得到 {type(model).__name__}")
    check_positive_int(num_epochs, "num_epochs")
    if not lr > 0:
        raise ValueError(f"lr 应为正数，实际得到 {lr!r}")
    if lr_decay not in (None, "cosine"):
        raise ValueError(f"lr_decay 应为 None 或 'cosine'，实际得到 {lr_decay!r}")
    if not isinstance(warmup_steps, int) or isinstance(warmup_steps, bool) or warmup_steps < 0:
        raise ValueError(f"warmup_steps 应为非负整数，实际得到 {warmup_steps!r}")
    if not 0.0 <= label_smoothing < 1.0:
        raise ValueError(f"label_smoothing 应在 [0, 1) 内，实际得到 {label_smoothing!r}")
    device = get_device() if device is None else torch.device(device)
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, foreach=True)
    num_batches = math.ceil(len(data) / batch_size)
    total_steps = num_epochs * num_batches

    def lr_factor(step):  # 第 step 个优化步（从 0 开始）的学习率倍率
        factor = 0.5 * (1 + math.cos(math.pi * step / total_steps)) if lr_decay == "cosine" else 1.0
        return factor * min(1.0, (step + 1) / warmup_steps) if warmup_steps else factor

    use_schedule = lr_decay is not None or warmup_steps > 0
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor) if use_schedule else None
    bos = data.tgt_vocab[BOS]
    figure = TrainingPlot(xlabel="轮", ylabel="损失", xlim=[1, num_epochs]) if plot else None
    plot_every = max(1, num_epochs // 50)
    losses, timer, total_tokens = [], Timer(), 0
    model.train()
    for epoch in range(num_epochs):
        metric = Accumulator(2)  # 损失之和，有效目标词元数
        timer.start()
        for X, X_valid_len, Y, Y_valid_len in data.train_iter(batch_size, bucket=bucket,
                                                              generator=generator):
            X, X_valid_len = X.to(device), X_valid_len.to(device)
            Y, Y_valid_len = Y.to(device), Y_valid_len.to(device)
            dec_X = decoder_inputs(Y, bos)
            if teacher_forcing_ratio >= 1.0:
                logits = model(X, X_valid_len, dec_X)  # (batch_size, num_steps, vocab_size)
            else:
                logits = scheduled_sampling_logits(model, X, X_valid_len, dec_X,
                                                   teacher_forcing_ratio, generator)
            loss = masked_cross_entropy(logits, Y, Y_valid_len, label_smoothing=label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if grad_clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            num_tokens = int(Y_valid_len.sum())
            metric.add(loss.detach() * num_tokens, num_tokens)
        timer.stop()
        total_tokens += int(metric[1])
        losses.append(metric[0] / metric[1])
        if figure is not None and ((epoch + 1) % plot_every == 0 or epoch + 1 == num_epochs):
            figure.add(epoch + 1, [losses[-1]])  # 至多重画约 50 次
    model.eval()
    seconds = timer.sum()
    return Seq2SeqTrainResult(losses, seconds, total_tokens, total_tokens / seconds, str(device))


# 英译中 GRU seq2seq 的设置：在两核 CPU 上训练约 90 秒（见第 2 章“序列到序列学习”一节）
GRU_CMN_CONFIG = {"embed_size": 128, "num_hiddens": 256, "num_layers": 1, "dropout": 0.2,
                  "lr": 0.005, "batch_size": 128, "num_epochs": 5, "lr_decay": None,
                  "seed": 0}


def train_or_load_seq2seq(data, device, config=None, name="gru-seq2seq-cmn", build=None):
    """构造一个编码器-解码器模型并训练它；同样的设置与数据训练过一次后直接从缓存载入。

    参数：
        data: :class:`seqbook.TranslationData`。
        device: 计算设备。
        config: 超参数字典，默认 :data:`GRU_CMN_CONFIG`。
        name: 检查点的名字。
        build: 构造模型的函数 ``build(src_vocab, tgt_vocab, embed_size, num_hiddens, num_layers,
            dropout)``，默认 :func:`build_seq2seq`（第 3 章用它缓存 Bahdanau 模型）。
    返回：``(model, record, loaded)``：模型（``eval`` 模式）、训练记录（``losses``、
        ``tokens_per_sec``、``seconds``、``device`` 等，两条路径完全相同）与是否来自缓存。
    """
    from .checkpoint import load_or_train
    from ..utils import set_seed
    config = dict(GRU_CMN_CONFIG if config is None else config)
    build = build_seq2seq if build is None else build
    set_seed(config["seed"])
    model = build(data.src_vocab, data.tgt_vocab, config["embed_size"],
                  config["num_hiddens"], config["num_layers"], config["dropout"]).to(device)

    def train():
        result = train_seq2seq(model, data, config["num_epochs"], config["lr"], device,
                               config["batch_size"], lr_decay=config["lr_decay"], plot=False)
        return dataclasses.asdict(result)

    record, loaded = load_or_train(name, {**config, "data": data.fingerprint}, model, train, device)
    model.eval()
    return model, record, loaded
