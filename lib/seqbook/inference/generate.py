"""用 GPT 逐个词元生成：贪心或采样（温度、top-k、top-p），带或不带键值缓存；
以及写诗：续写给定的首句、藏头诗。

下一个词元怎么从 logits 选出来见 :mod:`seqbook.inference.sampling`；这里只管循环：
带缓存时第一步把整个提示送进模型，之后每步只送上一步生成的 1 个词元；不带缓存时每步
把至今的全部词元重新送进模型。两种方式给出相同的词元。
"""

import warnings

import torch

from .._checks import check_positive_int
from ..data.poetry import PAUSE, STOPS
from .sampling import check_sampling_args, greedy_next, sample_next


def _check_prompt(prompt, model):
    """检查提示并返回二维列表：一条提示 ``[ids]``，或每个样本一条（等长）。"""
    if isinstance(prompt, torch.Tensor):
        prompt = prompt.tolist()
    rows = prompt if prompt and isinstance(prompt[0], (list, tuple)) else [prompt]
    for row in rows:
        if not isinstance(row, (list, tuple)) or not all(
                isinstance(i, int) and not isinstance(i, bool) for i in row):
            raise TypeError("prompt 应为词元索引（整数）的列表，或等长列表的列表，"
                            f"实际得到 {type(row).__name__}")
        if not row:
            raise ValueError("prompt 至少要有一个词元：无条件生成时用 "
                             "[tokenizer.bos_id]")
    if len({len(row) for row in rows}) != 1:
        raise ValueError("多条提示应一样长（词元数相同），实际长度为 "
                         f"{sorted({len(row) for row in rows})}")
    limit = _context(model)
    if limit is not None and len(rows[0]) > limit:
        raise ValueError(f"prompt 有 {len(rows[0])} 个词元，超过了模型的上下文窗口 "
                         f"max_len={limit}：请截短提示"
                         f"（例如只保留最后 {limit} 个）")
    return [list(row) for row in rows]


def _context(model):
    """模型能处理的最长序列；旋转位置编码没有硬性上限（None）。"""
    return model.max_len if getattr(model, "position", "learned") == "learned" \
        else None


class _Stepper:
    """每步给出下一个位置的 logits ``(b, V)``：带缓存时只送新词元，否则送全部。"""

    def __init__(self, model, use_cache):
        self.model, self.use_cache, self.cache = model, use_cache, None

    def __call__(self, X, new):
        # X: 至今的全部词元 (b, t)；new: 上一步加入的词元数
        if not self.use_cache:
            return self.model(X)[0][:, -1]  # 每步重算整个序列
        logits, self.cache = self.model(X[:, -new:], self.cache)  # 只算新位置
        return logits[:, -1]


@torch.no_grad()
def generate(model, prompt, max_new_tokens, temperature=1.0, top_k=None, top_p=None,
             greedy=False, num_samples=1, generator=None, use_cache=True,
             stop_id=None, force=None, banned=()):
    """从 ``prompt`` 接着生成，返回 ``(num_samples, 生成的词元数)`` 的张量（只含新
    词元）。

    参数：
        model: :class:`seqbook.GPT`（``eval`` 模式下使用）。
        prompt: 提示的词元索引列表（至少一个，例如 ``[bos_id]``）；也可以是
            等长列表的列表，每个样本一条提示（此时 ``num_samples`` 应为 1）。
        max_new_tokens: 最多生成多少个词元。
        temperature, top_k, top_p: 采样参数（见 :func:`seqbook.sample_next`）；
            ``greedy=True`` 时不采样，总取概率最大的词元。
        num_samples: 并行生成几个样本（批量计算）。
        generator: ``torch.Generator``；固定种子可以复现样本。
        use_cache: 是否用键值缓存（结果相同，只是快慢不同）。
        stop_id: 生成这个词元（例如 ``<eos>``）后这个样本停止，之后补 ``stop_id``；
            全部样本都停止时提前结束。
        force: ``force(step, X) -> (mask (b,), ids (b,)) 或 None``：在第 ``step``
            步把 mask 为 True 的样本的下一个词元强制设为 ids（藏头诗用）。
        banned: 永远不生成的词元索引（例如写满规定的句数之前不许 ``<eos>``）。
    上下文窗口用完（可学习位置的 ``max_len``）时停止并发出警告。
    """
    prompt = _check_prompt(prompt, model)
    check_positive_int(max_new_tokens, "max_new_tokens")
    check_positive_int(num_samples, "num_samples")
    if not greedy:
        check_sampling_args(model.vocab_size, temperature, top_k, top_p)
    model.eval()
    device = next(model.parameters()).device
    if len(prompt) > 1 and num_samples != 1:
        raise ValueError("给出多条提示时每条生成一个样本，num_samples 应为 1")
    X = torch.tensor(prompt * num_samples, device=device)  # (b, t)
    done = torch.zeros(num_samples, dtype=torch.bool, device=device)
    start = X.shape[1]
    step_logits, new, limit = _Stepper(model, use_cache), start, _context(model)
    for step in range(max_new_tokens):
        if limit is not None and X.shape[1] >= limit:
            warnings.warn(f"已用完模型的上下文窗口 max_len={limit}，生成提前停止",
                          UserWarning, stacklevel=2)
            break
        logits = step_logits(X, new)  # (b, V)
        nxt = (greedy_next(logits, banned) if greedy else
               sample_next(logits, temperature, top_k, top_p, banned, generator))
        if force is not None and (forced := force(step, X)) is not None:
            nxt = torch.where(forced[0], forced[1], nxt)
        if stop_id is not None:
            nxt = nxt.masked_fill(done, stop_id)
            done |= nxt == stop_id
        X, new = torch.cat([X, nxt[:, None]], dim=1), 1  # (b, t + 1)
        if stop_id is not None and bool(done.all()):
            break
    return X[:, start:]


def encode_prompt(tokenizer, text):
    """``<bos>`` + 提示文本的词元。字符分词器遇到词表外的字时抛出 ``ValueError``
    并列出这些字（而不是悄悄换成 ``<unk>``）；BPE 能编码任意文本。"""
    ids = tokenizer.encode(text)
    if "<unk>" in tokenizer.special_tokens:
        unk = tokenizer.special_id("<unk>")
        unknown = list(dict.fromkeys(c for c, i in zip(text, ids) if i == unk))
        if unknown:
            raise ValueError(f"提示 {text!r} 中的字 {'、'.join(unknown)} 不在字符"
                             "分词器的词表里（训练诗中太少见），模型无法读入："
                             "请换成别的字")
    return [tokenizer.bos_id] + ids


def write_poems(model, tokenizer, prompt="", num_lines=4, acrostic=None,
                num_samples=1, max_tokens=None, **sampling):
    """写诗：从 ``<bos> + prompt`` 接着生成，直到写满 ``num_lines`` 句（以“，”
    “。”“？”“！”结尾的句子数，含提示中的）。写满之前不许生成 ``<eos>``（否则模型常在
    两句之后就结束）。返回诗文的列表。

    参数：
        prompt: 开头的文字，例如首句 ``"白日依山尽，"``；空字符串时无条件生成。
            也可以是字符串的列表（编码后等长，例如若干个五言首句），每条提示写
            一首（此时 ``num_samples`` 应为 1）。
        acrostic: 藏头诗的各句首字，例如 ``"春夏秋冬"``；每句开头强制为对应的字
            （``num_lines`` 取它的长度，须与 ``prompt`` 同时为空）。
        sampling: 传给 :func:`generate` 的 ``temperature``、``top_k``、``top_p``、
            ``greedy``、``generator``、``use_cache``。
        max_tokens: 最多生成的词元数，默认每句 10 个。
    """
    tokenizer.check_matches(vocab_size=model.vocab_size)  # 分词器须是训练时那一个
    if acrostic is not None:
        if not isinstance(acrostic, str) or not acrostic:
            raise ValueError(f"acrostic 应为非空字符串（各句的首字），实际得到 "
                             f"{acrostic!r}")
        if prompt:
            raise ValueError("藏头诗的首字由 acrostic 给出，prompt 应为空字符串")
        num_lines = len(acrostic)
        heads = torch.tensor([_single_token(tokenizer, c) for c in acrostic])
    check_positive_int(num_lines, "num_lines")
    texts = [prompt] if isinstance(prompt, str) else list(prompt)
    ids = [encode_prompt(tokenizer, t) for t in texts]
    force = None
    if acrostic is not None:
        ends = torch.tensor(_end_ids(tokenizer))

        def force(step, X):  # 每句开头（<bos> 或句末标点之后）强制为该句的首字
            ends_ = ends.to(X.device)
            starts = torch.isin(X[:, -1], ends_) | (X[:, -1] == tokenizer.bos_id)
            lines = torch.isin(X[:, 1:], ends_).sum(1)  # 已写完的句数 (b,)
            k = lines.clamp(max=num_lines - 1)
            return starts & (lines < num_lines), heads.to(X.device)[k]

    max_tokens = 10 * num_lines if max_tokens is None else max_tokens
    out = _generate_lines(model, ids, num_lines, max_tokens, num_samples, force,
                          tokenizer, sampling)
    starts = ids * len(out) if len(ids) == 1 else ids
    return [tokenizer.decode(p[1:] + row, skip_special=True)
            for p, row in zip(starts, out)]


def _generate_lines(model, ids, num_lines, max_tokens, num_samples, force,
                    tokenizer, sampling):
    """生成后按句截断：每个样本只留到第 ``num_lines`` 句的结尾。"""
    # 写满之前不许结束
    banned = [tokenizer.eos_id, tokenizer.bos_id, tokenizer.pad_id]
    X = generate(model, ids, max_tokens, num_samples=num_samples, force=force,
                 banned=banned, **sampling)
    ends = set(_end_ids(tokenizer))
    rows = []
    for k, row in enumerate(X.tolist()):
        p = ids[k] if len(ids) > 1 else ids[0]
        kept, lines = [], sum(1 for i in p[1:] if i in ends)
        for i in row:
            if lines >= num_lines:
                break
            kept.append(i)
            lines += i in ends
        rows.append(kept)
    return rows


def _end_ids(tokenizer):
    """句末标点（，。？！）中在词表里的那些的词元索引。"""
    return [tokenizer.encode(c)[0] for c in PAUSE + STOPS if c in tokenizer.chars]


def _single_token(tokenizer, char):
    """藏头的一个字对应的词元；它须是词表中的一个词元。"""
    ids = encode_prompt(tokenizer, char)[1:]
    if len(ids) != 1:
        raise ValueError(f"acrostic 中的字 {char!r} 不是分词器词表中的一个词元，"
                         "无法作为句首强制生成")
    return ids[0]
