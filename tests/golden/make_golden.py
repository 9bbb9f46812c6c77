"""库重构的“金数字”：用固定种子跑书中每种训练、注意力与解码的小例子，记下逐位的结果。

重构前用 ``python tests/golden/make_golden.py`` 生成 ``reference.json``；重构后
``tests/test_golden.py`` 用同一脚本重算并要求完全相同（行为不变）。只用公开接口。
"""
import json
import pathlib
import sys

import torch
from torch import nn

import seqbook

HERE = pathlib.Path(__file__).resolve().parent


def digest(*tensors):
    """张量的三个统计量：和、绝对值之和、按位置加权的和（对元素换位也敏感）。"""
    x = torch.cat([t.detach().reshape(-1).double() for t in tensors])  # (n,)
    x = torch.nan_to_num(x, nan=1e6)
    w = torch.arange(1, x.numel() + 1, dtype=torch.float64) / x.numel()  # (n,)
    return [float(x.sum()), float(x.abs().sum()), float((w * x).sum())]


def params_digest(model):
    return digest(*[p for p in model.parameters()])


def floats(xs):
    return [float(x) for x in xs]


def attention_cases():
    out = {}
    torch.manual_seed(0)
    Q, K, V = torch.randn(3, 4, 8), torch.randn(3, 6, 8), torch.randn(3, 6, 5)
    lens1, lens2 = torch.tensor([2, 6, 0]), torch.tensor([[1, 2, 3, 0], [6, 5, 4, 3], [0, 0, 1, 1]])
    scores = torch.randn(3, 4, 6)
    out["masked_softmax"] = digest(seqbook.masked_softmax(scores, lens1), seqbook.masked_softmax(scores, lens2),
                                   seqbook.masked_softmax(scores))
    for keep in (True, False):
        att = seqbook.DotProductAttention(keep_weights=keep).eval()
        out[f"dot_keep{keep}"] = digest(att(Q, K, V, lens1), att(Q, K, V, lens2), att(Q, K, V))
    add = seqbook.AdditiveAttention(8, 8, 16).eval()
    out["additive"] = digest(add(Q, K, V, lens1), add(Q, K, V, lens2))
    torch.manual_seed(1)
    mha = seqbook.MultiHeadAttention(16, 4).eval()
    X, Y = torch.randn(3, 4, 16), torch.randn(3, 6, 16)
    res = [mha(X, Y, Y, lens1), mha(X, Y, Y, lens2), mha(X, X, X, causal=True),
           mha(X, X, X, torch.tensor([4, 2, 0]), causal=True)]
    out["mha"] = digest(*res)
    return out


def lm_cases():
    out = {}
    train_iter, val_iter, vocab = seqbook.load_data_time_machine(16, 20, max_tokens=6000, seed=0)
    seqbook.set_seed(0)
    net = seqbook.RNNLMScratch(len(vocab), 32)
    r = seqbook.train_lm(net, train_iter, 2, 1.0, torch.device("cpu"), val_iter=val_iter,
                         plot=False)
    out["rnn_scratch"] = {"train_ppl": floats(r.train_ppl), "val_ppl": floats(r.val_ppl),
                          "params": params_digest(net)}
    seqbook.set_seed(0)
    net = seqbook.RNNModel(nn.GRU(len(vocab), 32, batch_first=True), len(vocab))
    r = seqbook.train_lm(net, train_iter, 2, 0.01, torch.device("cpu"), val_iter=val_iter,
                         optimizer="adam", plot=False)
    out["gru_adam"] = {"train_ppl": floats(r.train_ppl), "val_ppl": floats(r.val_ppl),
                       "params": params_digest(net)}
    seqbook.set_seed(0)
    net = seqbook.RNNLMScratch(len(vocab), rnn=seqbook.LSTMScratch(len(vocab), 32))
    r = seqbook.train_lm(net, train_iter, 1, 1.0, torch.device("cpu"), val_iter=val_iter,
                         plot=False)
    out["lstm_scratch"] = {"train_ppl": floats(r.train_ppl), "val_ppl": floats(r.val_ppl),
                           "params": params_digest(net)}
    out["predict"] = seqbook.predict("time traveller", 20, net, vocab)
    seqbook.set_seed(0)
    net = seqbook.RNNModel(nn.GRU(len(vocab), 32, batch_first=True, bidirectional=True), len(vocab))
    r = seqbook.train_fill_blank(net, train_iter, 1, 0.01, torch.device("cpu"), val_iter=val_iter)
    out["fill_blank"] = {"acc": floats(r.val_acc), "params": params_digest(net)}
    return out


def regression_cases():
    out = {}
    g = torch.Generator().manual_seed(0)
    _, x = seqbook.sine_data(T=200, generator=g)
    features, labels = seqbook.make_windows(x, 4)
    seqbook.set_seed(0)
    net = seqbook.get_mlp(4)
    r = seqbook.train_regressor(net, (features, labels), 2, 0.01, "cpu",
                                generator=torch.Generator().manual_seed(0))
    out["regressor"] = {"result": repr(r.losses), "params": params_digest(net)}
    x_train, y_train, *_ = seqbook.make_kernel_data(generator=torch.Generator().manual_seed(0))
    seqbook.set_seed(0)
    model = seqbook.NWKernelRegression()
    r = seqbook.train_kernel_regression(model, (x_train, y_train), 3, 0.5, "cpu")
    out["kernel"] = {"result": repr(r.losses), "params": params_digest(model)}
    return out


def seq2seq_cases():
    out = {}
    data = seqbook.load_translation("cmn-eng", num_examples=1500, num_test=100)
    cpu = torch.device("cpu")
    builds = {
        "gru": lambda: seqbook.build_seq2seq(data.src_vocab, data.tgt_vocab, 32, 32, 1, 0.1),
        "bahdanau": lambda: seqbook.models.bahdanau.build_bahdanau(data.src_vocab, data.tgt_vocab, 32, 32, 1, 0.1),
        "transformer": lambda: seqbook.build_transformer(len(data.src_vocab), len(data.tgt_vocab), 32, 64, 4, 2,
                                                        0.1, norm_first=True),
    }
    for name, build in builds.items():
        seqbook.set_seed(0)
        model = build()
        kw = dict(warmup_steps=10, label_smoothing=0.1) if name == "transformer" else {}
        if name == "gru":
            kw = dict(teacher_forcing_ratio=0.8, lr_decay="cosine")
        r = seqbook.train_seq2seq(model, data, 2, 0.005, cpu, plot=False,
                                  generator=torch.Generator().manual_seed(0), **kw)
        model.eval()
        out[name] = {"losses": floats(r.losses), "params": params_digest(model),
                     "bleu_greedy": repr(seqbook.evaluate_bleu(model, data, cpu)),
                     "bleu_beam": repr(seqbook.evaluate_bleu(model, data, cpu, beam_size=3)),
                     "translate": seqbook.translate(model, ["i am happy .", "he runs ."], data.src_vocab,
                                                    data.tgt_vocab, data.num_steps, cpu, beam_size=2)}
    return out


def compute():
    torch.set_num_threads(1)
    return {"attention": attention_cases(), "regression": regression_cases(), "lm": lm_cases(),
            "seq2seq": seq2seq_cases()}


if __name__ == "__main__":
    result = compute()
    text = json.dumps(result, ensure_ascii=False, indent=1, sort_keys=True, default=repr)
    if "--print" in sys.argv:
        print(text)
    elif "--exact" in sys.argv:  # 重构时用：要求逐位相同
        same = text + "\n" == (HERE / "reference.json").read_text(encoding="utf-8")
        print("逐位相同" if same else "与 reference.json 不同")
        sys.exit(0 if same else 1)
    else:
        (HERE / "reference.json").write_text(text + "\n", encoding="utf-8")
        print("written", HERE / "reference.json")
