"""BERT：双向 Transformer 编码器，加上预训练的两个头与微调的两种头。

输入表示 = 词元嵌入 + 片段嵌入（+ 位置嵌入）；编码器由第 3 章的
:class:`seqbook.TransformerEncoderBlock` 叠成（前规范化，GELU）。位置有两种做法：
``position="learned"`` 是原始 BERT 的可学习位置嵌入；``position="distance"``
（本书默认）不用位置嵌入，而是给注意力分数加上随距离线性减小的固定偏置
（ALiBi 式，Press 等人，2022）。

形状记号：b = batch_size，n = 步数，d = num_hiddens，nh = num_heads，
m = 被遮住（要预测）的位置数，V = 词表大小。
"""

import torch
import torch.nn.functional as F
from torch import nn

from .._checks import check_positive_int, check_probability, check_tokens
from .attention import valid_key_mask
from .transformer import TransformerEncoderBlock

POSITIONS = ("distance", "learned")


def distance_bias(num_heads, num_steps, device=None):
    """固定的距离偏置 ``(nh, n, n)``：第 h 个头给位置 i 对 j 的分数加上
    ``-m_h |i - j|``，斜率 ``m_h = 2^(-8(h+1)/nh)``：有的头只看近处，有的看得远。"""
    h = torch.arange(1, num_heads + 1, device=device)
    slopes = 2.0 ** (-8.0 * h / num_heads)  # (nh,)
    pos = torch.arange(num_steps, device=device)
    dist = (pos[None, :] - pos[:, None]).abs()  # (n, n)
    return -slopes[:, None, None] * dist  # (nh, n, n)


class BERTEncoder(nn.Module):
    """BERT 编码器。

    参数：vocab_size、num_hiddens、ffn_num_hiddens、num_heads、num_layers、
    dropout 同 Transformer；max_len 是输入的最大步数；position 见模块说明；
    sep_id 是 ``<sep>`` 的索引（检查句对输入用）。

    ``forward(tokens, segments=None, valid_lens=None)``：tokens ``(b, n)``；
    segments ``(b, n)`` 取 0（第一句）或 1（第二句），None 表示全为 0；
    valid_lens ``(b,)`` 是每行不含填充的长度，None 表示没有填充。
    返回每个位置的表示 ``(b, n, d)``。
    """

    def __init__(self, vocab_size, num_hiddens=128, ffn_num_hiddens=512,
                 num_heads=4, num_layers=2, dropout=0.0, max_len=128,
                 position="distance", sep_id=3):
        super().__init__()
        _check_sizes(vocab_size, num_layers, max_len, dropout, position)
        self.config = dict(vocab_size=vocab_size, num_hiddens=num_hiddens,
                           ffn_num_hiddens=ffn_num_hiddens, num_heads=num_heads,
                           num_layers=num_layers, max_len=max_len,
                           position=position, sep_id=sep_id)
        self.token_embedding = nn.Embedding(vocab_size, num_hiddens)
        self.segment_embedding = nn.Embedding(2, num_hiddens)
        self.position_embedding = (nn.Embedding(max_len, num_hiddens)
                                   if position == "learned" else None)
        for emb in (self.token_embedding, self.segment_embedding,
                    self.position_embedding):
            if emb is not None:
                nn.init.normal_(emb.weight, std=0.02)
        self.embed_norm = nn.LayerNorm(num_hiddens)
        self.dropout = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(
            TransformerEncoderBlock(num_hiddens, ffn_num_hiddens, num_heads,
                                    dropout, norm_first=True, gelu=True)
            for _ in range(num_layers))
        self.final_norm = nn.LayerNorm(num_hiddens)

    def forward(self, tokens, segments=None, valid_lens=None):
        segments = self._check(tokens, segments, valid_lens)
        n = tokens.shape[1]
        X = self.token_embedding(tokens)  # (b, n, d)
        X = X + self.segment_embedding(segments)
        if self.position_embedding is not None:
            X = X + self.position_embedding(torch.arange(n, device=tokens.device))
        X = self.dropout(self.embed_norm(X))
        mask = valid_key_mask(valid_lens, n, n)  # (b, 1, n) 或 None：不看填充
        bias = None
        if self.config["position"] == "distance":
            # (1, nh, n, n)：四维的偏置让 CPU 上也走融合的注意力内核
            bias = distance_bias(self.config["num_heads"], n, tokens.device)[None]
            if mask is not None:  # 掩码并进偏置，各层共用：(b, nh, n, n)
                bias = bias.masked_fill(~mask[:, None], float("-inf"))
                mask = None
        for blk in self.blocks:
            X = blk(X, mask, bias)
        return self.final_norm(X)  # (b, n, d)

    def _check(self, tokens, segments, valid_lens):
        check_tokens(tokens, "tokens")
        b, n = tokens.shape
        V, max_len = self.config["vocab_size"], self.config["max_len"]
        if n > max_len:
            raise ValueError(f"tokens 有 {n} 步，超过了模型的最大长度 max_len="
                             f"{max_len}：请截断输入")
        if tokens.numel() and (tokens.min() < 0 or tokens.max() >= V):
            raise ValueError(f"tokens 的索引应在 [0, {V}) 之内，实际范围 "
                             f"[{int(tokens.min())}, {int(tokens.max())}]")
        if segments is None:
            return torch.zeros_like(tokens)
        check_tokens(segments, "segments")
        if segments.shape != tokens.shape:
            raise ValueError(f"segments 的形状 {tuple(segments.shape)} 应与 tokens "
                             f"的形状 {tuple(tokens.shape)} 相同")
        if segments.numel() and (segments.min() < 0 or segments.max() > 1):
            raise ValueError("segments 只能取 0（第一句）或 1（第二句），实际含有 "
                             f"{sorted(set(segments.unique().tolist()) - {0, 1})}")
        _check_pairs(tokens, segments, self.config["sep_id"])
        return segments

    def load_state_dict(self, state_dict, strict=True, assign=False):
        _check_state(self, state_dict)
        return super().load_state_dict(state_dict, strict, assign)


class MaskLMHead(nn.Module):
    """掩蔽语言模型头：``Linear → GELU → LayerNorm``，再乘以词元嵌入矩阵的转置
    （输出层与词元嵌入共享同一个权重）。只对被遮住的 m 个位置计算：
    ``(m, d)`` → ``(m, V)``。"""

    def __init__(self, token_embedding):
        super().__init__()
        V, d = token_embedding.weight.shape
        self.dense, self.norm = nn.Linear(d, d), nn.LayerNorm(d)
        self.decoder = nn.Linear(d, V)
        self.decoder.weight = token_embedding.weight  # 绑定：同一个 Parameter
        nn.init.zeros_(self.decoder.bias)

    def forward(self, H):
        return self.decoder(self.norm(F.gelu(self.dense(H))))  # (m, V)


class BERTModel(nn.Module):
    """预训练用的 BERT：编码器、掩蔽语言模型头、下一句预测头。

    ``forward(tokens, segments=None, valid_lens=None, selected=None)``：selected
    是 ``(b, n)`` 的布尔张量，标出要预测的位置。返回 ``(H, mlm_logits,
    nsp_logits)``：H ``(b, n, d)``；mlm_logits ``(m, V)``，只含 selected 的位置
    （按行优先的顺序），selected 为 None 时是 None；nsp_logits ``(b, 2)``，由
    ``<cls>`` 位置的表示给出（类别 1 表示第二句是第一句的下一句）。
    """

    def __init__(self, vocab_size, **kwargs):
        super().__init__()
        self.encoder = BERTEncoder(vocab_size, **kwargs)
        self.mlm = MaskLMHead(self.encoder.token_embedding)
        self.nsp = nn.Linear(self.encoder.config["num_hiddens"], 2)

    def load_state_dict(self, state_dict, strict=True, assign=False):
        _check_state(self, state_dict)
        return super().load_state_dict(state_dict, strict, assign)

    def forward(self, tokens, segments=None, valid_lens=None, selected=None):
        H = self.encoder(tokens, segments, valid_lens)  # (b, n, d)
        mlm_logits = None
        if selected is not None:
            _check_selected(selected, tokens)
            mlm_logits = self.mlm(H[selected])  # 稀疏预测：只算 m 个位置 (m, V)
        return H, mlm_logits, self.nsp(H[:, 0])  # nsp: (b, 2)


class BERTClassifier(nn.Module):
    """句子（对）分类：编码器各有效位置的输出取平均（平均汇聚），再接一个
    全连接层。``forward(tokens, segments=None, valid_lens=None)`` → ``(b, C)``。
    ``pooling="cls"`` 时改用 ``<cls>`` 位置的输出。"""

    def __init__(self, encoder, num_classes, pooling="mean"):
        super().__init__()
        if pooling not in ("mean", "cls"):
            raise ValueError(f"pooling 应为 'mean' 或 'cls'，实际得到 {pooling!r}")
        check_positive_int(num_classes, "num_classes")
        self.encoder, self.pooling = encoder, pooling
        self.output = nn.Linear(encoder.config["num_hiddens"], num_classes)

    def forward(self, tokens, segments=None, valid_lens=None):
        H = self.encoder(tokens, segments, valid_lens)  # (b, n, d)
        if self.pooling == "cls":
            return self.output(H[:, 0])
        n = tokens.shape[1]
        keep = valid_key_mask(valid_lens, 1, n)  # (b, 1, n) 或 None
        if keep is None:
            return self.output(H.mean(dim=1))
        keep = keep.transpose(1, 2).to(H.dtype)  # (b, n, 1)：有效位置为 1
        return self.output((H * keep).sum(dim=1) / keep.sum(dim=1))  # (b, C)


class BERTTagger(nn.Module):
    """词元标注：每个位置的输出各接同一个全连接层。
    ``forward(tokens, segments=None, valid_lens=None)`` → ``(b, n, num_tags)``。"""

    def __init__(self, encoder, num_tags):
        super().__init__()
        check_positive_int(num_tags, "num_tags")
        self.encoder = encoder
        self.output = nn.Linear(encoder.config["num_hiddens"], num_tags)

    def forward(self, tokens, segments=None, valid_lens=None):
        return self.output(self.encoder(tokens, segments, valid_lens))


def copy_encoder(encoder, dropout=0.1):
    """复制一个编码器（权重相同、互不影响），暂退概率换成 ``dropout``：
    预训练不用暂退法，微调时用。"""
    config = dict(encoder.config)
    copy = BERTEncoder(config.pop("vocab_size"), dropout=dropout, **config)
    copy.load_state_dict(encoder.state_dict())
    return copy.to(encoder.token_embedding.weight.device)


def _check_sizes(vocab_size, num_layers, max_len, dropout, position):
    check_positive_int(vocab_size, "vocab_size")
    check_positive_int(num_layers, "num_layers")
    check_positive_int(max_len, "max_len")
    check_probability(dropout, "dropout", high_open=True)
    if position not in POSITIONS:
        raise ValueError(f"position 应为 {list(POSITIONS)} 之一，实际得到 "
                         f"{position!r}")


def _check_selected(selected, tokens):
    if (not torch.is_tensor(selected) or selected.dtype != torch.bool
            or selected.shape != tokens.shape):
        got = (f"{selected.dtype} {tuple(selected.shape)}"
               if torch.is_tensor(selected) else type(selected).__name__)
        raise ValueError(f"selected 应为与 tokens 同形状 {tuple(tokens.shape)} 的"
                         f"布尔张量，实际得到 {got}")


def _check_pairs(tokens, segments, sep_id):
    """句对输入：每个含片段 1 的行，片段 1 之前的词元与该行最后一个片段 1 的词元
    都应是 ``<sep>``。"""
    second = segments == 1  # (b, n)
    rows = second.any(dim=1)
    if not rows.any():
        return
    n = tokens.shape[1]
    first_b = torch.where(second, torch.arange(n, device=tokens.device), n).amin(1)
    last_b = torch.where(second, torch.arange(n, device=tokens.device), -1).amax(1)
    r = rows.nonzero(as_tuple=True)[0]
    before = tokens[r, (first_b[r] - 1).clamp(min=0)]
    ok = (first_b[r] > 0) & (before == sep_id) & (tokens[r, last_b[r]] == sep_id)
    if not ok.all():
        bad = int(r[~ok][0])
        raise ValueError(f"第 {bad} 行是句对（segments 含 1），但缺少 <sep>：应为 "
                         "<cls> A <sep> B <sep>，第一句后与第二句末尾各有一个 <sep>"
                         "（用 seqbook.bert_inputs 构造输入）")


def _check_state(model, state_dict):
    """载入的权重与模型的形状不符时（例如词表不同），给出中文说明。"""
    own = model.state_dict()
    for key, value in state_dict.items():
        if key in own and tuple(own[key].shape) != tuple(value.shape):
            raise ValueError(f"检查点与模型不匹配：{key} 的形状在检查点中为 "
                             f"{tuple(value.shape)}，在模型中"
                             f"为 {tuple(own[key].shape)}"
                             "（词表或模型大小不同？请用训练这个检查点时的分词器和"
                             "设置"
                             "构造模型）")
