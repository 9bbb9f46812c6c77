"""翻译：把英文句子译成目标语言，并在留出的测试集上计算 BLEU。"""

import itertools

import torch

from ..data.mt_data import BOS, EOS, PAD, encode_source
from ..models.encoder_decoder import vocab_sizes
from .bleu import corpus_bleu
from .search import beam_search, greedy_search


def translate(model, sentences, src_vocab, tgt_vocab, num_steps, device=None,
              beam_size=1, alpha=0.75, max_len=None):
    """翻译一批源句子，返回目标词元的列表的列表。

    参数：
        model: 训练好的 :class:`seqbook.EncoderDecoder`。
        sentences: 句子字符串或其列表，或词元列表的列表（见
            :func:`seqbook.encode_source`）；源词表里没有的词元映射到 ``<unk>``；
            空句子抛出 ``ValueError``。
        src_vocab, tgt_vocab: 源、目标词表，大小必须与模型的嵌入层/输出层一致。
        num_steps: 源序列截断/填充的长度。
        beam_size: 1 为贪心搜索，否则为束搜索。
        max_len: 最多生成的词元数，默认 ``num_steps``。
    译文里不会出现 ``<unk>``、``<pad>`` 与 ``<bos>``：解码时它们的对数概率置为
    -inf。"""
    _check_vocabs(model, src_vocab, tgt_vocab)
    if device is None:  # 默认用模型所在的设备
        tensor = next(itertools.chain(model.parameters(), model.buffers()), None)
        device = tensor.device if tensor is not None else torch.device("cpu")
    device = torch.device(device)
    X, valid_len = encode_source(sentences, src_vocab, num_steps)
    X, valid_len = X.to(device), valid_len.to(device)
    max_len = num_steps if max_len is None else max_len
    model.eval()
    bos, eos = tgt_vocab[BOS], tgt_vocab[EOS]
    # 译文里不该出现的词元
    banned = [tgt_vocab[t] for t in ("<unk>", PAD) if t in tgt_vocab]
    if beam_size == 1:
        outputs, _ = greedy_search(model, X, valid_len, bos, eos, max_len,
                                   banned=banned)
    else:
        outputs, _ = beam_search(model, X, valid_len, bos, eos, max_len, beam_size,
                                 alpha, banned=banned)
    return [tgt_vocab.to_tokens(out) for out in outputs]


def _check_vocabs(model, src_vocab, tgt_vocab):
    """词表的大小与模型的嵌入层、输出层不一致时报错（对每种模型都检查，见
    :func:`seqbook.models.encoder_decoder.vocab_sizes`）。"""
    parts = [(model.encoder, src_vocab, "src_vocab", "编码器"),
             (model.decoder, tgt_vocab, "tgt_vocab", "解码器")]
    for part, vocab, name, where in parts:
        for source, size in vocab_sizes(part).items():
            if size != len(vocab):
                raise ValueError(f"{name} 有 {len(vocab)} 个词元，"
                                 f"但模型{where}的{source}大小为 {size}："
                                 "词表与模型不匹配（是否把源、目标词表弄反了，"
                                 "或者用了另一份数据的词表？）")
    for vocab, name in [(src_vocab, "src_vocab"), (tgt_vocab, "tgt_vocab")]:
        for token in (BOS, EOS):
            if token not in vocab:
                raise ValueError(f"{name} 缺少保留词元 {token}")


def evaluate_bleu(model, data, device=None, beam_size=1, alpha=0.75, max_len=None,
                  batch_size=256, num_examples=None):
    """在留出的测试集上翻译并计算语料级 BLEU（每个源句子用它的全部参考译文）。

    参数：
        model: 训练好的 :class:`seqbook.EncoderDecoder`。
        data: :class:`seqbook.TranslationData`（用 ``test_pairs``、两个词表与
            ``num_steps``）。
        beam_size, alpha, max_len: 同 :func:`translate`。
        batch_size: 一次翻译多少个句子。
        num_examples: 只评估前这么多个测试句子，``None`` 为全部。
    返回：``(bleu, predictions)``：BLEU（0～100）与每个测试句子的预测词元列表。
    """
    pairs = data.test_pairs
    if num_examples is not None:
        pairs = pairs[:num_examples]
    if not pairs:
        raise ValueError("data.test_pairs 为空："
                         "这个数据集没有留出测试集（num_test=0）")
    predictions = []
    for start in range(0, len(pairs), batch_size):
        batch = [src for src, _ in pairs[start:start + batch_size]]
        predictions += translate(model, batch, data.src_vocab, data.tgt_vocab,
                                 data.num_steps,
                                 device, beam_size, alpha, max_len)
    references = [refs for _, refs in pairs]
    return corpus_bleu(predictions, references), predictions
