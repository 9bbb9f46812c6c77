r"""通用的解码搜索：贪心搜索、穷举搜索、批量束搜索（与词表无关，只处理词元索引；
翻译的词表处理见 :mod:`seqbook.inference.translate`）。

它们只通过 :class:`seqbook.EncoderDecoder` 的接口使用模型：
``model.init_decoder_state(enc_X, enc_valid_lens)`` 得到初始状态，
``model.decoder(X_t, state)`` 前进一步（``X_t`` 形状 ``(batch_size, 1)``），
``model.decoder.reorder_state(state, index)`` 重排批量中的行。
所以它们适用于 GRU seq2seq、Bahdanau 注意力与 Transformer（状态可以是嵌套的
tuple / dict，例如键值缓存）。

候选序列 :math:`y_1, \dots, y_L` 的得分（长度归一化）：

.. math::

   \mathrm{score}(y) = \frac{1}{L^{\alpha}}
   \sum_{t=1}^{L} \log P(y_t \mid y_{<t}, x)

其中 :math:`L` 是序列长度（以 ``<eos>`` 结束时把 ``<eos>``
计入），:math:`\alpha = 0`
就是对数概率本身。
"""

import math

import torch
import torch.nn.functional as F

from .._checks import (
    check_index,
    check_indices,
    check_lengths,
    check_positive_int,
    check_tokens,
)
from ..models.encoder_decoder import EncoderDecoder, vocab_sizes


def _check_args(model, enc_X, enc_valid_lens, max_len, bos, eos, banned,
                beam_size=1):
    """检查解码函数的参数。

    返回：``(banned, highest)``：不许生成的词元（含 ``<bos>``）的索引张量
        ``(num_banned,)``，
    以及 bos、eos、banned 中最大的索引（与解码器实际输出的词表大小比较用）。
    """
    if not isinstance(model, EncoderDecoder):
        raise TypeError("model 应为 seqbook.EncoderDecoder，实际得到 "
                        f"{type(model).__name__}")
    check_tokens(enc_X, "enc_X")
    if enc_valid_lens is not None:
        check_lengths(enc_valid_lens, "enc_valid_lens")
        if enc_valid_lens.shape != enc_X.shape[:1]:
            raise ValueError("enc_valid_lens 的形状应为 "
                             f"(batch_size,)={tuple(enc_X.shape[:1])}，"
                             f"实际为 {tuple(enc_valid_lens.shape)}")
    check_positive_int(max_len, "max_len")
    check_positive_int(beam_size, "beam_size")
    sizes = vocab_sizes(model.decoder)
    # 目标词表大小（看不出来时为 None）
    size = min(sizes.values()) if sizes else None
    bos, eos = check_index(bos, "bos", size), check_index(eos, "eos", size)
    if bos == eos:
        raise ValueError(f"bos 与 eos 应为不同的词元，实际都是 {bos}")
    banned = sorted({bos, *check_indices(banned, "banned", size)})
    if eos in banned:
        raise ValueError(f"banned 不能包含 eos（{eos}）：否则译文永远不会结束")
    banned_ids = torch.tensor(banned, dtype=torch.long, device=enc_X.device)
    return banned_ids, max(banned[-1], eos)


def _next_log_probs(logits, banned, highest, alive):
    """解码器一步的输出 → 下一个词元的对数概率，不许生成的词元置为 -inf。

    参数：logits ``(n, 1, vocab_size)``；banned ``(num_banned,)`` 词元索引；highest
        是bos、eos、banned 中最大的索引；alive ``(n,)`` 布尔，哪些行的结果会被用到
        （已结束或空的候选不检查）。
    返回：``(n, vocab_size)``。这些行出现 NaN（模型输出 NaN 或无穷大）、
        或者允许的词元
    概率全为 0 时抛出 ``ValueError``，而不是悄悄选出一个词元或在后面崩溃。
    """
    log_probs = F.log_softmax(logits[:, -1].float(), dim=-1)     # (n, vocab_size)
    if highest >= log_probs.shape[-1]:
        raise ValueError(f"bos、eos 或 banned 中的索引 {highest} 超出了解码器输出的"
                         f"词表大小 {log_probs.shape[-1]}")
    has_nan = log_probs.isnan().any(dim=-1) & alive                # (n,)
    # 不许生成 <bos>、<unk>、<pad> 等
    log_probs = log_probs.index_fill(1, banned, float("-inf"))
    impossible = torch.isinf(log_probs).all(dim=-1) & alive        # (n,)
    # 一次同步
    has_nan, impossible = torch.stack([has_nan.any(), impossible.any()]).tolist()
    if has_nan:
        raise ValueError("解码器输出的 logits 含 NaN 或无穷大，对数概率是 NaN，"
                         "无法解码："
                         "模型的权重或输入可能已经损坏（例如训练发散）")
    if impossible:
        raise ValueError("除了不许生成的词元，模型给所有词元的概率都是 0，无法解码")
    return log_probs


def length_normalized(log_prob, length, alpha):
    """长度归一化的得分 ``log_prob / length ** alpha``（``length`` ≥ 1）。"""
    return log_prob / (length ** alpha)


def _strip(tokens, eos):
    """截到第一个 ``<eos>`` 之前（不含 ``<eos>``）。"""
    return tokens[:tokens.index(eos)] if eos in tokens else tokens


@torch.no_grad()
def greedy_search(model, enc_X, enc_valid_lens, bos, eos, max_len, banned=()):
    """批量贪心搜索：每一步取概率最大的词元，直到 ``<eos>`` 或 ``max_len`` 个词元。

    参数：
        model: :class:`seqbook.EncoderDecoder`（调用前应已 ``model.eval()``）。
        enc_X: ``(batch_size, num_steps)`` 源序列；``enc_valid_lens``:
            ``(batch_size,)`` 或 ``None``。
        bos, eos: 目标词表中 ``<bos>``、``<eos>`` 的索引。
        max_len: 最多生成的词元数（含 ``<eos>``）。
        banned: 另外不许生成的词元索引（:func:`translate` 传入 ``<unk>`` 与
            ``<pad>``）。
    ``<bos>`` 与 ``banned`` 中的词元永远不会被生成：选择之前把它们的对数概率置为
    -inf。模型输出 NaN 或无穷大时抛出 ``ValueError``。
    返回：``(outputs, log_probs)``：``outputs`` 是 ``batch_size`` 个词元索引列表（不
        含 ``<eos>``），``log_probs`` 是 ``(batch_size,)`` 的序列对数概率（含
        ``<eos>`` 那一步）。
    """
    banned, highest = _check_args(model, enc_X, enc_valid_lens, max_len, bos, eos,
                                  banned)
    state = model.init_decoder_state(enc_X, enc_valid_lens)
    batch_size = enc_X.shape[0]
    inputs = torch.full((batch_size, 1), bos, dtype=torch.long, device=enc_X.device)
    finished = torch.zeros(batch_size, dtype=torch.bool, device=enc_X.device)
    log_probs = torch.zeros(batch_size, device=enc_X.device)
    steps = []
    for _ in range(max_len):
        logits, state = model.decoder(inputs, state)  # (batch_size, 1, V)
        step = _next_log_probs(logits, banned, highest, ~finished)
        best_log_prob, inputs = step.max(dim=-1, keepdim=True)  # (batch_size, 1)
        log_probs += best_log_prob.squeeze(1).masked_fill(finished, 0.0)
        steps.append(inputs)
        finished |= inputs.squeeze(1) == eos
        if bool(finished.all()):
            break
    outputs = torch.cat(steps, dim=1).tolist()  # (batch_size, steps)
    return [_strip(row, eos) for row in outputs], log_probs


@torch.no_grad()
def beam_search(model, enc_X, enc_valid_lens, bos, eos, max_len, beam_size,
                alpha=0.75, banned=()):
    """批量束搜索，带长度归一化与 ``<eos>`` 处理。

    每一步把每句的（至多）``beam_size`` 条存活候选各扩展一个词元，按累计对数概率取前
    ``beam_size`` 个；其中以 ``<eos>`` 结尾的移入“已完成”集合，不再扩展（存活候选随
    之减少），其余继续。所有候选都完成、或生成了 ``max_len`` 个词元时停止（此时仍存
    活的候选也算完成）。最后在已完成的候选中返回长度归一化得分最高的一条。
    ``beam_size=1`` 就是贪心搜索；束足够宽（不小于 ``vocab_size ** max_len``）时就是
    穷举搜索。

    参数：同 :func:`greedy_search`，另有 ``beam_size``（正整数）与 ``alpha``（长度归
        一化指数）。
    与贪心搜索一样，``<bos>`` 与 ``banned`` 中的词元的对数概率置为 -inf，
    永远不会被生成；模型输出 NaN 或无穷大时抛出 ``ValueError``。
    返回：``(outputs, scores)``：``batch_size`` 个词元索引列表（不含 ``<eos>``）与
        ``(batch_size,)``的长度归一化得分。
    """
    banned, highest = _check_args(model, enc_X, enc_valid_lens, max_len, bos, eos,
                                  banned, beam_size)
    device, batch_size, k = enc_X.device, enc_X.shape[0], beam_size
    state = model.init_decoder_state(enc_X, enc_valid_lens)
    rows = torch.arange(batch_size, device=device)
    # 每句复制 k 份，state 的批量维变为 batch_size * k
    state = model.decoder.reorder_state(state, rows.repeat_interleave(k))
    # scores: 每条存活候选的累计对数概率；-inf 表示这个位置没有存活的候选
    scores = torch.full((batch_size, k), float("-inf"), device=device)
    scores[:, 0] = 0.0
    tokens = torch.empty((batch_size, k, 0), dtype=torch.long, device=device)
    finished = [[] for _ in range(batch_size)]  # 每句：[(归一化得分, 词元), ...]
    inputs = torch.full((batch_size * k, 1), bos, dtype=torch.long, device=device)
    for t in range(1, max_len + 1):
        logits, state = model.decoder(inputs, state)  # (batch_size*k, 1, V)
        vocab_size = logits.shape[-1]
        alive = torch.isfinite(scores).reshape(-1)  # (batch_size*k,)
        step = _next_log_probs(logits, banned, highest, alive)  # (batch_size*k, V)
        candidates = scores.unsqueeze(2) + step.view(batch_size, k, vocab_size)
        # 每句在 k * V 个候选中取前 k 个：来自哪条旧候选、接上哪个词元
        top_scores, top_flat = candidates.view(batch_size, -1).topk(k, dim=1)
        beam_index, token = top_flat // vocab_size, top_flat % vocab_size
        kept = tokens.gather(1, beam_index.unsqueeze(2).expand(-1, -1, t - 1))
        tokens = torch.cat([kept, token.unsqueeze(2)], dim=2)  # (batch_size, k, t)
        ended = torch.isfinite(top_scores) & ((token == eos) | (t == max_len))
        for b, j in ended.nonzero().tolist():  # 以 <eos> 结尾，或到了最大长度
            score = length_normalized(top_scores[b, j].item(), t, alpha)
            finished[b].append((score, tokens[b, j].tolist()))
        scores = top_scores.masked_fill(ended, float("-inf"))
        if not bool(torch.isfinite(scores).any()):
            break
        flat = (rows.unsqueeze(1) * k + beam_index).reshape(-1)  # (batch_size*k,)
        state = model.decoder.reorder_state(state, flat)
        inputs = token.reshape(-1, 1)
    best = [max(f, key=lambda x: x[0]) for f in finished]  # 并列时取先完成的
    return [_strip(seq, eos) for _, seq in best], torch.tensor([s for s, _ in best])


@torch.no_grad()
def exhaustive_search(model, enc_X, enc_valid_lens, bos, eos, max_len, alpha=0.75,
                      banned=()):
    """穷举搜索（只用于很小的词表与长度）：枚举所有以 ``<eos>`` 结束或长度为
    ``max_len`` 的序列，返回长度归一化得分最高的那条。``enc_X`` 的批量大小必须为 1。

    与贪心搜索一样，不枚举含 ``<bos>`` 或 ``banned`` 中词元的序列（它们的对数概率为
    -inf）；模型输出 NaN 或无穷大时抛出 ``ValueError``。
    返回：``(tokens, score)``：词元索引列表（不含 ``<eos>``）与得分。
    """
    banned, highest = _check_args(model, enc_X, enc_valid_lens, max_len, bos, eos,
                                  banned)
    if enc_X.shape[0] != 1:
        raise ValueError("exhaustive_search 一次只处理一个句子，enc_X "
                         f"的批量大小为 {enc_X.shape[0]}")
    best = (float("-inf"), None)
    alive = torch.ones(1, dtype=torch.bool, device=enc_X.device)
    frontier = [([], 0.0, model.init_decoder_state(enc_X, enc_valid_lens))]
    for t in range(1, max_len + 1):
        next_frontier = []
        for seq, log_prob, state in frontier:
            last = seq[-1] if seq else bos
            inputs = torch.tensor([[last]], device=enc_X.device)
            logits, new_state = model.decoder(inputs, state)
            # (1, vocab_size)
            step = _next_log_probs(logits, banned, highest, alive)
            for token, lp in enumerate(step[0].tolist()):
                if lp == -math.inf:        # 不许生成的词元，或概率为 0
                    continue
                cand = (seq + [token], log_prob + lp)
                if token == eos or t == max_len:
                    score = length_normalized(cand[1], t, alpha)
                    if score > best[0]:
                        best = (score, cand[0])
                else:
                    next_frontier.append((*cand, new_state))
        frontier = next_frontier
    return _strip(best[1], eos), best[0]
