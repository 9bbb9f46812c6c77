"""第 4 章 BERT：模型（形状、填充不变、权重绑定、只在被遮住的位置计损失）、
80/10/10 掩蔽的比例、输入的构造、微调的零件与错误输入。"""
import math

import pytest
import torch
import torch.nn.functional as F

import seqbook
from seqbook.data.bert_corpus import (
    BERT_SPECIAL_TOKENS,
    bert_inputs,
    mlm_mask,
    nsp_batch,
    packed_batch,
    split_sentences,
)
from seqbook.data.tokenizers import CharTokenizer
from seqbook.models.bert import (
    BERTClassifier,
    BERTEncoder,
    BERTModel,
    BERTTagger,
    copy_encoder,
    distance_bias,
)
from seqbook.training.bert import mlm_loss
from seqbook.training.finetune import (
    finetune_classifier,
    finetune_tagger,
    mean_std,
    steps_for,
    tagging_chunks,
    tagging_f1,
)

TEXTS = ["今天下雨了。记得带伞！", "这本书很好看", "北京是中国的首都。", "我喜欢读书"]


def tokenizer():
    return CharTokenizer.train(TEXTS, special_tokens=BERT_SPECIAL_TOKENS,
                               unknown="unk")


@pytest.fixture(params=["distance", "learned"])
def model(request):
    torch.manual_seed(0)
    return BERTModel(40, num_hiddens=16, ffn_num_hiddens=32, num_heads=4,
                     num_layers=2, max_len=32, position=request.param).eval()


def test_special_tokens_come_first():
    tok = tokenizer()
    assert [tok.special_id(t) for t in BERT_SPECIAL_TOKENS] == [0, 1, 2, 3, 4]
    assert tok.pad_id == 0


def test_shapes(model):
    tokens = torch.randint(5, 40, (3, 10))
    selected = torch.zeros(3, 10, dtype=torch.bool)
    selected[0, 2] = selected[2, 5] = selected[2, 7] = True
    H, mlm_logits, nsp_logits = model(tokens, None, torch.tensor([10, 6, 8]), selected)
    assert H.shape == (3, 10, 16)
    assert mlm_logits.shape == (3, 40)
    assert nsp_logits.shape == (3, 2)
    assert model(tokens)[1] is None


def test_padding_does_not_change_valid_positions(model):
    tokens = torch.randint(5, 40, (2, 7))
    lens = torch.tensor([7, 4])
    H, _, _ = model(tokens, None, lens)
    padded = torch.cat([tokens, torch.zeros(2, 5, dtype=torch.long)], dim=1)
    H_pad, _, _ = model(padded, None, lens)
    torch.testing.assert_close(H_pad[0, :7], H[0], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(H_pad[1, :4], H[1, :4], atol=1e-5, rtol=1e-5)
    # 有效长度之后的内容无论是什么，都不影响有效位置
    other = tokens.clone()
    other[1, 4:] = torch.randint(5, 40, (3,))
    torch.testing.assert_close(model(other, None, lens)[0][1, :4], H[1, :4])


def test_mlm_decoder_is_tied_to_token_embedding(model):
    assert model.mlm.decoder.weight is model.encoder.token_embedding.weight
    names = [n for n, _ in model.named_parameters()]
    assert "mlm.decoder.weight" not in names  # 只算一次
    with torch.no_grad():
        model.encoder.token_embedding.weight[7].fill_(0.5)
    assert torch.all(model.mlm.decoder.weight[7] == 0.5)


def test_mlm_loss_counts_only_masked_positions(model):
    torch.manual_seed(1)
    tokens = torch.randint(5, 40, (4, 12))
    inputs, selected, targets = mlm_mask(tokens, 40, 0.3,
                                         torch.Generator().manual_seed(0))
    _, logits, _ = model(inputs, None, None, selected)
    loss = mlm_loss(logits, targets)
    H = model.encoder(inputs)
    all_logits = model.mlm(H)  # (b, n, V)：每个位置都算
    by_hand = F.cross_entropy(all_logits[selected], tokens[selected])
    torch.testing.assert_close(loss, by_hand)
    assert logits.shape[0] == int(selected.sum())  # 稀疏预测：只算被遮住的位置
    # 没被遮住的位置的输出无论是什么，都不影响损失
    H.retain_grad()
    mlm_loss(model.mlm(H[selected]), targets).backward()
    assert torch.all(H.grad[~selected] == 0) and H.grad[selected].abs().sum() > 0


def test_mlm_mask_follows_80_10_10_rule():
    torch.manual_seed(0)
    n = 200_000
    tokens = torch.randint(0, 50, (1, n))
    tokens[0, :100] = torch.tensor([0, 2, 3] * 33 + [0])  # 特殊词元
    inputs, selected, targets = mlm_mask(tokens, 50, 0.4,
                                         torch.Generator().manual_seed(1))
    assert not selected[tokens < 5].any()  # <pad>、<cls>、<sep> 等从不被选中
    normal = tokens >= 5
    p = selected.sum().item() / normal.sum().item()
    m = selected.sum().item()
    sigma = math.sqrt(0.4 * 0.6 / normal.sum().item())
    assert abs(p - 0.4) < 5 * sigma
    changed = inputs[selected]
    frac_mask = (changed == 4).float().mean().item()
    frac_same = (changed == targets).float().mean().item()
    frac_rand = 1 - frac_mask - frac_same
    for frac, want in ((frac_mask, 0.8), (frac_same, 0.1 + 0.1 / 45), (frac_rand, 0.1 - 0.1 / 45)):
        assert abs(frac - want) < 5 * math.sqrt(want * (1 - want) / m)
    assert (inputs[selected & (inputs != 4)] >= 5).all()  # 随机替换只用普通词元
    assert torch.equal(inputs[~selected], tokens[~selected])
    assert torch.equal(targets, tokens[selected])


def test_bert_inputs_single_and_pair():
    tok = tokenizer()
    tokens, segments, lens = bert_inputs(tok, ["今天", "这本书很好看"])
    cls, sep = tok.special_id("<cls>"), tok.special_id("<sep>")
    assert tokens.shape == (2, 8) and lens.tolist() == [4, 8]
    assert tokens[0, :4].tolist() == [cls, *tok.encode("今天"), sep]
    assert tokens[0, 4:].tolist() == [tok.pad_id] * 4
    assert segments.sum() == 0
    tokens, segments, lens = bert_inputs(tok, ["今天下雨"], ["带伞"], max_len=9)
    assert tok.decode(tokens[0]) == "<cls>今天下<sep>带伞<sep>"  # A 截到 (9-3)//2 = 3
    assert segments[0].tolist() == [0, 0, 0, 0, 0, 1, 1, 1]


def test_bad_inputs_have_clear_errors():
    tok = tokenizer()
    enc = BERTEncoder(len(tok), num_hiddens=8, ffn_num_hiddens=16, num_heads=2,
                      num_layers=1, max_len=10)
    with pytest.raises(ValueError, match="max_len"):
        enc(torch.ones(1, 11, dtype=torch.long) * 5)
    tokens, segments, lens = bert_inputs(tok, ["今天"], ["带伞"])
    with pytest.raises(ValueError, match="segments 只能取 0"):
        enc(tokens, segments * 2, lens)
    no_sep = tokens.clone()
    no_sep[0, 3] = tok.encode("天")[0]  # 第一句后的 <sep> 换掉
    with pytest.raises(ValueError, match="缺少 <sep>"):
        enc(no_sep, segments, lens)
    enc(tokens, segments, lens)  # 正确的句对没问题
    with pytest.raises(ValueError, match="空文本"):
        bert_inputs(tok, ["今天", ""])
    with pytest.raises(TypeError, match="列表"):
        bert_inputs(tok, "今天")
    with pytest.raises(ValueError, match="max_len 至少为 3"):
        bert_inputs(tok, ["今天"], max_len=2)
    with pytest.raises(ValueError, match="max_len 至少为 5"):
        bert_inputs(tok, ["今天"], ["带伞"], max_len=4)
    with pytest.raises(ValueError, match="索引"):
        enc(torch.full((1, 3), len(tok)))
    bigger = BERTEncoder(len(tok) + 3, num_hiddens=8, ffn_num_hiddens=16, num_heads=2,
                         num_layers=1, max_len=10)
    with pytest.raises(ValueError, match="检查点与模型不匹配"):
        enc.load_state_dict(bigger.state_dict())
    examples = [("今天", 0), ("好看", 2)]
    with pytest.raises(ValueError, match="标签应在"):
        finetune_classifier(enc, examples, 2, tok, num_steps=1)


def test_distance_bias_is_symmetric_and_decreasing():
    b = distance_bias(4, 6)
    assert b.shape == (4, 6, 6)
    assert torch.equal(b, b.transpose(1, 2))
    assert torch.all(b.diagonal(dim1=1, dim2=2) == 0)
    assert torch.all(b[:, 0, 1:] < b[:, 0, :-1])  # 越远越小
    assert b[0, 0, 1] < b[3, 0, 1]  # 第一个头的斜率最大


def test_copy_encoder_copies_weights_not_identity(model):
    enc = copy_encoder(model.encoder, dropout=0.1)
    for (k, v), (k2, v2) in zip(model.encoder.state_dict().items(),
                                enc.state_dict().items()):
        assert k == k2 and torch.equal(v, v2) and v.data_ptr() != v2.data_ptr()


def test_classifier_mean_pooling_ignores_padding():
    torch.manual_seed(0)
    enc = BERTEncoder(40, num_hiddens=8, ffn_num_hiddens=16, num_heads=2,
                      num_layers=1).eval()
    clf = BERTClassifier(enc, 3).eval()
    tokens = torch.randint(5, 40, (1, 5))
    out = clf(tokens, None, torch.tensor([5]))
    padded = torch.cat([tokens, torch.zeros(1, 3, dtype=torch.long)], 1)
    torch.testing.assert_close(clf(padded, None, torch.tensor([5])), out,
                               atol=1e-5, rtol=1e-5)
    assert BERTTagger(enc, 7)(tokens).shape == (1, 5, 7)


def test_finetuning_learns_a_trivial_task():
    """一个一眼能看出的任务：含“好”为正面。几十步微调后训练集全对。"""
    tok = CharTokenizer.train(["好坏天书人" * 3], special_tokens=BERT_SPECIAL_TOKENS,
                              unknown="unk")
    examples = [("天好", 1), ("书坏", 0), ("好人", 1), ("坏天", 0), ("人好书", 1),
                ("书人坏", 0)] * 4
    torch.manual_seed(0)
    enc = BERTEncoder(len(tok), num_hiddens=16, ffn_num_hiddens=32, num_heads=2,
                      num_layers=1)
    clf = finetune_classifier(enc, examples, 2, tok, num_steps=60, batch_size=8,
                              lr=3e-3)
    assert seqbook.training.finetune.classification_accuracy(clf, tok, examples) == 1.0
    tags = ("O", "B-X", "I-X")
    tagged = [(list("天好人"), ["O", "B-X", "I-X"]), (list("书好人坏"), ["O", "B-X", "I-X", "O"])]
    tagged = tagged * 8
    torch.manual_seed(0)
    enc = BERTEncoder(len(tok), num_hiddens=16, ffn_num_hiddens=32, num_heads=2,
                      num_layers=1)
    tagger = finetune_tagger(enc, tagged, tags, tok, num_steps=80, batch_size=8, lr=3e-3)
    assert tagging_f1(tagger, tok, tagged, tags) == 1.0


def test_tagging_chunks_cover_every_character_once():
    tok = tokenizer()
    chars = list("今天下雨了记得带伞这本书很好看")
    tags = ["O"] * len(chars)
    chunks = tagging_chunks([(chars, tags)], tok, ("O",), max_len=6)
    assert sum(len(c[0]) - 2 for c in chunks) == len(chars)
    assert all(c[1][0] == -100 and c[1][-1] == -100 for c in chunks)


def test_nsp_batch_and_packed_batch():
    tok = tokenizer()
    docs = [split_sentences(t) for t in TEXTS] + [["一句。", "又一句。"]]
    assert split_sentences("今天下雨了。记得带伞！") == ["今天下雨了。", "记得带伞！"]
    g = torch.Generator().manual_seed(0)
    tokens, segments, lens, labels = nsp_batch(docs, 64, 16, tok, g)
    assert tokens.shape[0] == 64 and set(labels.tolist()) == {0, 1}
    sep = tok.special_id("<sep>")
    for row, seg, n in zip(tokens, segments, lens):
        assert row[0] == tok.special_id("<cls>") and row[n - 1] == sep
        first_b = int(seg.nonzero()[0]) if seg.any() else None
        assert first_b is not None and row[first_b - 1] == sep
    stream = torch.arange(5, 105)
    rows = packed_batch(stream, 3, 8, torch.Generator().manual_seed(0))
    assert rows.shape == (3, 8) and torch.all(rows[:, 0] == 2)
    assert torch.all(rows[:, 2:] - rows[:, 1:-1] == 1)  # 连续的一段


def test_steps_and_mean_std():
    assert steps_for(10) == 60 and steps_for(10_000) == 300 and steps_for(320) == 100
    assert mean_std([1.0, 3.0]) == (2.0, math.sqrt(2))
    assert mean_std([2.0]) == (2.0, 0.0)


def test_score_bias_is_the_same_on_both_attention_paths():
    torch.manual_seed(0)
    q, k, v = (torch.randn(2, 4, 5, 8) for _ in range(3))
    bias = distance_bias(4, 5)[None]
    mask = seqbook.valid_key_mask(torch.tensor([5, 3]), 5, 5)
    explicit, weights = seqbook.scaled_dot_product(q, k, v, mask, need_weights=True,
                                                   bias=bias)
    fused, _ = seqbook.scaled_dot_product(q, k, v, mask, bias=bias)
    torch.testing.assert_close(explicit, fused, atol=1e-5, rtol=1e-5)
    assert torch.all(weights[1, :, :, 3:] == 0)  # 填充的键权重恰好为 0
    by_hand = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(8) + bias, dim=-1)
    torch.testing.assert_close(weights[0], by_hand[0])


def test_linear_decay():
    from seqbook.training.schedule import lr_factor
    assert [lr_factor(s, 2, "linear", 10) for s in (0, 1, 5, 10)] == [0.5, 0.9, 0.5, 0.0]


def test_bert_config_trains_once_then_loads(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQBOOK_CACHE", str(tmp_path))
    corpus = seqbook.load_bert_corpus()
    config = seqbook.BERTConfig(num_steps=4, num_evals=2, name="bert-test")
    model, record, loaded = seqbook.train_or_load(config, corpus, "cpu")
    assert not loaded and record.steps == [2, 4]
    assert 0 <= record.final_val_mlm_acc <= 1 and "留出集掩蔽词元准确率" in record.summary()
    model2, record2, loaded2 = seqbook.train_or_load(config, corpus, "cpu")
    assert loaded2 and record2.history == record.history
    for a, b in zip(model.state_dict().values(), model2.state_dict().values()):
        assert torch.equal(a, b)
    with pytest.raises(ValueError, match="num_evals"):
        seqbook.pretrain_bert(model, corpus, seqbook.BERTConfig(num_steps=2, num_evals=3))
