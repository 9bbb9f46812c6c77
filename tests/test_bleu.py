"""BLEU：与 sacrebleu 逐项比较（测试专用依赖），以及边界情况。"""
import math

import pytest
import sacrebleu

import seqbook

ZH = [  # (预测, [参考译文, ...])
    ("我很好。", ["我很好。"]),                      # 完全匹配
    ("他是老师。", ["他是一个老师。", "他是老师啊。"]),  # 多个参考译文
    ("好", ["你好。"]),                             # 比 n 短
    ("", ["我们走吧。"]),                            # 空预测
    ("汤姆喜欢吃苹果。", ["汤姆很喜欢苹果。"]),
    ("我不知道他在哪里。", ["我不知道他在哪。", "我不晓得他在哪里。"]),
    ("Tom在家。", ["Tom在家里。"]),                  # 连续的拉丁字母算一个词元
    ("你你你你", ["你好"]),                          # 截断的计数
    ("今天天气很好。", ["今天的天气很好。"]),
    ("谢谢", ["谢谢你。", "多谢。"]),
]


def _tok(text):
    return seqbook.tokenize_chinese(text)


@pytest.mark.parametrize("pred,refs", ZH)
def test_sentence_bleu_equals_sacrebleu(pred, refs):
    ours = seqbook.sentence_bleu(_tok(pred), [_tok(r) for r in refs])
    theirs = sacrebleu.sentence_bleu(pred, refs, tokenize="zh").score
    assert math.isclose(ours, theirs, rel_tol=1e-9, abs_tol=1e-9)


def _sacre_corpus(preds, refs):
    num_refs = max(len(r) for r in refs)
    streams = [[r[i] if i < len(r) else None for r in refs] for i in range(num_refs)]
    # sacrebleu 用 None 表示“这一句没有第 i 个参考译文”
    return sacrebleu.corpus_bleu(preds, streams, tokenize="zh").score


@pytest.mark.parametrize("subset", [slice(None), slice(0, 3), slice(2, 4), slice(3, 4),
                                    slice(4, 10), slice(0, 1)])
def test_corpus_bleu_equals_sacrebleu(subset):
    preds = [p for p, _ in ZH[subset]]
    refs = [r for _, r in ZH[subset]]
    ours = seqbook.inference.bleu.corpus_bleu([_tok(p) for p in preds], [[_tok(x) for x in r] for r in refs])
    assert math.isclose(ours, _sacre_corpus(preds, refs), rel_tol=1e-9, abs_tol=1e-9)


def test_space_tokenized_english_equals_sacrebleu_none():
    preds = ["the cat sat on the mat", "a dog", "hello world"]
    refs = [["the cat is on the mat", "there is a cat on the mat"], ["the dog barks"], ["hello world"]]
    ours = seqbook.inference.bleu.corpus_bleu([p.split() for p in preds], [[r.split() for r in rs] for rs in refs])
    theirs = sacrebleu.corpus_bleu(preds, [[r[0] for r in refs], [r[1] if len(r) > 1 else None for r in refs]],
                                   tokenize="none").score
    assert math.isclose(ours, theirs, rel_tol=1e-9)
    for p, rs in zip(preds, refs):
        ours = seqbook.sentence_bleu(p.split(), [r.split() for r in rs])
        assert math.isclose(ours, sacrebleu.sentence_bleu(p, rs, tokenize="none").score, rel_tol=1e-9)


def test_edge_cases_no_division_by_zero():
    assert seqbook.sentence_bleu([], [["a"]]) == 0.0
    assert seqbook.inference.bleu.corpus_bleu([[]], [[["a", "b"]]]) == 0.0
    assert seqbook.sentence_bleu(["a", "b", "c", "d"], [["a", "b", "c", "d"]]) == pytest.approx(100.0)
    assert seqbook.sentence_bleu(["a"], [["a"]]) == pytest.approx(100.0)   # 有效阶数：只用一元语法
    assert seqbook.inference.bleu.corpus_bleu([["a"]], [[["a"]]]) == 0.0                  # 语料级：没有 2～4 元语法
    assert seqbook.inference.bleu.corpus_bleu([["a", "b"]], [[["a", "b"]]], max_n=2) == pytest.approx(100.0)
    assert seqbook.sentence_bleu(["x", "y"], [["a", "b"]]) == 0.0          # 没有任何匹配
    assert seqbook.sentence_bleu(["a", "x", "y"], [["a", "b", "c"]], smooth="none") == 0.0


def test_hand_computed_fixture():
    # 预测 a b c d e，参考 a b c x e f：p1=4/5，p2=2/4，p3=1/3，p4=0/2 → 平滑为 1/(2*2)
    # BP = exp(1 - 6/5)
    pred, ref = list("abcde"), list("abcxef")
    expected = 100 * math.exp(1 - 6 / 5) * math.exp((math.log(4 / 5) + math.log(2 / 4)
                                                      + math.log(1 / 3) + math.log(1 / 4)) / 4)
    assert seqbook.sentence_bleu(pred, [ref]) == pytest.approx(expected)


def test_stats_and_bad_input():
    p, r, m, t = seqbook.inference.bleu.bleu_stats(list("aab"), [list("ab"), list("aabb")])
    assert (p, r) == (3, 2) and m[0] == 3 and t == [3, 2, 1, 0]   # 长度 2 与 4 一样接近时取较短的
    with pytest.raises(TypeError, match="词元列表"):
        seqbook.sentence_bleu("我很好", [["我"]])
    with pytest.raises(ValueError, match="references"):
        seqbook.sentence_bleu(["我"], [])
    with pytest.raises(ValueError, match="等长"):
        seqbook.inference.bleu.corpus_bleu([["a"]], [])
    with pytest.raises(ValueError, match="为空"):
        seqbook.inference.bleu.corpus_bleu([], [])
    with pytest.raises(ValueError, match="smooth"):
        seqbook.sentence_bleu(["a"], [["a"]], smooth="add-k")


def test_corpus_bleu_rejects_generators_and_iterators_clearly():
    """生成器没有长度，也只能遍历一次：给出中文的 TypeError，而不是 Python 的英文错误或静默的 0。"""
    preds, refs = [list("我很好，谢谢")], [[list("我很好，谢谢")]]
    with pytest.raises(TypeError, match="predictions.*list"):
        seqbook.inference.bleu.corpus_bleu((p for p in preds), refs)
    with pytest.raises(TypeError, match="references.*list"):
        seqbook.inference.bleu.corpus_bleu(preds, (r for r in refs))
    with pytest.raises(TypeError, match="predictions"):
        seqbook.inference.bleu.corpus_bleu(iter(preds), refs)
    with pytest.raises(TypeError, match="predictions"):
        seqbook.inference.bleu.corpus_bleu("我很好", refs)
    assert seqbook.inference.bleu.corpus_bleu(tuple(preds), tuple(refs)) == 100.0
