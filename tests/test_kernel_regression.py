"""seqbook.models.regression：Nadaraya-Watson 核回归。"""
import pytest
import torch

from seqbook.data.synthetic import kernel_target, make_kernel_data
from seqbook.models.regression import (
    NWKernelRegression,
    average_pooling,
    gaussian_kernel_weights,
    leave_one_out,
    nadaraya_watson,
)
from seqbook.training.regression import train_kernel_regression


def _data():
    return make_kernel_data(50, 40, generator=torch.Generator().manual_seed(0))


def test_make_kernel_data_shapes_and_sorted():
    x_train, y_train, x_test, y_truth = _data()
    assert x_train.shape == y_train.shape == (50,)
    assert x_test.shape == y_truth.shape == (40,)
    assert torch.all(x_train[1:] >= x_train[:-1])
    assert 0 <= x_train.min() and x_train.max() < 5
    torch.testing.assert_close(y_truth, 2 * torch.sin(x_test) + x_test ** 0.8)
    # 同一个种子给出同样的数据
    assert torch.equal(_data()[1], y_train)


def test_average_pooling():
    y = torch.tensor([1.0, 2.0, 6.0])
    assert torch.equal(average_pooling(y, 4), torch.full((4,), 3.0))


def test_gaussian_weights_rows_sum_to_one_and_match_formula():
    q, k = torch.tensor([0.0, 1.0]), torch.tensor([0.0, 0.5, 3.0])
    w = gaussian_kernel_weights(q, k, w=2.0)
    assert w.shape == (2, 3)
    torch.testing.assert_close(w.sum(1), torch.ones(2))
    e = torch.exp(-((q[:, None] - k) * 2.0) ** 2 / 2)
    torch.testing.assert_close(w, e / e.sum(1, keepdim=True))
    # 最近的键权重最大
    assert w[0].argmax() == 0 and w[1].argmax() == 1


def test_nadaraya_watson_beats_average_and_wider_kernel_is_smoother():
    x_train, y_train, x_test, y_truth = _data()
    mse_avg = ((average_pooling(y_train, 40) - y_truth) ** 2).mean()
    pred, weights = nadaraya_watson(x_test, x_train, y_train)
    assert weights.shape == (40, 50)
    assert ((pred - y_truth) ** 2).mean() < mse_avg
    # 核越窄，预测曲线越曲折（总变差越大）
    tv = [nadaraya_watson(x_test, x_train, y_train, w)[0].diff().abs().sum() for w in (1.0, 5.0, 20.0)]
    assert tv[0] < tv[1] < tv[2]


def test_leave_one_out_excludes_self():
    x, y = torch.tensor([1.0, 2.0, 3.0]), torch.tensor([10.0, 20.0, 30.0])
    keys, values = leave_one_out(x, y)
    assert keys.tolist() == [[2.0, 3.0], [1.0, 3.0], [1.0, 2.0]]
    assert values.tolist() == [[20.0, 30.0], [10.0, 30.0], [10.0, 20.0]]


def test_training_learns_w_and_lowers_loss():
    torch.manual_seed(0)
    x_train, y_train, x_test, y_truth = _data()
    model = NWKernelRegression(w=0.5)
    result = train_kernel_regression(model, (x_train, y_train), 5, 0.5, "cpu")
    losses = result.losses
    assert len(losses) == 5 and result.device == "cpu"
    assert losses[-1] < losses[0]
    assert abs(model.w.item()) > 1.0  # 学到的核比 w=1 窄
    with torch.no_grad():
        pred = model(x_test, x_train, y_train)
    assert model.attention_weights.shape == (40, 50)
    assert torch.isfinite(pred).all()


def test_bad_input():
    with pytest.raises(ValueError, match="n_train"):
        make_kernel_data(0)
    with pytest.raises(ValueError, match="noise"):
        make_kernel_data(10, noise=-1.0)
    with pytest.raises(ValueError, match="queries"):
        gaussian_kernel_weights(torch.zeros(2, 2), torch.zeros(3))
    with pytest.raises(ValueError, match="keys"):
        gaussian_kernel_weights(torch.zeros(2), torch.zeros(3, 4))
    with pytest.raises(ValueError, match="values"):
        nadaraya_watson(torch.zeros(2), torch.zeros(3), torch.zeros(4))
    with pytest.raises(ValueError, match="x_train"):
        leave_one_out(torch.zeros(3), torch.zeros(2))
    with pytest.raises(ValueError, match="num_epochs"):
        train_kernel_regression(NWKernelRegression(), (torch.zeros(3), torch.zeros(3)), 0, 0.5)
    with pytest.raises(ValueError, match="lr"):
        train_kernel_regression(NWKernelRegression(), (torch.zeros(3), torch.zeros(3)), 5, 0)
    assert kernel_target(torch.tensor([0.0])).item() == 0.0
