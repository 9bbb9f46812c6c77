"""语言模型的推理：给定前缀生成文本，以及前缀困惑度。"""

import collections
import math

import torch
import torch.nn.functional as F

from .._checks import (
    check_nonnegative_int,
    check_positive_int,
    check_positive_number,
)


def _prefix_tokens(prefix, vocab):
    """把前缀变成词元列表：字符串按字符切分，列表/元组原样使用。"""
    if isinstance(prefix, str):
        tokens = list(prefix)
    elif isinstance(prefix, (list, tuple)):
        tokens = list(prefix)
    else:
        raise TypeError("prefix 应为字符串（字符级）或词元列表，实际是 "
                        f"{type(prefix).__name__}")
    if not tokens:
        raise ValueError("prefix 不能为空：模型需要至少一个词元来预热隐状态")
    unknown = sorted({tok for tok in tokens if tok not in vocab})
    if unknown:
        raise ValueError(f"prefix 中有词表里没有的词元 {unknown}；"
                         "字符级词表只含小写字母和空格，"
                         "请先用 seqbook.preprocess_line 规范化前缀")
    return tokens


@torch.no_grad()
def predict(prefix, num_preds, net, vocab, device=None, temperature=0.0,
            generator=None):
    """在 ``prefix`` 后面生成 ``num_preds`` 个词元。

    预热期：先把整个前缀一次送进模型，得到读完前缀后的隐状态和下一个词元的分布；
    然后每一步把刚生成的词元作为输入，继续生成。

    参数：
        prefix: 字符串（字符级模型，逐字符）或词元列表（词级模型）。不能为空；
            含有词表外的词元时报错（而不是悄悄换成 ``<unk>``）。
        temperature: 0 表示贪心（每步取概率最大的词元）；大于 0 时按
            ``softmax(logits / temperature)`` 采样，随机数来自 ``generator``。
            两种方式都不会生成 ``<unk>``。
    返回：前缀加上生成部分；字符串前缀返回字符串，列表前缀返回以空格连接的字符串。
    """
    check_nonnegative_int(num_preds, "num_preds")
    if isinstance(temperature, bool) or temperature != 0:  # 0 表示贪心
        check_positive_number(temperature, "temperature")
    tokens = _prefix_tokens(prefix, vocab)
    if device is None:
        device = next(net.parameters()).device
    was_training = net.training
    net.eval()
    state = net.begin_state(batch_size=1, device=device)
    X = torch.tensor([vocab[tokens]], device=device)  # (1, len(prefix))
    logits, state = net(X, state)  # 预热：读完整个前缀
    outputs = []
    for _ in range(num_preds):
        last = logits[0, -1].clone()  # (vocab_size,) 下一个词元的得分
        last[vocab.unk] = -float("inf")  # 不生成 <unk>
        if temperature == 0:
            idx = int(last.argmax())
        else:
            probs = torch.softmax(last.float() / temperature, dim=-1).cpu()
            idx = int(torch.multinomial(probs, 1, generator=generator))
        outputs.append(idx)
        logits, state = net(torch.tensor([[idx]], device=device), state)  # (1, 1)
    net.train(was_training)
    sep = "" if isinstance(prefix, str) else " "
    return sep.join(tokens + vocab.to_tokens(outputs))


PrefixPerplexity = collections.namedtuple("PrefixPerplexity", ["full", "prefix"])


@torch.no_grad()
def prefix_perplexity(net, corpus, num_steps, device=None, max_sequences=None):
    """在同一批序列上比较两种困惑度：一次性前向（``full``）与只看前文
    （``prefix``）。

    ``net`` 是语言模型（``begin_state(batch_size, device)``，
    ``forward(X, state) -> (logits, state)``，
    logits (batch_size, steps, vocab_size)）；``corpus`` 是词元索引的一维序列（列表
    或张量）。把语料切成（至多 ``max_sequences`` 段）长 ``num_steps + 1`` 的序列，
    每段都从零状态开始：

    - ``full``：把前 ``num_steps`` 个词元一次送入，位置 t 的输出给 x_{t+1}
      打分（训练时的算法）；
    - ``prefix``：对每个 t 都从头只送入 x_1..x_t，取最后一个位置的输出给 x_{t+1}
      打分。

    单向模型的两者相同；双向模型在一次性前向时偷看了后文，``prefix`` 才是它真实的预
    测能力。
    返回 ``PrefixPerplexity(full, prefix)``。
    """
    check_positive_int(num_steps, "num_steps")
    if max_sequences is not None:
        check_positive_int(max_sequences, "max_sequences")
    corpus = torch.as_tensor(corpus, dtype=torch.long).flatten()
    num_seqs = len(corpus) // (num_steps + 1)
    if num_seqs == 0:
        raise ValueError(f"corpus 太短：至少需要 num_steps + 1 = {num_steps + 1} "
                         "个词元，"
                         f"实际只有 {len(corpus)} 个")
    num_seqs = min(num_seqs, max_sequences or num_seqs)
    data = corpus[:num_seqs * (num_steps + 1)].reshape(num_seqs, num_steps + 1)
    data = data.to(device)  # (num_seqs, num_steps + 1)
    was_training = net.training
    net.eval()
    # (num_seqs, num_steps, vocab_size)
    logits, _ = net(data[:, :-1], net.begin_state(num_seqs, device))
    full = F.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                           data[:, 1:].reshape(-1)).item()
    prefix = 0.0
    for t in range(1, num_steps + 1):
        # (num_seqs, t, vocab_size)
        logits, _ = net(data[:, :t], net.begin_state(num_seqs, device))
        prefix += F.cross_entropy(logits[:, -1], data[:, t]).item() / num_steps
    net.train(was_training)
    return PrefixPerplexity(math.exp(full), math.exp(prefix))
