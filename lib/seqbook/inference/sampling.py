"""从语言模型的 logits 选出下一个词元：贪心、温度、top-k、top-p（核采样），
可以组合使用。

处理的顺序固定为：禁止的词元（``banned``）置为 -inf → 除以温度 → top-k → top-p →
采样。温度作用在 softmax **之前**（``softmax(logits / T)``）；top-k 与 top-p
只在允许的词元中挑选，所以 ``banned`` 里的词元永远不会被选中。:func:`filter_logits`
只做过滤（返回处理后的 logits，被去掉的位置为 -inf），:func:`sample_next`
再从中采样；传入 ``torch.Generator`` 即可复现。

形状：``logits`` 为 ``(..., vocab_size)``（如一步的 ``(batch_size, vocab_size)``），
返回的词元索引为 ``(...)``。
"""

import math

import torch

from .._checks import check_positive_int, check_probability, check_tensor


def _check_logits(logits):
    check_tensor(logits, "logits")
    if not logits.is_floating_point():
        raise TypeError("logits 应为浮点张量 (..., vocab_size)，实际 dtype 为 "
                        f"{logits.dtype}")
    if logits.dim() == 0 or logits.shape[-1] == 0:
        raise ValueError("logits 的最后一维应为词表（至少 1 个词元），实际形状为 "
                         f"{tuple(logits.shape)}")
    if bool(torch.isnan(logits).any()):
        raise ValueError("logits 含 NaN：模型的权重或输入可能已经损坏（例如训练"
                         "发散）")


def check_sampling_args(vocab_size, temperature=1.0, top_k=None, top_p=None):
    """检查采样参数（生成函数在开始生成前调用一次）。

    ``temperature`` > 0 的有限数；``top_k`` 为 ``None`` 或 ``[1, vocab_size]``
    内的整数；``top_p`` 为 ``None`` 或 (0, 1] 内的数。类型不对抛出 ``TypeError``，
    取值不对抛出 ``ValueError``。"""
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)):
        raise TypeError("temperature 应为正数，实际得到 "
                        f"{type(temperature).__name__}")
    if not (temperature > 0 and math.isfinite(temperature)):
        raise ValueError("temperature 应为有限的正数（趋于 0 时接近贪心；"
                         "要贪心请用 greedy_next），"
                         f"实际得到 {temperature!r}")
    if top_k is not None:
        if check_positive_int(top_k, "top_k") > vocab_size:
            raise ValueError(f"top_k 应在 [1, {vocab_size}]（词表大小）之内，"
                             f"实际得到 {top_k}")
    if top_p is not None:
        check_probability(top_p, "top_p", low_open=True)


def ban_tokens(logits, banned):
    """把 ``banned`` 中的词元的 logits 置为 -inf（返回新张量）。全部词元都被禁止时抛
    出 ``ValueError``。"""
    _check_logits(logits)
    vocab_size = logits.shape[-1]
    if isinstance(banned, (str, bytes)) or not isinstance(
            banned, (list, tuple, set, frozenset, range)):
        raise TypeError("banned 应为词元索引的集合、列表或元组，实际得到 "
                        f"{type(banned).__name__}")
    ids = []
    for t in banned:
        if isinstance(t, bool) or not isinstance(t, int):
            raise TypeError("banned 的元素应为整数索引，实际得到 "
                            f"{type(t).__name__} {t!r}")
        if not 0 <= t < vocab_size:
            raise ValueError(f"banned 中的 {t} 超出词表范围 [0, {vocab_size})")
        ids.append(t)
    if len(set(ids)) == vocab_size:
        raise ValueError("banned 包含了词表中的全部词元，没有可以选择的词元")
    if not ids:
        return logits
    index = torch.tensor(sorted(set(ids)), dtype=torch.long, device=logits.device)
    return logits.index_fill(-1, index, float("-inf"))


def apply_temperature(logits, temperature):
    """``logits / temperature``：温度小于 1 使分布更尖，大于 1 更平。"""
    _check_logits(logits)
    check_sampling_args(logits.shape[-1], temperature=temperature)
    return logits / temperature


def top_k_filter(logits, k):
    """只保留 logits 最大的 ``k`` 个词元，其余置为 -inf。并列的第 k 名都保留。"""
    _check_logits(logits)
    check_sampling_args(logits.shape[-1], top_k=k)
    kth = torch.topk(logits, k, dim=-1).values[..., -1:]          # (..., 1)
    return logits.masked_fill(logits < kth, float("-inf"))


def top_p_filter(logits, p):
    """核采样的过滤：保留概率最大、累计概率 **达到** ``p`` 的最小词元集合，其余置为
    -inf。

    按概率从大到小排列，一个词元被保留当且仅当排在它前面的词元的概率和小于 ``p``：
    跨过阈值的那个词元也在集合里（经典的错误是把它去掉）。``p = 1`` 时保留全部。
    概率相同的词元按索引从小到大排列（稳定排序）。
    """
    _check_logits(logits)
    check_sampling_args(logits.shape[-1], top_p=p)
    if p >= 1:
        return logits
    # (..., vocab_size)
    probs = torch.softmax(logits.float(), dim=-1)
    sorted_probs, order = torch.sort(probs, dim=-1, descending=True, stable=True)
    # 排在前面的概率和
    before = torch.cumsum(sorted_probs, dim=-1) - sorted_probs
    keep_sorted = before < p
    # 至少保留概率最大的词元
    keep_sorted[..., 0] = True
    keep = torch.zeros_like(keep_sorted).scatter(-1, order, keep_sorted)
    return logits.masked_fill(~keep, float("-inf"))


def filter_logits(logits, temperature=1.0, top_k=None, top_p=None, banned=()):
    """依次应用：禁止词元 → 温度 → top-k → top-p。返回处理后的 logits，形状同输入
    ``(..., vocab_size)``。"""
    _check_logits(logits)
    check_sampling_args(logits.shape[-1], temperature, top_k, top_p)
    logits = ban_tokens(logits, banned)
    if temperature != 1:
        logits = logits / temperature
    if top_k is not None:
        logits = top_k_filter(logits, top_k)
    if top_p is not None:
        logits = top_p_filter(logits, top_p)
    return logits


def greedy_next(logits, banned=()):
    """贪心：选 logits 最大的允许词元（并列时取索引最小的）。返回 ``(...)`` 的
    ``long`` 张量。"""
    return ban_tokens(logits, banned).argmax(dim=-1)


def sample_next(logits, temperature=1.0, top_k=None, top_p=None, banned=(),
                generator=None):
    """按 :func:`filter_logits` 过滤后的分布 ``softmax`` 采样下一个词元，返回
    ``(...)`` 的 ``long`` 张量。

    参数：
        logits: ``(..., vocab_size)`` 浮点张量。
        temperature: 温度，有限的正数。
        top_k: 只在最大的 k 个词元中采样；``None`` 不限制。
        top_p: 核采样的阈值，(0, 1]；``None`` 不限制。
        banned: 永远不会被选中的词元索引。
        generator: ``torch.Generator``（与 logits 在同一设备上）；给定种子时结果可以
            复现。
    """
    filtered = filter_logits(logits, temperature, top_k, top_p, banned)
    probs = torch.softmax(filtered.float(), dim=-1)
    # (n, vocab_size)
    flat = probs.reshape(-1, probs.shape[-1])
    choice = torch.multinomial(flat, 1, generator=generator)          # (n, 1)
    return choice.reshape(probs.shape[:-1])
