"""编码器-解码器的训练：遮蔽的交叉熵损失、计划采样与训练函数。"""

import math

import torch
import torch.nn.functional as F

from .._checks import check_probability
from ..data.mt_data import BOS
from ..models.attention import sequence_mask
from ..models.encoder_decoder import EncoderDecoder
from .schedule import lr_scheduler
from .trainer import fit, prepare, training_plot


def masked_cross_entropy(logits, labels, valid_lens, reduction="mean",
                         label_smoothing=0.0):
    """遮蔽交叉熵：只在有效目标词元上计算。

    参数：
        logits: ``(batch_size, num_steps, vocab_size)``。
        labels: ``(batch_size, num_steps)`` 整数。
        valid_lens: ``(batch_size,)`` 每个目标序列的有效长度（含 ``<eos>``）。
        reduction: ``"mean"`` 返回所有有效词元上的**平均**损失（除以有效词元
            总数，不是除以 ``num_steps``）；``"sum"`` 返回总和；``"none"`` 返回
            ``(batch_size, num_steps)`` 的逐位置损失（填充位置为 0）。
        label_smoothing: 标签平滑的 ε（0 为不平滑）：目标分布把 ε 的概率均匀
            分给全部词元，与 ``F.cross_entropy(label_smoothing=...)`` 相同。
    """
    check_probability(label_smoothing, "label_smoothing", high_open=True)
    if logits.dim() != 3 or labels.shape != logits.shape[:2]:
        raise ValueError(f"logits 应为 (batch_size, num_steps, vocab_size)、labels "
                         f"应为 (batch_size, num_steps)，实际为 "
                         f"{tuple(logits.shape)} 与 {tuple(labels.shape)}")
    if valid_lens.shape != labels.shape[:1]:
        raise ValueError(f"valid_lens 的形状应为 ({labels.shape[0]},)，"
                         f"实际为 {tuple(valid_lens.shape)}")
    mask = sequence_mask(valid_lens, labels.shape[1])  # (batch_size, num_steps)
    loss = F.cross_entropy(logits.transpose(1, 2), labels, reduction="none",
                           label_smoothing=label_smoothing)  # (batch, num_steps)
    loss = loss.masked_fill(~mask, 0.0)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.sum() / mask.sum().clamp(min=1)
    raise ValueError(f"reduction 应为 'mean'、'sum' 或 'none'，"
                     f"实际得到 {reduction!r}")


def decoder_inputs(Y, bos):
    """强制教学的解码器输入：``<bos>`` 加上去掉最后一个词元的目标序列。"""
    bos_column = torch.full((Y.shape[0], 1), bos, dtype=Y.dtype, device=Y.device)
    return torch.cat([bos_column, Y[:, :-1]], dim=1)  # (batch_size, num_steps)


def scheduled_sampling_logits(model, enc_X, enc_valid_lens, dec_X,
                              teacher_forcing_ratio, generator=None):
    """计划采样：逐步解码，每个位置以概率 ``teacher_forcing_ratio`` 输入真实的
    上一个词元，否则输入模型自己上一步预测（argmax）的词元。

    适用于任何遵守 :class:`seqbook.Decoder` 接口的模型；比例为 1 时与强制教学
    的整段前向给出相同的 logits。``dec_X`` ``(batch_size, num_steps)`` 是强制
    教学的解码器输入（首列为 ``<bos>``）。返回 ``(batch_size, num_steps,
    vocab_size)`` 的 logits。
    """
    check_probability(teacher_forcing_ratio, "teacher_forcing_ratio")
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


def seq2seq_loss(bos, device, teacher_forcing_ratio=1.0, generator=None,
                 label_smoothing=0.0):
    """编码器-解码器的 ``loss_fn(model, batch)``：强制教学（或计划采样）的前向，
    有效目标词元上的平均交叉熵。"""
    def loss_fn(model, batch):
        X, X_valid_len, Y, Y_valid_len = (t.to(device) for t in batch)
        dec_X = decoder_inputs(Y, bos)
        if teacher_forcing_ratio >= 1.0:
            logits = model(X, X_valid_len, dec_X)  # (batch_size, num_steps, vocab)
        else:
            logits = scheduled_sampling_logits(model, X, X_valid_len, dec_X,
                                               teacher_forcing_ratio, generator)
        loss = masked_cross_entropy(logits, Y, Y_valid_len,
                                    label_smoothing=label_smoothing)
        num_tokens = int(Y_valid_len.sum())
        return loss, (loss.detach() * num_tokens, num_tokens)
    return loss_fn


def train_seq2seq(model, data, num_epochs, lr, device=None, batch_size=64,
                  teacher_forcing_ratio=1.0, grad_clip=1.0, lr_decay=None,
                  bucket=True, plot=True, generator=None, label_smoothing=0.0,
                  warmup_steps=0):
    """用 Adam 训练一个编码器-解码器模型（任何 :class:`seqbook.EncoderDecoder`）。

    参数：
        data: :class:`seqbook.TranslationData`（用它的 ``train_iter`` 与
            ``tgt_vocab``）。
        teacher_forcing_ratio: 强制教学比例；小于 1 时用
            :func:`scheduled_sampling_logits` 逐步解码。
        grad_clip: 梯度裁剪的阈值；``None`` 不裁剪。
        lr_decay, warmup_steps: 学习率的衰减（``None``、``"cosine"`` 或
            ``"inverse_sqrt"``）与线性预热的步数，见 :func:`lr_factor`。
        bucket: 是否按长度分桶组成小批量；generator: 打乱数据与计划采样的
            随机数。label_smoothing: 标签平滑的 ε。
    返回 :class:`seqbook.TrainResult`：``losses`` 是每轮有效目标词元上的平均损失。
    """
    if not isinstance(model, EncoderDecoder):
        raise TypeError(f"model 应为 seqbook.EncoderDecoder，"
                        f"实际得到 {type(model).__name__}")
    check_probability(label_smoothing, "label_smoothing", high_open=True)
    device = prepare(model, num_epochs, lr, device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, foreach=True)
    total_steps = num_epochs * math.ceil(len(data) / batch_size)
    scheduler = lr_scheduler(optimizer, warmup_steps, lr_decay, total_steps)
    loss_fn = seq2seq_loss(data.tgt_vocab[BOS], device, teacher_forcing_ratio,
                           generator, label_smoothing)
    fig = training_plot(num_epochs, "损失") if plot else None

    def batches():  # 每轮重新打乱
        return data.train_iter(batch_size, bucket=bucket, generator=generator)

    return fit(model, batches, loss_fn, optimizer, num_epochs, device,
               lambda metric: {"losses": metric[0] / metric[1]},
               grad_clip=grad_clip, scheduler=scheduler, plot=fig)
