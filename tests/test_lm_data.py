"""seqbook.data.lm_data：训练/验证划分与两种小批量迭代器。"""
import pytest
import torch

from seqbook.data.lm_data import (
    SeqDataLoader,
    load_data_time_machine,
    seq_data_iter_random,
    seq_data_iter_sequential,
    split_corpus,
)

CORPUS = list(range(100, 1100))  # 每个词元的值互不相同，便于定位


def test_split_corpus_is_contiguous_tail():
    train, val = split_corpus(CORPUS, 0.1)
    assert len(val) == 100 and train + val == CORPUS
    with pytest.raises(ValueError, match="val_fraction"):
        split_corpus(CORPUS, 1.5)
    with pytest.raises(ValueError, match="少于 2"):
        split_corpus([1, 2, 3], 0.1)


@pytest.mark.parametrize("fn", [seq_data_iter_random, seq_data_iter_sequential])
def test_y_is_x_shifted_by_one(fn):
    gen = torch.Generator().manual_seed(0)
    batches = list(fn(CORPUS, 4, 7, gen))
    assert batches
    for X, Y in batches:
        assert X.shape == Y.shape == (4, 7)
        assert torch.equal(Y, X + 1)  # CORPUS 中相邻词元相差 1


def test_sequential_rows_continue_across_batches():
    gen = torch.Generator().manual_seed(1)
    batches = list(seq_data_iter_sequential(CORPUS, 5, 6, gen))
    assert len(batches) > 2
    for (X0, _), (X1, _) in zip(batches, batches[1:]):
        assert torch.equal(X1[:, 0], X0[:, -1] + 1)  # 第 i 行接着上一个小批量的第 i 行


def test_random_sampling_covers_without_overlap():
    for seed in range(5):
        gen = torch.Generator().manual_seed(seed)
        num_steps, batch_size = 7, 4
        batches = list(seq_data_iter_random(CORPUS, batch_size, num_steps, gen))
        starts = sorted(int(x) for X, _ in batches for x in X[:, 0])
        # 子序列互不重叠：相邻起点至少相差 num_steps
        assert all(b - a >= num_steps for a, b in zip(starts, starts[1:]))
        # 几乎覆盖全文：没用到的词元少于 num_steps（偏移）+ 一个小批量 + num_steps
        used = len(starts) * num_steps
        assert used >= len(CORPUS) - num_steps - batch_size * num_steps - num_steps
        # 覆盖的都是由同一偏移切出的位置
        assert len({(s - CORPUS[0]) % num_steps for s in starts}) == 1


def test_random_offsets_differ_between_epochs():
    loader = SeqDataLoader(CORPUS, 4, 7, use_random_iter=True, seed=0)
    offsets = {min(int(x) for X, _ in loader for x in X[:, 0]) for _ in range(10)}
    assert len(offsets) > 1


def test_random_minibatches_not_consecutive():
    loader = SeqDataLoader(CORPUS, 4, 7, use_random_iter=True, seed=0)
    batches = list(loader)
    continued = [torch.equal(b[0][:, 0], a[0][:, -1] + 1) for a, b in zip(batches, batches[1:])]
    assert not all(continued)


def test_loader_seed_is_reproducible():
    a = [X for X, _ in SeqDataLoader(CORPUS, 4, 7, True, seed=3)]
    b = [X for X, _ in SeqDataLoader(CORPUS, 4, 7, True, seed=3)]
    assert all(torch.equal(x, y) for x, y in zip(a, b))


@pytest.mark.parametrize("fn", [seq_data_iter_random, seq_data_iter_sequential])
@pytest.mark.parametrize("batch_size, num_steps, match", [
    (0, 5, "batch_size"), (-1, 5, "batch_size"), (2, 0, "num_steps"), (2.0, 5, "batch_size"),
    (200, 5, "放不下"), (2, 600, "放不下")])
def test_bad_sizes_raise_immediately(fn, batch_size, num_steps, match):
    # 类型不对（2.0 不是整数）抛出 TypeError，值不对抛出 ValueError
    error = TypeError if isinstance(batch_size, float) else ValueError
    with pytest.raises(error, match=match):
        fn(CORPUS, batch_size, num_steps)  # 调用时就报错，不必等到迭代


def test_loader_bad_sizes_and_offset():
    with pytest.raises(ValueError, match="放不下"):
        SeqDataLoader(CORPUS, 100, 10, use_random_iter=True)
    with pytest.raises(ValueError, match="offset"):
        seq_data_iter_sequential(CORPUS, 2, 5, offset=5)


def test_largest_allowed_sizes_always_give_a_batch():
    corpus = list(range(50))
    for seed in range(20):
        gen = torch.Generator().manual_seed(seed)
        assert len(list(seq_data_iter_random(corpus, 6, 7, gen))) >= 1
        assert len(list(seq_data_iter_sequential(corpus, 6, 7, gen))) >= 1


def test_load_data_time_machine_split():
    train_iter, val_iter, vocab = load_data_time_machine(8, 10, use_random_iter=True, seed=0)
    assert train_iter.use_random_iter and not val_iter.use_random_iter
    n_train, n_val = len(train_iter.corpus), len(val_iter.corpus)
    assert abs(n_val / (n_train + n_val) - 0.1) < 1e-3
    X, Y = next(iter(train_iter))
    assert X.shape == (8, 10) and X.dtype == torch.long
    # 验证集每次完全相同
    a, b = list(val_iter), list(val_iter)
    assert all(torch.equal(x[0], y[0]) for x, y in zip(a, b))
    assert len(vocab) == 28


def test_ngram_perplexity_uniform_and_deterministic():
    from seqbook.data.lm_data import ngram_perplexity
    # 训练集里每个词元出现一样多次：一元语法就是均匀分布，困惑度等于词表大小
    assert abs(ngram_perplexity([0, 1, 2, 3] * 50, [3, 2, 1, 0], 1, 4, alpha=1.0) - 4) < 1e-9
    # 确定性的周期序列：二元语法几乎完全确定
    periodic = [0, 1, 2, 3] * 50
    assert ngram_perplexity(periodic, [0, 1, 2, 3, 0], 2, 4, alpha=0.01) < 1.01
    with pytest.raises(ValueError, match="alpha"):
        ngram_perplexity(periodic, periodic, 2, 4, alpha=0)
