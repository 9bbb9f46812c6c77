"""seqbook.data.synthetic：正弦数据、滑动窗口、k 步预测。"""
import pytest
import torch
from torch import nn

from seqbook.data.synthetic import make_windows, sine_data
from seqbook.inference.forecast import k_step_predictions, multistep_predict
from seqbook.models.regression import get_mlp
from seqbook.training.regression import train_regressor


def test_sine_data_shape_and_noise():
    time, x = sine_data(100, noise=0.0)
    assert time.shape == x.shape == (100,)
    assert torch.allclose(x, torch.sin(0.01 * time))
    with pytest.raises(ValueError, match="noise"):
        sine_data(100, noise=-1)


def test_make_windows():
    x = torch.arange(10.0)
    f, l = make_windows(x, 3)
    assert f.shape == (7, 3) and l.shape == (7, 1)
    assert f[0].tolist() == [0, 1, 2] and l[0, 0] == 3 and l[-1, 0] == 9
    with pytest.raises(ValueError, match="tau"):
        make_windows(x, 10)


class _AddOne(nn.Module):
    """“预测”下一个值 = 窗口最后一个值 + 1。"""

    def forward(self, w):
        return w[:, -1:] + 1


def test_k_step_predictions_use_only_old_observations():
    x = torch.arange(20.0) * 10  # 真值每步加 10；模型每步加 1
    out = k_step_predictions(_AddOne(), x, tau=2, ks=[1, 3])
    t1, p1 = out[1]
    assert t1[0] == 2 and torch.equal(p1, x[1:-1] + 1)   # 1 步：上一个观测值 + 1
    t3, p3 = out[3]
    assert t3[0] == 4 and len(t3) == len(p3) == 20 - 2 - 3 + 1
    assert torch.equal(p3, x[t3 - 3] + 3)                 # 3 步：t-3 的观测值 + 3
    with pytest.raises(ValueError, match="ks"):
        k_step_predictions(_AddOne(), x, 2, [0])


def test_multistep_predict():
    x = torch.arange(10.0) * 10
    out = multistep_predict(_AddOne(), x, tau=2, num_observed=5)
    assert torch.equal(out[:5], x[:5]) and out[5:].tolist() == [41, 42, 43, 44, 45]


def test_mlp_learns_sine():
    torch.manual_seed(0)
    _, x = sine_data(400, noise=0.05)
    f, l = make_windows(x, 4)
    net = get_mlp(4)
    losses = train_regressor(net, (f, l), 5, 0.01, "cpu").losses
    assert losses[-1] < 0.01
