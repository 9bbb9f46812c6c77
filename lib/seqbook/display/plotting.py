"""绘图：中文字体、SVG 输出、折线图、训练曲线（在 Jupyter 中实时更新）和注意力热图。

导入本模块即完成设置：选一个已安装的 CJK 字体（没有时使用 PyPI 包 ``mplfonts``
自带的 Noto Sans CJK SC），负号正常显示；在 Jupyter 中图片以 SVG 输出。
"""

import importlib.util
import pathlib

import matplotlib
from matplotlib import font_manager
from matplotlib.figure import Figure

# 按偏好排列的中文字体；找不到时回退到 mplfonts 自带的 Noto Sans CJK SC
CJK_FONTS = ["Noto Sans CJK "
             "SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
             "WenQuanYi Zen "
             "Hei", "Microsoft YaHei", "PingFang SC", "Heiti SC", "SimHei"]


_MPLFONTS_FILE = "NotoSansCJKsc-Regular.otf"


def _bundled_cjk_font():
    """mplfonts 包里 Noto Sans CJK SC 字体文件的路径；没装 mplfonts 时返回 None。"""
    spec = importlib.util.find_spec("mplfonts")  # 只找路径，不导入
    if spec is None or not spec.submodule_search_locations:
        return None
    package = pathlib.Path(next(iter(spec.submodule_search_locations)))
    path = package / "fonts" / _MPLFONTS_FILE
    return path if path.is_file() else None


def use_cjk_font():
    """让 matplotlib 用中文字体显示标签，返回所用字体的名字。

    找不到任何中文字体时抛出 ``RuntimeError`` 并说明如何安装，而不是画出一排方框。
    """
    installed = {f.name for f in font_manager.fontManager.ttflist}
    name = next((n for n in CJK_FONTS if n in installed), None)
    if name is None:
        path = _bundled_cjk_font()
        if path is None:
            raise RuntimeError("找不到中文字体：请 `pip install "
                               "mplfonts`（requirements.txt 已包含），"
                               "或安装系统字体（Debian/Ubuntu：apt-get install "
                               "fonts-noto-cjk）")
        font_manager.fontManager.addfont(str(path))
        name = font_manager.FontProperties(fname=str(path)).get_name()
    # 中文字体在前，DejaVu Sans 兜底（负号 U+2212 等符号逐字回退）
    matplotlib.rcParams["font.family"] = "sans-serif"
    matplotlib.rcParams["font.sans-serif"] = [name, "DejaVu Sans"]
    matplotlib.rcParams["axes.unicode_minus"] = True
    # SVG 里的文字转成路径，浏览器无需字体
    matplotlib.rcParams["svg.fonttype"] = "path"
    return name


def use_svg_display():
    """在 Jupyter 中以 SVG（矢量图）显示图片；不在 IPython 中时什么也不做。"""
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:
        return
    if get_ipython() is not None:
        set_matplotlib_formats("svg")


def _display_handle(fig):
    """在 IPython 中显示图并返回可更新的句柄；不在 IPython 中返回 None。"""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return None
    if get_ipython() is None:
        return None
    return display(fig, display_id=True)


def _set_axes(ax, xlabel, ylabel, xlim, ylim, xscale, yscale, legend, title):
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_xscale(xscale)
    ax.set_yscale(yscale)
    if xlim is not None:
        ax.set_xlim(xlim)
    if ylim is not None:
        ax.set_ylim(ylim)
    if legend:
        ax.legend(legend)
    if title:
        ax.set_title(title)
    ax.grid(True, alpha=0.3)


def plot(X, Y=None, xlabel=None, ylabel=None, legend=None, xlim=None, ylim=None,
         xscale="linear", yscale="linear", fmts=("-", "m--", "g-.", "r:"),
         figsize=(4.5, 3), title=None, ax=None):
    """画一条或多条折线。

    ``X``、``Y`` 可以是一维序列或一组序列；只给 ``X`` 时把它当作纵坐标。
    返回 matplotlib 的 ``Axes``，可继续修饰。
    """
    def has_one_axis(v):  # v 是一条曲线（而不是一组曲线）
        if hasattr(v, "ndim"):
            return v.ndim == 1
        return isinstance(v, list) and not hasattr(v[0], "__len__")

    if Y is None:
        X, Y = [[]] * (len(X) if not has_one_axis(X) else 1), X
    if has_one_axis(X):
        X = [X]
    if has_one_axis(Y):
        Y = [Y]
    if len(X) != len(Y):
        X = X * len(Y)
    if legend is not None and len(legend) != len(Y):
        raise ValueError(f"legend 有 {len(legend)} 项，但有 {len(Y)} 条曲线")
    if ax is None:
        import matplotlib.pyplot as plt
        _, ax = plt.subplots(figsize=figsize)
    for x, y, fmt in zip(X, Y, list(fmts) * len(Y)):
        if len(x):
            ax.plot(x, y, fmt)
        else:
            ax.plot(y, fmt)
    _set_axes(ax, xlabel, ylabel, xlim, ylim, xscale, yscale, legend, title)
    return ax


def plot_comparison(results, xlabel="标注样本数", ylabel="测试集上的分数",
                    title=None, figsize=(4.5, 3), ax=None):
    """画对照实验的结果：每组一条折线，点是各种子的均值，误差线是标准差。

    ``results`` 是 ``{(组名, 横坐标): [各种子的分数]}``（如
    :func:`seqbook.compare_pretraining` 的返回值）。横坐标按对数刻度。
    """
    import statistics
    if ax is None:
        import matplotlib.pyplot as plt
        _, ax = plt.subplots(figsize=figsize)
    groups = list(dict.fromkeys(name for name, _ in results))
    for name, fmt in zip(groups, ("o-", "s--", "^-.", "d:")):
        xs = [x for g, x in results if g == name]
        runs = [results[(name, x)] for x in xs]
        means = [statistics.fmean(r) for r in runs]
        stds = [statistics.stdev(r) if len(r) > 1 else 0.0 for r in runs]
        ax.errorbar(xs, means, yerr=stds, fmt=fmt, capsize=3, label=name)
    _set_axes(ax, xlabel, ylabel, None, None, "log", "linear", None, title)
    ticks = sorted({x for _, x in results})
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{x:,}" for x in ticks])
    ax.minorticks_off()
    ax.legend()
    return ax


def plot_bars(labels, values, legend=None, xlabel=None, ylabel=None, title=None,
              figsize=(6, 3), ax=None):
    """分组的柱状图：``labels`` 是横轴上的类别（例如候选的字），``values`` 是一组或
    几组与之等长的数值（每组一种颜色，``legend`` 给出组名）。返回 ``Axes``。"""
    import numpy as np
    if ax is None:
        import matplotlib.pyplot as plt
        _, ax = plt.subplots(figsize=figsize)
    groups = [values] if not hasattr(values[0], "__len__") else list(values)
    if legend is not None and len(legend) != len(groups):
        raise ValueError(f"legend 有 {len(legend)} 项，但有 {len(groups)} 组数值")
    width = 0.8 / len(groups)
    x = np.arange(len(labels))
    for i, v in enumerate(groups):
        if len(v) != len(labels):
            raise ValueError(f"第 {i} 组有 {len(v)} 个数值，"
                             f"但有 {len(labels)} 个类别")
        ax.bar(x + (i - (len(groups) - 1) / 2) * width, v, width,
               label=None if legend is None else legend[i])
    _set_axes(ax, xlabel, ylabel, None, None, "linear", "linear", None, title)
    ax.set_xticks(x)  # 在 _set_axes 之后：设置坐标刻度类型会重置刻度
    ax.set_xticklabels(labels)
    ax.grid(True, axis="y", alpha=0.3)
    ax.grid(False, axis="x")
    if legend is not None:
        ax.legend()
    return ax


class TrainingPlot:
    """训练曲线：在 Jupyter 中随训练实时更新同一张图，结束后只留下最终的一张。

    用法::

        fig = TrainingPlot(xlabel="轮", ylabel="困惑度", legend=["训练", "验证"])
        for epoch in range(num_epochs):
            ...
            fig.add(epoch + 1, [train_ppl, val_ppl])

    实现上用 IPython 的 ``display_id`` 原地更新输出，而不是清空后重画，所以执行后的
    笔记本（以及构建出的书）里只有一张图。不在 IPython 中时只记录数据。
    """

    def __init__(self, xlabel=None, ylabel=None, legend=None, xlim=None, ylim=None,
                 xscale="linear", yscale="linear", fmts=("-", "m--", "g-.", "r:"),
                 figsize=(4.5, 3), title=None):
        self.legend = list(legend) if legend else None
        self.fmts = fmts
        self._axes_args = (xlabel, ylabel, xlim, ylim, xscale, yscale, self.legend,
                           title)
        # 不登记到 pyplot，单元结束时不会被再显示一次
        self.fig = Figure(figsize=figsize)
        self.ax = self.fig.add_subplot()
        self.X, self.Y = None, None
        self._handle = None

    def add(self, x, y):
        """加入一个点：``x`` 是横坐标，``y`` 是一个数或与 legend 等长的一组数（可含
        None）。"""
        ys = list(y) if hasattr(y, "__len__") else [y]
        if self.legend is not None and len(ys) != len(self.legend):
            raise ValueError(f"每次应加入 {len(self.legend)} 个值（与 legend "
                             f"对应），实际 {len(ys)} 个")
        if self.X is None:
            self.X = [[] for _ in ys]
            self.Y = [[] for _ in ys]
        for i, v in enumerate(ys):
            if v is not None:
                self.X[i].append(x)
                self.Y[i].append(float(v))
        self._redraw()

    def _redraw(self):
        self.ax.cla()
        for x, y, fmt in zip(self.X, self.Y, list(self.fmts) * len(self.X)):
            self.ax.plot(x, y, fmt)
        _set_axes(self.ax, *self._axes_args)
        if self._handle is None:
            self._handle = _display_handle(self.fig)
        else:
            self._handle.update(self.fig)


def show_heatmaps(matrices, xlabel="键", ylabel="查询", titles=None, x_tokens=None,
                  y_tokens=None, figsize=(2.8, 2.8), cmap="Reds", colorbar=True,
                  vmin=0, vmax=None):
    """画注意力权重热图。

    参数：
        matrices: 形状 ``(num_rows, num_cols, num_queries, num_keys)``
        的张量或数组，
            每个小图一个 ``(num_queries, num_keys)`` 矩阵。
        x_tokens / y_tokens: 键 / 查询对应的真实词元（长度为 num_keys /
        num_queries），
            标在坐标轴上；不给时显示位置编号。
        titles: 每列的标题（长度为 num_cols）。
        vmin / vmax: 颜色刻度的范围；注意力权重默认从 0 开始。有正有负的矩阵
            （如位置编码）用发散的配色，例如 ``cmap="RdBu_r", vmin=-1, vmax=1``。
    返回 matplotlib 的 ``Figure``。
    """
    import matplotlib.pyplot as plt
    import numpy as np

    if hasattr(matrices, "detach"):
        m = matrices.detach().cpu().numpy()
    else:
        m = np.asarray(matrices)
    if m.ndim != 4:
        raise ValueError("matrices 应为 4 维 (行数, 列数, 查询数, 键数)，"
                         f"实际形状 {tuple(m.shape)}")
    num_rows, num_cols, nq, nk = m.shape
    if x_tokens is not None and len(x_tokens) != nk:
        raise ValueError(f"x_tokens 有 {len(x_tokens)} 个词元，但键的个数是 {nk}")
    if y_tokens is not None and len(y_tokens) != nq:
        raise ValueError(f"y_tokens 有 {len(y_tokens)} 个词元，但查询的个数是 {nq}")
    if titles is not None and len(titles) != num_cols:
        raise ValueError(f"titles 有 {len(titles)} 项，但有 {num_cols} 列")
    size = (figsize[0] * num_cols, figsize[1] * num_rows)
    fig, axes = plt.subplots(num_rows, num_cols, figsize=size, sharex=True,
                             sharey=True, squeeze=False, layout="constrained")
    for i in range(num_rows):
        for j in range(num_cols):
            ax = axes[i, j]
            pcm = ax.imshow(m[i, j], cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
            if x_tokens is not None:
                ax.set_xticks(range(nk), x_tokens, rotation=90)
            if y_tokens is not None:
                ax.set_yticks(range(nq), y_tokens)
            if i == num_rows - 1:
                ax.set_xlabel(xlabel)
            if j == 0:
                ax.set_ylabel(ylabel)
            if titles is not None and i == 0:
                ax.set_title(titles[j])
    if colorbar:
        fig.colorbar(pcm, ax=axes, shrink=0.6)
    return fig


use_cjk_font()


use_svg_display()
