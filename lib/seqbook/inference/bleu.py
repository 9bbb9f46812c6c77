r"""BLEU（双语评估替补）：语料级与句子级。

设预测序列为 :math:`\hat y`，它的参考译文为 :math:`y^{(1)}, \dots, y^{(R)}`。

- **截断的 n 元语法匹配数**：预测中每个 n 元语法的计数，最多记到它在任一参考译文中出
  现的最多次数：:math:`m_n = \sum_g \min(c_{\hat y}(g), \max_r c_{y^{(r)}}(g))`；
  预测中 n 元语法的总数 :math:`t_n = \max(0, |\hat y| - n + 1)`。
- **语料级 BLEU** 先把所有句子的 :math:`m_n, t_n`、预测长度 :math:`c` 与参考长度
  :math:`r`（每句取长度最接近预测的参考译文，一样接近时取较短的）分别求和，再计算

  .. math:: \mathrm{BLEU} = 100 \cdot \mathrm{BP} \cdot
            \exp\Big(\frac{1}{N}\sum_{n=1}^{N} \log p_n\Big),\quad
            p_n = m_n / t_n,\quad \mathrm{BP} = \min\big(1, e^{1 - r / c}\big)

  （:math:`c = 0` 时 BP = 0）。
- **平滑**（``smooth="exp"``，即 NIST/mteval 的方法）：第 k 个匹配数为 0 的阶 n 取
  :math:`p_n = 1 / (2^k t_n)`，而不是 0；``smooth="none"`` 时任何 :math:`p_n = 0` 使
  BLEU 为 0。所有阶都没有匹配时 BLEU 为 0。
- **句子级 BLEU** 是只含一个句子的语料级 BLEU，但用“有效阶数”：比预测长度还长的 n
  元语法（:math:`t_n = 0`）不参与平均，所以 3 个词元的预测只用 1～3 元语法。

任何情况下都不会除以零。这与 ``sacrebleu`` 的 ``corpus_bleu`` / ``sentence_bleu``
（默认 ``smooth_method="exp"``）在同样切分的词元上给出相同的数值；中文按字切分时，
对应 ``sacrebleu`` 的 ``tokenize="zh"``。
"""

import collections
import math

from .._checks import check_positive_int, check_sized


def ngram_counts(tokens, n):
    """``tokens`` 中所有 n 元语法（元组）的计数（``collections.Counter``）。"""
    starts = range(len(tokens) - n + 1)
    return collections.Counter(tuple(tokens[i:i + n]) for i in starts)


def bleu_stats(prediction, references, max_n=4):
    """一个句子的 BLEU 充分统计量。

    参数：
        prediction: 预测的词元列表（可以为空）。
        references: 参考译文的列表，每个是词元列表；至少一个。
        max_n: 最大的 n 元语法阶数。
    返回：``(pred_len, ref_len, matches, totals)``，其中 ``matches``、``totals``
        是长度为``max_n`` 的列表：各阶截断后的匹配数与预测中的 n 元语法数；
        ``ref_len`` 是长度最接近预测的参考译文的长度（一样接近时取较短的）。
    """
    tokens = "词元列表（字符串请先切分，例如中文按字切分）"
    check_sized(prediction, "prediction", tokens)
    check_sized(references, "references", "参考译文的列表")
    if not references:
        raise ValueError("references 应为非空的参考译文列表，"
                         "每个参考译文是一个词元列表")
    for ref in references:
        check_sized(ref, "references 中的参考译文", tokens)
    check_positive_int(max_n, "max_n")
    pred_len = len(prediction)
    ref_len = min((abs(len(r) - pred_len), len(r)) for r in references)[1]
    matches, totals = [], []
    for n in range(1, max_n + 1):
        pred_counts = ngram_counts(prediction, n)
        max_ref = collections.Counter()
        for ref in references:
            max_ref |= ngram_counts(ref, n)  # 逐个 n 元语法取各参考译文中的最大计数
        matches.append(sum(min(c, max_ref[g]) for g, c in pred_counts.items()))
        totals.append(max(0, pred_len - n + 1))
    return pred_len, ref_len, matches, totals


def bleu_from_stats(pred_len, ref_len, matches, totals, smooth="exp",
                    effective_order=False):
    """由（求和后的）充分统计量计算 BLEU，取值 0～100。定义见模块说明。"""
    if smooth not in ("exp", "none"):
        raise ValueError(f"smooth 应为 'exp' 或 'none'，实际得到 {smooth!r}")
    if pred_len == 0 or not any(matches):
        return 0.0
    if pred_len >= ref_len:
        brevity_penalty = 1.0
    else:
        brevity_penalty = math.exp(1 - ref_len / pred_len)
    log_precisions, zero_orders = [], 0
    for m, t in zip(matches, totals):
        if t == 0:            # 预测比 n 还短：没有 n 元语法
            if effective_order:
                break         # 句子级：不计入这一阶
            return 0.0        # 语料级：这一阶的精度为 0
        if m == 0:
            if smooth == "none":
                return 0.0
            zero_orders += 1
            log_precisions.append(-math.log(2 ** zero_orders * t))
        else:
            log_precisions.append(math.log(m / t))
    mean_log_precision = sum(log_precisions) / len(log_precisions)
    return 100.0 * brevity_penalty * math.exp(mean_log_precision)


def corpus_bleu(predictions, references, max_n=4, smooth="exp"):
    """语料级 BLEU（0～100）。

    参数：
        predictions: 预测的列表，每个是词元列表。
        references: 与 ``predictions`` 等长的列表，每个元素是该句的参考译文列表（每
            个是词元列表）。
        max_n: 最大的 n 元语法阶数，默认 4。
        smooth: ``"exp"``（默认）或 ``"none"``。
    """
    # 生成器没有长度、只能遍历一次
    check_sized(predictions, "predictions", "预测的列表")
    check_sized(references, "references", "参考译文的列表")
    if len(predictions) != len(references):
        raise ValueError(f"predictions 与 references 应为等长的列表，实际长度为 "
                         f"{len(predictions)} 与 {len(references)}")
    if len(predictions) == 0:
        raise ValueError("predictions 为空：至少需要一个句子才能计算 BLEU")
    pred_len = ref_len = 0
    matches, totals = [0] * max_n, [0] * max_n
    for pred, refs in zip(predictions, references):
        p, r, m, t = bleu_stats(pred, refs, max_n)
        pred_len, ref_len = pred_len + p, ref_len + r
        matches = [a + b for a, b in zip(matches, m)]
        totals = [a + b for a, b in zip(totals, t)]
    return bleu_from_stats(pred_len, ref_len, matches, totals, smooth)


def sentence_bleu(prediction, references, max_n=4, smooth="exp"):
    """句子级 BLEU（0～100），使用有效阶数。``references`` 是参考译文（词元列表）的
    列表。"""
    stats = bleu_stats(prediction, references, max_n)
    return bleu_from_stats(*stats, smooth=smooth, effective_order=True)
