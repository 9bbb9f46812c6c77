"""绘图：中文字体无缺字、负号、SVG、训练曲线只留一张图、热图的词元坐标轴。"""
import io
import warnings

import matplotlib
import matplotlib.pyplot as plt
import pytest
import torch

import seqbook
from seqbook.display import plotting


def render_without_missing_glyphs(fig, fmt):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib 对缺字发出 UserWarning：这里当成错误
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt)
    return buf.getvalue()


def test_cjk_font_is_real():
    name = seqbook.display.plotting.use_cjk_font()
    assert name in matplotlib.rcParams["font.sans-serif"]
    path = matplotlib.font_manager.findfont(matplotlib.font_manager.FontProperties(family=name))
    font = matplotlib.ft2font.FT2Font(path)
    charmap = font.get_charmap()
    for ch in "循环神经网络困惑度注意力（）":
        assert ord(ch) in charmap, f"{name} 缺少字符 {ch}"


def test_chinese_labels_and_minus_sign_render():
    fig, ax = plt.subplots()
    ax.plot([-2, -1, 0, 1], [1, -3, 2, -0.5])
    ax.set_xlabel("时间步")
    ax.set_ylabel("困惑度 −1")
    ax.set_title("训练曲线（越低越好）")
    svg = render_without_missing_glyphs(fig, "svg")
    render_without_missing_glyphs(fig, "png")
    plt.close(fig)
    assert b"<svg" in svg
    assert matplotlib.rcParams["axes.unicode_minus"]


def test_plot_returns_axes_and_checks_legend():
    ax = seqbook.plot([1, 2, 3], [[1, 2, 3], [3, 2, 1]], xlabel="轮", ylabel="损失", legend=["训练", "验证"])
    assert len(ax.get_lines()) == 2
    assert ax.get_xlabel() == "轮"
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="legend"):
        seqbook.plot([1, 2], [[1, 2], [2, 1]], legend=["只有一项"])


class FakeHandle:
    def __init__(self):
        self.updates = 0

    def update(self, fig):
        self.updates += 1


def test_training_plot_updates_one_display(monkeypatch):
    shown = []

    def fake_display(fig):
        shown.append(fig)
        return FakeHandle()

    monkeypatch.setattr(plotting, "_display_handle", fake_display)
    curve = seqbook.TrainingPlot(xlabel="轮", ylabel="困惑度", legend=["训练", "验证"])
    for epoch in range(1, 6):
        curve.add(epoch, [10 / epoch, None if epoch % 2 else 12 / epoch])
    assert len(shown) == 1  # 只显示一次，之后原地更新
    assert curve._handle.updates == 4
    assert curve.X[0] == [1, 2, 3, 4, 5] and curve.X[1] == [2, 4]  # None 表示这一轮没有该值
    assert len(curve.ax.get_lines()) == 2
    assert curve.fig not in [plt.figure(n) for n in plt.get_fignums()]  # 未登记到 pyplot
    with pytest.raises(ValueError, match="2 个值"):
        curve.add(6, [1.0])


def test_training_plot_outside_ipython_records_data():
    curve = seqbook.TrainingPlot(legend=["训练"])
    curve.add(1, 3.0)
    curve.add(2, 2.0)
    assert curve.Y == [[3.0, 2.0]]


def test_show_heatmaps_labels_axes_with_tokens():
    weights = torch.softmax(torch.randn(1, 2, 3, 4), dim=-1)
    fig = seqbook.show_heatmaps(weights, x_tokens=["我", "爱", "你", "<eos>"], y_tokens=["i", "love", "you"],
                                titles=["头 1", "头 2"])
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["我", "爱", "你", "<eos>"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["i", "love", "you"]
    assert ax.get_title() == "头 1"
    render_without_missing_glyphs(fig, "svg")
    plt.close(fig)


def test_show_heatmaps_bad_input():
    with pytest.raises(ValueError, match="4 维"):
        seqbook.show_heatmaps(torch.rand(3, 4))
    with pytest.raises(ValueError, match="x_tokens"):
        seqbook.show_heatmaps(torch.rand(1, 1, 3, 4), x_tokens=["a", "b"])


def test_heatmap_colour_range_can_be_diverging():
    import matplotlib
    matplotlib.use("Agg")
    import numpy as np

    import seqbook
    m = np.linspace(-1, 1, 12).reshape(1, 1, 3, 4)
    fig = seqbook.show_heatmaps(m, cmap="RdBu_r", vmin=-1, vmax=1)
    assert fig.axes[0].images[0].get_clim() == (-1, 1)
    fig = seqbook.show_heatmaps(np.abs(m))  # 注意力权重：默认从 0 开始
    assert fig.axes[0].images[0].get_clim()[0] == 0


def test_plot_bars_labels_groups_and_errors():
    """分组柱状图：横轴是给定的类别（中文无缺字），每组一种颜色；长度不符时报错。"""
    ax = seqbook.plot_bars(["白", "日", "依"], [[0.5, 0.3, 0.2], [0.4, 0.4, 0.2]],
                           legend=["T = 0.5", "T = 1"], xlabel="下一个字")
    fig = ax.figure
    fig.canvas.draw()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["白", "日", "依"]
    assert len(ax.patches) == 6
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["T = 0.5", "T = 1"]
    render_without_missing_glyphs(fig, "svg")
    plt.close(fig)
    with pytest.raises(ValueError, match="个类别"):
        seqbook.plot_bars(["白", "日"], [[0.5, 0.3, 0.2]])
    with pytest.raises(ValueError, match="legend"):
        seqbook.plot_bars(["白"], [[0.5], [0.4]], legend=["一组"])
    plt.close("all")
