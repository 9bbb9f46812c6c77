"""画出本书的架构图：每张图是这里的一个函数，输出 book/img/<名字>.svg。

用法（在仓库根目录）::

    .venv/bin/python book/img/draw_figures.py            # 重画全部图，写入 book/img/
    .venv/bin/python book/img/draw_figures.py gru lstm   # 只画指定的图
    .venv/bin/python book/img/draw_figures.py --png /tmp/figs   # 另存一份 PNG，便于查看

生成的 SVG 与本脚本一起提交，构建书时不需要运行它；``tests/test_figures.py`` 检查提交的
SVG 与重新生成的完全相同。所有图共用下面“统一的样式”一节中的线宽、配色、字号、箭头和圆角框。
文字转成路径（``svg.fonttype = 'path'``），阅读时不需要字体，任意缩放都清晰；SVG 中不写日期，
元素的 id 由固定的 ``svg.hashsalt`` 生成，所以同样的输入总是得到逐字节相同的文件。
"""
import math
import pathlib
import sys

import matplotlib
import matplotlib.patheffects as pe
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle
from matplotlib.textpath import text_to_path

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "lib"))
from seqbook.display.plotting import use_cjk_font  # noqa: E402

# ---------------------------------------------------------------- 统一的样式
UNIT = 0.5          # 一个坐标单位 = 0.5 英寸
FS = 12             # 正文字号（磅）
FS_SMALL = 10.5     # 注释、形状等小字
FS_TINY = 9         # 代码名、张量形状
LW = 1.2            # 线宽
INK = "#333333"     # 连线与文字
GRAD = "#C0392B"    # 梯度、强调的路径
MUTED = "#9A9A9A"   # 淘汰的、次要的元素
ARROW = dict(arrowstyle="-|>", mutation_scale=10)
# 各类元素的（填充色，边框色）：在白色背景上都清楚可读
PALETTE = {
    "input": ("#E7F0FA", "#3B73B9"),    # 输入、词元
    "hidden": ("#FFF1DD", "#D9822B"),   # 隐状态、记忆元
    "output": ("#E6F4EA", "#3C8D50"),   # 输出
    "layer": ("#F1EAFA", "#7E57C2"),    # 带参数的层、门
    "attn": ("#FCE9E8", "#C0504D"),     # 注意力
    "norm": ("#FFF8D6", "#B08D1A"),     # 规范化
    "plain": ("#FFFFFF", "#555555"),    # 按元素的运算、其他
    "muted": ("#F4F4F4", "#B0B0B0"),    # 淘汰的候选、已缓存的内容
    "group": ("#FAFAFA", "#B8B8B8"),    # 把几个元素框在一起
}
HEADS = ["#3B73B9", "#D9822B", "#3C8D50", "#7E57C2"]  # 多头注意力中各个头的颜色
HALO = [pe.Stroke(linewidth=LW + 3.5, foreground="white"), pe.Normal()]  # 交叉的线留出白边


def setup():
    """中文字体（seqbook 的 Noto Sans CJK SC）、公式字体与确定性的 SVG 输出。"""
    use_cjk_font()
    matplotlib.rcParams.update({
        "svg.fonttype": "path",
        "svg.hashsalt": "seqbook-figures",
        "mathtext.fontset": "cm",
        "font.size": FS,
        "text.color": INK,
    })


class Canvas:
    """一张图：坐标以 UNIT 英寸为单位，原点在左下角，白色圆角背景。"""

    def __init__(self, width, height):
        self.fig = Figure(figsize=(width * UNIT, height * UNIT))
        self.fig.patch.set_alpha(0.0)
        ax = self.fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, width)
        ax.set_ylim(0, height)
        ax.set_aspect("equal")
        ax.axis("off")
        ax.add_patch(FancyBboxPatch((0.04, 0.04), width - 0.08, height - 0.08, zorder=-10,
                                    boxstyle="round,pad=0,rounding_size=0.3",
                                    facecolor="white", edgecolor="none"))
        self.ax = ax

    # ---- 元素
    def box(self, x, y, w, h, text="", kind="plain", fs=FS, ls="-", lw=LW, color=None,
            z=2):
        """以 (x, y) 为中心、w × h 的圆角框，框中写 text。"""
        face, edge = PALETTE[kind]
        self.ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, zorder=z,
                                         boxstyle=f"round,pad=0,rounding_size={min(0.15, h / 3):.3f}",
                                         facecolor=face, edgecolor=color or edge, lw=lw, ls=ls))
        if text:
            self.text(x, y, text, fs=fs, z=z + 0.5)

    def op(self, x, y, sym, r=0.22, fs=FS, kind="plain"):
        """按元素运算的圆圈（⊙、+、1−、tanh……）。"""
        face, edge = PALETTE[kind]
        self.ax.add_patch(Circle((x, y), r, facecolor=face, edgecolor=edge, lw=LW, zorder=3))
        self.text(x, y, sym, fs=fs, z=3.5)

    def node(self, x, y, text, kind, r=0.28, fs=FS, color=None, lw=LW):
        face, edge = PALETTE[kind]
        self.ax.add_patch(Circle((x, y), r, facecolor=face, edgecolor=color or edge, lw=lw, zorder=3))
        if text:
            self.text(x, y, text, fs=fs, z=3.5)

    def text(self, x, y, s, fs=FS, color=INK, ha="center", va="center", z=4, **kw):
        self.ax.text(x, y, s, fontsize=fs, color=color, ha=ha, va=va, zorder=z, **kw)

    def wire(self, *pts, color=INK, arrow=True, ls="-", lw=LW, halo=True, z=1):
        """折线 pts[0] → pts[1] → …，默认在终点画箭头；halo 让它与先画的线交叉处留出白边。"""
        xs, ys = zip(*pts)
        self.ax.plot(xs, ys, color=color, lw=lw, ls=ls, zorder=z, solid_capstyle="butt",
                     solid_joinstyle="miter", path_effects=HALO if halo else None)
        if arrow:  # 箭头只画在最后一小段上，不带白边，以免盖住折线本身
            (x0, y0), (x1, y1) = pts[-2], pts[-1]
            d = max(abs(x1 - x0), abs(y1 - y0))
            f = min(1.0, 0.3 / d) if d else 1.0
            self.ax.add_patch(FancyArrowPatch((x1 - f * (x1 - x0), y1 - f * (y1 - y0)), (x1, y1),
                                              shrinkA=0, shrinkB=0, color=color, lw=lw,
                                              zorder=z + 0.1, **ARROW))

    def curve(self, p, q, rad=0.3, color=INK, ls="-", lw=LW, z=1):
        self.ax.add_patch(FancyArrowPatch(p, q, shrinkA=0, shrinkB=0, color=color, lw=lw, ls=ls,
                                          zorder=z, path_effects=HALO,
                                          connectionstyle=f"arc3,rad={rad}", **ARROW))

    def dot(self, x, y, color=INK):
        self.ax.add_patch(Circle((x, y), 0.055, color=color, zorder=3))

    def group(self, x0, y0, x1, y1, label="", label_xy=None, ls="--"):
        """把几个元素框起来的浅灰色圆角框。"""
        face, edge = PALETTE["group"]
        self.ax.add_patch(FancyBboxPatch((x0, y0), x1 - x0, y1 - y0, zorder=0,
                                         boxstyle="round,pad=0,rounding_size=0.2",
                                         facecolor=face, edgecolor=edge, lw=LW, ls=ls))
        if label:
            lx, ly = label_xy or (x0 + 0.15, y1 - 0.25)
            self.text(lx, ly, label, fs=FS_SMALL, color="#666666", ha="left")

    def save(self, path, png_dir=None):
        self.fig.savefig(path, format="svg", metadata={"Date": None})
        if png_dir is not None:
            self.fig.savefig(pathlib.Path(png_dir) / (pathlib.Path(path).stem + ".png"), dpi=150)


# ---------------------------------------------------------------- 第 1 章
def rnn():
    """有隐状态的循环神经网络：左边是折叠的画法，右边按时间步展开。"""
    c = Canvas(15.4, 5.9)
    bw, bh = 1.3, 0.7
    yx, yh, yo = 1.0, 3.0, 5.0
    # 折叠的画法
    x0 = 1.7
    c.box(x0, yx, bw, bh, r"$\mathbf{X}_t$", "input")
    c.box(x0, yh, bw, bh, r"$\mathbf{H}_t$", "hidden")
    c.box(x0, yo, bw, bh, r"$\mathbf{O}_t$", "output")
    c.wire((x0, yx + bh / 2), (x0, yh - bh / 2))
    c.wire((x0, yh + bh / 2), (x0, yo - bh / 2))
    r = x0 + bw / 2
    c.wire((r, yh + 0.15), (r + 0.55, yh + 0.15), (r + 0.55, yh - 0.75),
           (r - 0.3, yh - 0.75), (r - 0.3, yh - bh / 2))
    c.text(r + 0.65, yh - 0.3, r"$\mathbf{H}_{t-1}$", fs=FS_SMALL, ha="left")
    c.text(x0, 0.3, "折叠的画法", fs=FS_SMALL, color="#666666")
    # 展开箭头
    c.ax.add_patch(FancyArrowPatch((3.9, yh), (4.85, yh), arrowstyle="simple,head_length=0.8,"
                                   "head_width=0.8,tail_width=0.35", mutation_scale=12,
                                   color="#BBBBBB", lw=0))
    c.text(4.35, yh + 0.5, "按时间展开", fs=FS_SMALL, color="#666666")
    # 展开的画法
    xs = [7.2, 10.2, 13.2]
    subs = ["t-1", "t", "t+1"]
    c.wire((5.3, yh), (xs[0] - bw / 2, yh), ls=(0, (2, 2)))
    c.text(5.6, yh - 0.35, r"$\mathbf{H}_{t-2}$", fs=FS_SMALL)
    for x, s in zip(xs, subs):
        c.box(x, yx, bw, bh, rf"$\mathbf{{X}}_{{{s}}}$", "input")
        c.box(x, yh, bw, bh, rf"$\mathbf{{H}}_{{{s}}}$", "hidden")
        c.box(x, yo, bw, bh, rf"$\mathbf{{O}}_{{{s}}}$", "output")
        c.wire((x, yx + bh / 2), (x, yh - bh / 2))
        c.wire((x, yh + bh / 2), (x, yo - bh / 2))
        c.text(x + 0.12, (yx + yh) / 2, r"$\mathbf{W}_{xh}$", fs=FS_SMALL, ha="left")
        c.text(x + 0.12, (yh + yo) / 2, r"$\mathbf{W}_{hq}$", fs=FS_SMALL, ha="left")
    for a, b in zip(xs, xs[1:]):
        c.wire((a + bw / 2, yh), (b - bw / 2, yh))
        c.text((a + b) / 2, yh + 0.3, r"$\mathbf{W}_{hh}$", fs=FS_SMALL)
    c.wire((xs[-1] + bw / 2, yh), (xs[-1] + bw / 2 + 0.9, yh), ls=(0, (2, 2)))
    c.text(5.6, yo, "输出", fs=FS_SMALL, color="#666666")
    c.text(5.6, yx, "输入", fs=FS_SMALL, color="#666666")
    c.text(10.2, 0.3, r"每个时间步用同一组参数 $\mathbf{W}_{xh}, \mathbf{W}_{hh}, \mathbf{W}_{hq}$"
           "（偏置略去）", fs=FS_SMALL, color="#666666")
    return c


def bptt():
    """展开的计算图：前向计算（黑色实线）与梯度的路径（红色虚线）。"""
    c = Canvas(13.6, 9.0)
    bw, bh = 1.05, 0.6
    xs = [3.4, 7.0, 10.6]
    subs = ["t-1", "t", "t+1"]
    yx, yh, yo, yl, yL = 0.9, 2.8, 4.7, 6.5, 8.2
    dx = 0.2  # 梯度箭头相对前向箭头的偏移
    for x, s in zip(xs, subs):
        c.box(x, yx, bw, bh, rf"$x_{{{s}}}$", "input")
        c.box(x, yh, bw, bh, rf"$h_{{{s}}}$", "hidden")
        c.box(x, yo, bw, bh, rf"$o_{{{s}}}$", "output")
        c.box(x, yl, bw, bh, rf"$\ell_{{{s}}}$", "plain")
        c.text(x + 1.12, yl, rf"$y_{{{s}}}$", fs=FS_SMALL, ha="left")
        c.wire((x + 1.05, yl), (x + bw / 2, yl), color=MUTED)
        c.wire((x, yx + bh / 2), (x, yh - bh / 2))
        c.wire((x - dx, yh + bh / 2), (x - dx, yo - bh / 2))
        c.wire((x - dx, yo + bh / 2), (x - dx, yl - bh / 2))
        c.text(x - dx - 0.1, (yh + yo) / 2, r"$w_o$", fs=FS_SMALL, ha="right")
        # 梯度：ℓ → o → h
        c.wire((x + dx, yl - bh / 2), (x + dx, yo + bh / 2), color=GRAD, ls=(0, (3, 2)))
        c.wire((x + dx, yo - bh / 2), (x + dx, yh + bh / 2), color=GRAD, ls=(0, (3, 2)))
        xl = 7.0 + (x - 7.0) * 0.3
        c.wire((x - dx, yl + bh / 2), (xl - dx, yL - bh / 2))
        c.wire((xl + dx, yL - bh / 2), (x + dx, yl + bh / 2), color=GRAD, ls=(0, (3, 2)))
    c.box(7.0, yL, 3.2, bh, r"$L = (\ell_1 + \cdots + \ell_T)\,/\,T$", "plain")
    # 隐状态之间
    c.wire((0.9, yh + 0.12), (xs[0] - bw / 2, yh + 0.12), ls=(0, (2, 2)))
    for a, b in zip(xs, xs[1:]):
        c.wire((a + bw / 2, yh + 0.12), (b - bw / 2, yh + 0.12))
        c.text((a + b) / 2, yh + 0.42, r"$w_h$", fs=FS_SMALL)
        c.wire((b - bw / 2, yh - 0.14), (a + bw / 2, yh - 0.14), color=GRAD, ls=(0, (3, 2)))
        c.text((a + b) / 2, yh - 0.62, rf"$\partial h_{{{'t' if b == xs[1] else 't+1'}}} / "
               rf"\partial h_{{{'t-1' if b == xs[1] else 't'}}}$", fs=FS_SMALL, color=GRAD)
    c.wire((xs[0] - bw / 2, yh - 0.14), (0.9, yh - 0.14), color=GRAD, ls=(0, (3, 2)))
    c.wire((xs[-1] + bw / 2, yh + 0.12), (12.7, yh + 0.12), ls=(0, (2, 2)))
    c.wire((12.7, yh - 0.14), (xs[-1] + bw / 2, yh - 0.14), color=GRAD, ls=(0, (3, 2)))
    # 图例
    c.wire((0.5, 8.5), (1.3, 8.5), arrow=False)
    c.text(1.45, 8.5, "前向计算", fs=FS_SMALL, ha="left")
    c.wire((0.5, 8.0), (1.3, 8.0), color=GRAD, ls=(0, (3, 2)), arrow=False)
    c.text(1.45, 8.0, "梯度的路径", fs=FS_SMALL, ha="left", color=GRAD)
    c.text(7.0, 0.2, r"参数 $w_h$ 在每个时间步都用到；远处时间步的贡献要乘上一串 "
           r"$\partial h_j/\partial h_{j-1}$", fs=FS_SMALL, color="#666666")
    return c


# ---------------------------------------------------------------- 第 2 章
def gru():
    """门控循环单元：重置门、更新门、候选隐状态与新的隐状态。"""
    c = Canvas(14.4, 7.5)
    c.group(1.2, 0.75, 12.6, 7.0, "GRU 单元", label_xy=(1.4, 6.7), ls="-")
    gw, gh = 1.5, 0.85
    yG = 3.2            # 门所在的高度
    yTop = 6.2          # H_{t-1} → H_t 的主线
    yHb, yXb = 1.9, 1.3  # 两条输入总线
    xR, xZ, xC = 3.2, 5.6, 8.6
    # H_{t-1}：从左边进入主线，并向下接到总线
    c.text(0.55, yTop, r"$\mathbf{H}_{t-1}$")
    c.wire((1.0, yTop), (2.0, yTop), arrow=False, halo=False)
    c.wire((2.0, yTop), (2.0, yHb), (xZ + 0.3, yHb), arrow=False, halo=False)
    c.dot(2.0, yTop)
    c.text(0.55, yXb, r"$\mathbf{X}_t$")
    c.wire((1.0, yXb), (xC, yXb), arrow=False, halo=False)
    # 三个带参数的层
    c.box(xR, yG, gw, gh, "", "layer")
    c.text(xR, yG + 0.17, r"$\sigma$")
    c.text(xR, yG - 0.2, "重置门", fs=FS_SMALL)
    c.box(xZ, yG, gw, gh, "", "layer")
    c.text(xZ, yG + 0.17, r"$\sigma$")
    c.text(xZ, yG - 0.2, "更新门", fs=FS_SMALL)
    c.box(xC, yG + 1.2, gw + 0.5, gh, "", "layer")
    c.text(xC, yG + 1.2 + 0.17, r"$\tanh$")
    c.text(xC, yG + 1.2 - 0.2, "候选隐状态", fs=FS_SMALL)
    # 门的输入：X_t 与 H_{t-1}
    for xg in (xR, xZ):
        c.wire((xg - 0.3, yXb), (xg - 0.3, yG - gh / 2))
        c.dot(xg - 0.3, yXb)
        c.wire((xg + 0.3, yHb), (xg + 0.3, yG - gh / 2))
        c.dot(xg + 0.3, yHb)
    c.wire((xC, yXb), (xC, yG + 1.2 - gh / 2))
    # 重置门：R_t ⊙ H_{t-1} → 候选隐状态
    yRop = yG + 1.2
    c.op(xR, yRop, r"$\odot$")
    c.wire((xR, yG + gh / 2), (xR, yRop - 0.22))
    c.text(xR + 0.12, yG + gh / 2 + 0.22, r"$\mathbf{R}_t$", ha="left", fs=FS_SMALL)
    c.wire((xR, yTop), (xR, yRop + 0.22))
    c.dot(xR, yTop)
    c.wire((xR + 0.22, yRop), (xZ - 0.25, yRop), (xC - (gw + 0.5) / 2, yRop))
    # 更新门：Z_t ⊙ H_{t-1} 与 (1 - Z_t) ⊙ H̃_t
    xA, xB, xPlus = 6.9, 10.6, 10.6
    yB = yG + 1.2
    c.op(xA, yTop, r"$\odot$")
    c.op(xPlus, yTop, "+")
    c.op(xB - 1.2, yG, r"$1-$", r=0.34, fs=FS_SMALL)
    c.op(xB, yB, r"$\odot$")
    c.wire((xZ, yG + gh / 2), (xZ, yG + 0.75), (6.9 - 0.0, yG + 0.75), (xA, yTop - 0.22))
    c.text(xZ - 0.12, yG + gh / 2 + 0.22, r"$\mathbf{Z}_t$", ha="right", fs=FS_SMALL)
    c.dot(xA, yG + 0.75)
    c.wire((xA, yG + 0.75), (xA, yG), (xB - 1.2 - 0.34, yG))
    c.wire((xB - 1.2 + 0.34, yG), (xB, yG), (xB, yB - 0.22))
    c.wire((xC + (gw + 0.5) / 2, yB), (xB - 0.22, yB))
    c.text(xC + (gw + 0.5) / 2 + 0.15, yB + 0.28, r"$\tilde{\mathbf{H}}_t$", ha="left", fs=FS_SMALL)
    c.wire((xB, yB + 0.22), (xPlus, yTop - 0.22))
    # 主线
    c.wire((2.0, yTop), (xA - 0.22, yTop))
    c.wire((xA + 0.22, yTop), (xPlus - 0.22, yTop))
    c.wire((xPlus + 0.22, yTop), (13.2, yTop))
    c.text(13.7, yTop, r"$\mathbf{H}_t$")
    # 图例
    c.text(7.8, 0.35, r"$\odot$ 按元素乘　　$1-$：$1$ 减去输入　　$+$ 按元素加　　"
           r"$\sigma$、$\tanh$：全连接层加激活函数", fs=FS_SMALL, color="#666666")
    return c


def lstm():
    """长短期记忆网络：三个门、候选记忆元、记忆元与隐状态。"""
    c = Canvas(14.4, 7.8)
    c.group(1.2, 0.75, 12.6, 7.3, "LSTM 单元", label_xy=(1.4, 7.0), ls="-")
    gw, gh = 1.65, 0.85
    yG = 2.9
    yC = 6.4            # 记忆元的主线
    yHb, yXb = 1.95, 1.35
    xF, xI, xCt, xO = 3.0, 5.0, 7.0, 9.0
    c.text(0.55, yC, r"$\mathbf{C}_{t-1}$")
    c.text(0.55, yHb, r"$\mathbf{H}_{t-1}$")
    c.wire((1.0, yHb), (xO + 0.3, yHb), arrow=False, halo=False)
    c.text(0.55, yXb, r"$\mathbf{X}_t$")
    c.wire((1.0, yXb), (xO - 0.3, yXb), arrow=False, halo=False)
    for xg, act, name in [(xF, r"$\sigma$", "遗忘门"), (xI, r"$\sigma$", "输入门"),
                          (xCt, r"$\tanh$", "候选记忆元"), (xO, r"$\sigma$", "输出门")]:
        c.box(xg, yG, gw, gh, "", "layer")
        c.text(xg, yG + 0.17, act)
        c.text(xg, yG - 0.2, name, fs=FS_SMALL)
        c.wire((xg - 0.3, yXb), (xg - 0.3, yG - gh / 2))
        c.dot(xg - 0.3, yXb)
        c.wire((xg + 0.3, yHb), (xg + 0.3, yG - gh / 2))
        c.dot(xg + 0.3, yHb)
    # 记忆元：C_t = F_t ⊙ C_{t-1} + I_t ⊙ C̃_t
    xPlus = 6.0
    yIop = 4.7
    c.op(xF, yC, r"$\odot$")
    c.op(xPlus, yC, "+")
    c.op(xPlus, yIop, r"$\odot$")
    c.wire((xF, yG + gh / 2), (xF, yC - 0.22))
    c.text(xF + 0.12, yG + gh / 2 + 0.25, r"$\mathbf{F}_t$", ha="left", fs=FS_SMALL)
    c.wire((xI, yG + gh / 2), (xI, yIop), (xPlus - 0.22, yIop))
    c.text(xI + 0.12, yG + gh / 2 + 0.25, r"$\mathbf{I}_t$", ha="left", fs=FS_SMALL)
    c.wire((xCt, yG + gh / 2), (xCt, yIop), (xPlus + 0.22, yIop))
    c.text(xCt + 0.12, yG + gh / 2 + 0.25, r"$\tilde{\mathbf{C}}_t$", ha="left", fs=FS_SMALL)
    c.wire((xPlus, yIop + 0.22), (xPlus, yC - 0.22))
    c.wire((1.0, yC), (xF - 0.22, yC))
    c.wire((xF + 0.22, yC), (xPlus - 0.22, yC))
    c.wire((xPlus + 0.22, yC), (13.2, yC))
    c.text(13.7, yC, r"$\mathbf{C}_t$")
    # 隐状态：H_t = O_t ⊙ tanh(C_t)
    xT = 10.6
    yOop = 3.9
    c.dot(xT, yC)
    c.op(xT, 5.15, r"$\tanh$", r=0.4, fs=FS_SMALL)
    c.wire((xT, yC), (xT, 5.15 + 0.4))
    c.op(xT, yOop, r"$\odot$")
    c.wire((xT, 5.15 - 0.4), (xT, yOop + 0.22))
    c.wire((xO, yG + gh / 2), (xO, yOop), (xT - 0.22, yOop))
    c.text(xO + 0.12, yG + gh / 2 + 0.25, r"$\mathbf{O}_t$", ha="left", fs=FS_SMALL)
    c.wire((xT + 0.22, yOop), (13.2, yOop))
    c.text(13.7, yOop, r"$\mathbf{H}_t$")
    c.text(7.2, 0.35, r"$\odot$ 按元素乘　$+$ 按元素加　方框：全连接层加激活函数　"
           r"圆圈中的 $\tanh$：按元素运算", fs=FS_SMALL, color="#666666")
    return c


def deep_rnn():
    """深度循环神经网络：L 个循环层叠起来，输出层只接在最上面一层。"""
    c = Canvas(13.0, 9.4)
    bw, bh = 1.45, 0.7
    xs = [4.0, 7.2, 10.4]
    subs = ["t-1", "t", "t+1"]
    rows = [(1.0, "X", "input", "输入"), (2.9, "1", "hidden", "第 1 层"),
            (4.8, "2", "hidden", "第 2 层"), (6.9, "L", "hidden", r"第 $L$ 层"),
            (8.6, "O", "output", "输出")]
    for y, tag, kind, name in rows:
        c.text(1.0, y, name, fs=FS_SMALL, color="#666666", ha="left")
        for x, s in zip(xs, subs):
            if tag == "X":
                t = rf"$\mathbf{{X}}_{{{s}}}$"
            elif tag == "O":
                t = rf"$\mathbf{{O}}_{{{s}}}$"
            else:
                t = rf"$\mathbf{{H}}_{{{s}}}^{{({tag})}}$"
            c.box(x, y, bw, bh, t, kind)
        if kind == "hidden":
            c.wire((2.5, y), (xs[0] - bw / 2, y), ls=(0, (2, 2)))
            for a, b in zip(xs, xs[1:]):
                c.wire((a + bw / 2, y), (b - bw / 2, y))
            c.wire((xs[-1] + bw / 2, y), (xs[-1] + bw / 2 + 0.8, y), ls=(0, (2, 2)))
    for x in xs:
        for (y0, *_), (y1, *_) in zip(rows, rows[1:]):
            dotted = y0 == 4.8
            c.wire((x, y0 + bh / 2), (x, y1 - bh / 2), ls=(0, (2, 2)) if dotted else "-")
        c.text(x, 5.9, r"$\vdots$", fs=FS)
    xm = xs[1]
    c.text(xm + 0.12, 1.95, r"$\mathbf{W}_{xh}^{(1)}$（$d \times h$）", fs=FS_SMALL, ha="left")
    c.text(xm + 0.12, 3.85, r"$\mathbf{W}_{xh}^{(2)}$（$h \times h$）", fs=FS_SMALL, ha="left")
    c.text(xm + 0.12, 7.75, r"$\mathbf{W}_{hq}$", fs=FS_SMALL, ha="left")
    c.text((xs[0] + xs[1]) / 2, 2.9 + 0.3, r"$\mathbf{W}_{hh}^{(1)}$", fs=FS_SMALL)
    c.text((xs[0] + xs[1]) / 2, 6.9 + 0.3, r"$\mathbf{W}_{hh}^{(L)}$", fs=FS_SMALL)
    return c


def bi_rnn():
    """双向循环神经网络：正向层从前往后、反向层从后往前，输出层接两者的拼接。"""
    c = Canvas(13.4, 7.4)
    bw, bh = 1.1, 0.65
    xs = [3.6, 6.9, 10.2]
    subs = ["t-1", "t", "t+1"]
    off = 0.62
    yX, yF, yB, yO = 0.9, 2.7, 4.4, 6.3
    c.text(0.5, yX, "输入", fs=FS_SMALL, color="#666666", ha="left")
    c.text(0.5, yF, "正向层", fs=FS_SMALL, color="#666666", ha="left")
    c.text(0.5, yB, "反向层", fs=FS_SMALL, color="#666666", ha="left")
    c.text(0.5, yO, "输出", fs=FS_SMALL, color="#666666", ha="left")
    for x, s in zip(xs, subs):
        c.box(x, yX, 2 * off + 0.9, bh, rf"$\mathbf{{X}}_{{{s}}}$", "input")
        c.box(x - off, yF, bw, bh, rf"$\overrightarrow{{\mathbf{{H}}}}_{{{s}}}$", "hidden")
        c.box(x + off, yB, bw, bh, rf"$\overleftarrow{{\mathbf{{H}}}}_{{{s}}}$", "hidden")
        c.box(x, yO, 2 * off + 0.9, bh, rf"$\mathbf{{O}}_{{{s}}}$", "output")
        c.wire((x - off, yX + bh / 2), (x - off, yF - bh / 2))
        c.wire((x + off, yX + bh / 2), (x + off, yB - bh / 2))
        c.wire((x - off, yF + bh / 2), (x - off, yO - bh / 2))
        c.wire((x + off, yB + bh / 2), (x + off, yO - bh / 2))
    for a, b in zip(xs, xs[1:]):
        c.wire((a - off + bw / 2, yF), (b - off - bw / 2, yF), z=1.5)
        c.wire((b + off - bw / 2, yB), (a + off + bw / 2, yB), z=1.5)
    c.wire((1.9, yF), (xs[0] - off - bw / 2, yF), ls=(0, (2, 2)))
    c.wire((xs[-1] - off + bw / 2, yF), (xs[-1] + 0.3, yF), ls=(0, (2, 2)), z=1.5)
    c.wire((12.6, yB), (xs[-1] + off + bw / 2, yB), ls=(0, (2, 2)))
    c.wire((xs[0] + off - bw / 2, yB), (xs[0] - 0.35, yB), ls=(0, (2, 2)), z=1.5)
    c.text(xs[1], 7.0, r"$\mathbf{O}_t$ 由两个方向的隐状态拼接 "
           r"$[\overrightarrow{\mathbf{H}}_t, \overleftarrow{\mathbf{H}}_t]$ 算出", fs=FS_SMALL,
           color="#666666")
    return c


def encoder_decoder():
    """编码器-解码器架构与本书的三个接口。"""
    c = Canvas(16.6, 6.2)
    y = 3.1
    mono = dict(fs=FS_TINY, color="#666666", family="monospace")
    c.box(1.7, y, 2.4, 0.8, "they are\nwatching .", "input", fs=FS_SMALL)
    c.text(1.7, y + 0.75, "源序列", fs=FS_SMALL, color="#666666")
    c.box(5.0, y, 2.2, 1.1, "编码器", "layer")
    c.text(5.0, y - 0.85, "Encoder.forward", **mono)
    c.box(8.6, y, 1.9, 1.1, "状态", "hidden")
    c.text(8.6, y - 0.85, "Decoder.init_state", **mono)
    c.box(12.2, y, 2.2, 1.1, "解码器", "layer")
    c.text(12.35, y - 0.85, "Decoder.forward", ha="left", **mono)
    c.box(12.2, 0.75, 3.3, 0.6, "<bos> 他 们 在 看 。", "input", fs=FS_SMALL)
    c.text(10.35, 0.75, "输入：已生成的前缀", fs=FS_SMALL, color="#666666", ha="right")
    c.box(12.2, 5.45, 3.3, 0.6, "他 们 在 看 。 <eos>", "output", fs=FS_SMALL)
    c.text(10.35, 5.45, "输出：每个位置下一个词元的分布", fs=FS_SMALL, color="#666666", ha="right")
    c.wire((2.9, y), (3.9, y))
    c.wire((6.1, y), (7.65, y))
    c.text(6.87, y + 0.3, "编码", fs=FS_SMALL)
    c.wire((9.55, y), (11.1, y))
    c.text(10.32, y + 0.3, "初始状态", fs=FS_SMALL)
    c.wire((12.2, 1.05), (12.2, y - 0.55))
    c.wire((12.2, y + 0.55), (12.2, 5.15))
    c.wire((13.3, y + 0.25), (13.85, y + 0.25), (13.85, y - 0.25), (13.3, y - 0.25))
    c.text(14.0, y, "新的状态\n（下一步用）", fs=FS_SMALL, ha="left")
    return c


def seq2seq():
    """序列到序列学习：训练时的强制教学与预测时把自己的输出送回输入。"""
    c = Canvas(16.5, 12.0)
    src = ["he", "ran", ".", "<eos>"]
    tgt = ["他", "跑", "了", "。", "<eos>"]
    bw, bh = 1.0, 0.65
    xd = [6.0, 7.8, 9.6, 11.4, 13.2]

    def panel(y0, title, teacher):
        c.text(0.4, y0 + 5.1, title, ha="left")
        yb, yin, yout, ybus = y0 + 2.2, y0 + 0.45, y0 + 4.15, y0 + 1.3
        # 编码器（折叠成一个框）
        c.box(2.55, yb, 3.5, bh + 0.1, "编码器（GRU）", "layer")
        for i, tok in enumerate(src):
            xt = 1.25 + i * 0.87
            c.text(xt, yin, tok, fs=FS_SMALL)
            c.wire((xt, yin + 0.25), (xt, yb - (bh + 0.1) / 2))
        # 解码器各步
        c.wire((2.55 + 1.75, yb), (xd[0] - bw / 2, yb))
        c.text(4.95, yb + 0.3, r"$\mathbf{s}_0$", fs=FS_SMALL)
        c.wire((4.6, yb), (4.6, ybus), (xd[-1] - 0.3, ybus), arrow=False)
        c.dot(4.6, yb)
        c.text(4.45, (yb + ybus) / 2, r"$\mathbf{c}$", fs=FS_SMALL, ha="right")
        c.text(13.9, ybus, r"$\mathbf{c}$：每一步" "\n都相同", fs=FS_SMALL, ha="left")
        for k, x in enumerate(xd):
            c.box(x, yb, bw, bh, r"$\mathbf{s}_{%d}$" % (k + 1), "hidden")
            c.wire((x - 0.3, ybus), (x - 0.3, yb - bh / 2))
            c.dot(x - 0.3, ybus)
            c.text(x, yout, tgt[k], fs=FS)
            c.wire((x, yb + bh / 2), (x, yout - 0.28))
            inp = "<bos>" if k == 0 else tgt[k - 1]
            if teacher or k == 0:
                c.text(x + 0.12, yin, inp, fs=FS_SMALL, color=PALETTE["input"][1])
                c.wire((x + 0.12, yin + 0.25), (x + 0.12, yb - bh / 2))
            else:
                xg = (xd[k - 1] + x) / 2
                c.wire((xd[k - 1] + 0.3, yout), (xg, yout), (xg, yin), (x + 0.12, yin),
                       (x + 0.12, yb - bh / 2), color=GRAD)
        for a, b in zip(xd, xd[1:]):
            c.wire((a + bw / 2, yb + 0.12), (b - bw / 2, yb + 0.12))
        c.text(13.9, yout, "输出", fs=FS_SMALL, color="#666666", ha="left")
        if teacher:
            c.text(13.9, yin, "真实的上一个\n目标词元", fs=FS_SMALL, color=PALETTE["input"][1],
                   ha="left")
        else:
            c.text(13.9, yin, "上一步自己的\n输出（取概率\n最大的词元）", fs=FS_SMALL,
                   color=GRAD, ha="left")

    panel(6.2, "（a）训练：强制教学，解码器一次读入整段真实的目标序列（前面加 <bos>，去掉最后一个词元）", True)
    panel(0.3, "（b）预测：每一步把自己的输出作为下一步的输入", False)
    return c


def beam_search():
    """束搜索（束宽 2）：beam_search.md 中 A/B 例子的搜索树。"""
    c = Canvas(16.6, 9.8)
    bw, bh = 2.3, 0.55
    X = [1.2, 4.6, 8.6, 12.7]
    kinds = {"keep": "hidden", "done": "output", "drop": "muted"}

    def nd(x, y, tok, p, kind):
        c.box(x, y, bw, bh, "", kinds[kind], color=None)
        col = INK if kind != "drop" else MUTED
        c.text(x - 0.1, y, tok, fs=FS_SMALL, ha="right", color=col)
        c.text(x + 0.05, y, p, fs=FS_SMALL, ha="left", color=col)

    def edge(p, q, kind):
        col = INK if kind != "drop" else MUTED
        c.wire((p[0] + bw / 2, p[1]), (q[0] - bw / 2, q[1]), color=col)

    c.box(X[0], 5.0, 1.3, bh, "<bos>", "input", fs=FS_SMALL)
    for i, t in enumerate(["第 1 步", "第 2 步", "第 3 步"]):
        c.text(X[i + 1], 9.15, t, fs=FS_SMALL, color="#666666")
    step1 = [("A", "0.50", "keep", 7.6), ("B", "0.40", "keep", 3.5),
             ("<eos>", "0.08", "drop", 2.5), ("C", "0.01", "drop", 1.85)]
    pos = {}
    for tok, p, kind, y in step1:
        c.wire((X[0] + 0.65, 5.0), (X[1] - bw / 2, y), color=INK if kind != "drop" else MUTED)
        nd(X[1], y, tok, p, kind)
        pos[tok] = (X[1], y)
    step2 = [("A", "A", "0.125", "drop", 8.6), ("A", "B", "0.125", "keep", 7.9),
             ("A", "C", "0.125", "drop", 7.2), ("A", "<eos>", "0.120", "drop", 6.5),
             ("B", "<eos>", "0.384", "done", 4.1), ("B", "其余", "≤0.004", "drop", 3.0)]
    for parent, tok, p, kind, y in step2:
        edge(pos[parent], (X[2], y), kind)
        nd(X[2], y, tok, p, kind)
    step3 = [("<eos>", "0.120", "done", 8.2), ("其余", "≤0.001", "drop", 7.3)]
    for tok, p, kind, y in step3:
        edge((X[2], 7.9), (X[3], y), kind)
        nd(X[3], y, tok, p, kind)
    # 结果
    c.box(13.2, 4.1, 6.3, 1.3, "", "group")
    c.text(13.2, 4.4, "已完成：B <eos> 0.384，A B <eos> 0.120", fs=FS_SMALL)
    c.text(13.2, 3.8, "输出概率最大的 B <eos>", fs=FS_SMALL)
    c.wire((X[2] + bw / 2, 4.1), (10.05, 4.1), color=PALETTE["output"][1])
    c.text(X[1] - 0.8, 0.9, "框中的数字是累计概率。A 之后的三个 0.125 并列，实现中的 topk 选中了 A B。",
           fs=FS_SMALL, color="#666666", ha="left")
    c.text(X[1] - 0.8, 0.4, "贪心搜索只保留 A：之后无论怎么走，概率都不超过 0.5 × 0.24 = 0.12。",
           fs=FS_SMALL, color="#666666", ha="left")
    # 图例
    for i, (kind, name) in enumerate([("keep", "留在束中"), ("done", "以 <eos> 结束，已完成"),
                                      ("drop", "淘汰")]):
        c.box(0.75, 9.1 - i * 0.55, 0.5, 0.35, "", kinds[kind])
        c.text(1.15, 9.1 - i * 0.55, name, fs=FS_SMALL, ha="left")
    return c


# ---------------------------------------------------------------- 第 3 章
def attention_pooling():
    """注意力汇聚：评分函数、softmax、加权求和。"""
    c = Canvas(14.6, 8.4)
    xs = [3.3, 6.3, 10.8]
    subs = ["1", "2", "m"]
    yK, yBus, yA, yS, yM, ySum = 7.5, 6.5, 5.6, 4.1, 2.5, 1.0
    c.box(1.0, yBus, 1.1, 0.65, r"$\mathbf{q}$", "attn")
    c.text(1.0, yBus + 0.62, "查询", fs=FS_SMALL, color="#666666")
    c.wire((1.55, yBus), (xs[-1] - 0.35, yBus), arrow=False)
    c.text(8.55, yK, r"$\cdots$")
    c.text(8.55, yA, r"$\cdots$")
    c.text(8.55, yM, r"$\cdots$")
    for x, s in zip(xs, subs):
        c.box(x + 0.25, yK, 1.1, 0.6, rf"$\mathbf{{k}}_{{{s}}}$", "input")
        c.box(x, yA, 1.9, 0.7, rf"$a(\mathbf{{q}}, \mathbf{{k}}_{{{s}}})$", "layer")
        c.wire((x + 0.25, yK - 0.3), (x + 0.25, yA + 0.35), z=1.5)
        c.wire((x - 0.35, yBus), (x - 0.35, yA + 0.35))
        c.dot(x - 0.35, yBus)
        c.wire((x, yA - 0.35), (x, yS + 0.35))
        c.wire((x, yS - 0.35), (x, yM + 0.22))
        c.text(x + 0.12, (yS + yM) / 2 - 0.05, rf"$\alpha(\mathbf{{q}}, \mathbf{{k}}_{{{s}}})$",
               fs=FS_SMALL, ha="left")
        c.op(x, yM, r"$\times$")
        c.box(x - 1.35, yM, 1.1, 0.6, rf"$\mathbf{{v}}_{{{s}}}$", "input")
        c.wire((x - 0.8, yM), (x - 0.22, yM))
        c.wire((x, yM - 0.22), (x, ySum), arrow=False)
        c.dot(x, ySum)
    c.text(2.4, yK, "键", fs=FS_SMALL, color="#666666")
    c.text(1.15, yM, "值", fs=FS_SMALL, color="#666666")
    c.box((xs[0] + xs[-1]) / 2, yS, xs[-1] - xs[0] + 2.2, 0.7, "softmax", "plain")
    c.text(1.2, yA, "评分函数", fs=FS_SMALL, color="#666666")
    c.text(1.2, (yS + yM) / 2, "注意力权重", fs=FS_SMALL, color="#666666")
    c.wire((xs[0], ySum), (12.2, ySum))
    c.op(12.45, ySum, r"$\sum$", r=0.25)
    c.wire((12.7, ySum), (13.15, ySum))
    c.box(13.75, ySum, 1.1, 0.65, r"$f(\mathbf{q})$", "output")
    c.text(13.75, ySum + 0.62, "输出", fs=FS_SMALL, color="#666666")
    return c


def bahdanau():
    """Bahdanau 注意力：解码器每一步用上一步的隐状态查询编码器的全部输出。"""
    c = Canvas(16.4, 9.0)
    src = ["i", "need", "boots", ".", "<eos>"]
    weights = [0.05, 0.10, 0.70, 0.10, 0.05]
    xs = [1.3, 2.75, 4.2, 5.65, 7.1]
    yX, yH, yAtt = 0.45, 1.7, 4.0
    for k, (x, tok) in enumerate(zip(xs, src)):
        c.text(x, yX, tok, fs=FS_SMALL)
        c.box(x, yH, 1.0, 0.65, rf"$\mathbf{{h}}_{{{k + 1 if k < 4 else 'T'}}}$", "hidden")
        c.wire((x, yX + 0.25), (x, yH - 0.33))
        lw = 0.6 + 4.0 * weights[k]
        c.wire((x, yH + 0.33), (x, yAtt - 0.5), lw=lw, color=PALETTE["attn"][1])
        c.text(x + 0.1, 2.95, f"{weights[k]:.2f}", fs=FS_TINY, ha="left", color=PALETTE["attn"][1])
    for a, b in zip(xs, xs[1:]):
        c.wire((a + 0.5, yH), (b - 0.5, yH))
    c.group(0.55, 1.0, 7.85, 2.4, "")
    c.text(8.0, yH - 0.35, "编码器", fs=FS_SMALL, color="#666666", ha="left")
    c.box(4.2, yAtt, 7.3, 1.0, "", "attn")
    c.text(4.2, yAtt + 0.2, "加性注意力 + 掩蔽 softmax", fs=FS_SMALL)
    c.text(4.2, yAtt - 0.22, r"$\mathbf{c}_{t'} = \sum_t \alpha(\mathbf{s}_{t'-1}, \mathbf{h}_t)\,"
           r"\mathbf{h}_t$", fs=FS_SMALL)
    c.text(7.95, 2.95, r"键 = 值 = $\mathbf{h}_t$，线的粗细示意注意力权重", fs=FS_SMALL,
           color=PALETTE["attn"][1], ha="left")
    # 解码器
    yD = 6.8
    xPrev, xCur = 9.3, 12.3
    c.box(xPrev, yD, 1.3, 0.8, "GRU", "layer")
    c.box(xCur, yD, 1.3, 0.8, "GRU", "layer")
    c.wire((7.9, yD), (xPrev - 0.65, yD), ls=(0, (2, 2)))
    c.wire((xPrev + 0.65, yD), (xCur - 0.65, yD))
    c.text((xPrev + xCur) / 2, yD + 0.3, r"$\mathbf{s}_{t'-1}$", fs=FS_SMALL)
    c.wire((xCur + 0.65, yD), (14.8, yD), ls=(0, (2, 2)))
    c.text(14.2, yD + 0.3, r"$\mathbf{s}_{t'}$", fs=FS_SMALL)
    # 查询：s_{t'-1} → 注意力
    c.dot(10.5, yD)
    c.wire((10.5, yD), (10.5, 5.3), (6.8, 5.3), (6.8, yAtt + 0.5), color=PALETTE["attn"][1])
    c.text(8.6, 5.55, r"查询 $\mathbf{s}_{t'-1}$", fs=FS_SMALL, color=PALETTE["attn"][1])
    # 上下文变量 → 拼接 → GRU
    c.op(xCur, 5.3, r"$[\cdot,\cdot]$", r=0.33, fs=FS_SMALL)
    c.wire((7.85, yAtt), (xCur, yAtt), (xCur, 5.3 - 0.33))
    c.text(9.9, yAtt + 0.28, r"上下文变量 $\mathbf{c}_{t'}$", fs=FS_SMALL)
    c.wire((14.3, 5.3), (xCur + 0.33, 5.3))
    c.text(14.35, 4.85, r"$\mathbf{e}(y_{t'-1})$", fs=FS_SMALL, ha="center")
    c.wire((xCur, 5.3 + 0.33), (xCur, yD - 0.4))
    c.box(xCur, 8.1, 2.9, 0.6, "全连接层 + softmax", "plain", fs=FS_SMALL)
    c.wire((xCur, yD + 0.4), (xCur, 7.8))
    c.text(xCur - 1.6, 8.1, r"$P(y_{t'} \mid y_{<t'}, x)$", fs=FS_SMALL, ha="right")
    c.text(xPrev, yD - 0.7, r"解码器第 $t'-1$ 步", fs=FS_SMALL, color="#666666")
    c.text(xCur + 1.0, yD - 0.7, r"第 $t'$ 步", fs=FS_SMALL, color="#666666", ha="left")
    return c


def multihead_attention():
    """多头注意力：一个大的线性层投影，最后一维切成 h 段，各头并行，拼接后再投影。"""
    c = Canvas(17.0, 7.4)
    ys = [5.3, 3.8, 2.3]
    names = [("q", "查询"), ("k", "键"), ("v", "值")]
    seg_labels = ["1", "2", r"$\cdots$", r"$h$"]
    seg_cols = [HEADS[0], HEADS[1], "#BBBBBB", HEADS[3]]
    for y, (s, name) in zip(ys, names):
        c.box(0.95, y, 1.3, 0.6, rf"{name} $\mathbf{{{s}}}$", "input", fs=FS_SMALL)
        c.wire((1.6, y), (2.15, y))
        c.box(3.05, y, 1.8, 0.7, rf"$\mathbf{{W}}^{{({s})}}$", "layer")
        c.wire((3.95, y), (4.55, y))
        for i, (lab, col) in enumerate(zip(seg_labels, seg_cols)):
            c.ax.add_patch(Rectangle((4.6 + i * 0.6, y - 0.25), 0.6, 0.5, facecolor=col, alpha=0.25,
                                     edgecolor=col, lw=LW, zorder=2))
            c.text(4.9 + i * 0.6, y, lab, fs=FS_SMALL)
    c.text(3.05, 6.3, "全连接层", fs=FS_SMALL, color="#666666")
    c.text(5.8, 6.3, r"最后一维切成 $h$ 段", fs=FS_SMALL, color="#666666")
    c.text(4.3, 1.2, "(batch_size, 步数, num_hiddens)\n→ (batch_size, num_heads, 步数, head_dim)",
           fs=FS_TINY, color="#666666")
    c.ax.add_patch(FancyArrowPatch((7.3, 3.8), (8.1, 3.8), arrowstyle="simple,head_length=0.8,"
                                   "head_width=0.8,tail_width=0.35", mutation_scale=12,
                                   color="#BBBBBB", lw=0))
    c.text(7.7, 3.25, "split_heads", fs=FS_TINY, color="#666666", family="monospace")
    hy = [5.3, 4.3, 3.3, 2.3]
    xb = 11.75
    for i, (y, lab, col) in enumerate(zip(hy, seg_labels, seg_cols)):
        c.ax.add_patch(Rectangle((xb - 0.4, y - 0.5), 0.8, 1.0, facecolor=col, alpha=0.25,
                                 edgecolor=col, lw=LW, zorder=2))
        if lab == r"$\cdots$":
            c.text(9.6, y + 0.05, r"$\vdots$")
            c.text(xb, y, r"$\vdots$", fs=FS_SMALL)
            continue
        c.box(9.6, y, 2.6, 0.8, "", "plain", color=col, lw=1.6)
        c.text(9.6, y + 0.17, rf"头 {lab}", fs=FS_SMALL)
        c.text(9.6, y - 0.18, "缩放点积注意力", fs=FS_TINY)
        c.wire((10.9, y), (xb - 0.4, y), color=col)
        c.text(xb, y, r"$\mathbf{h}_{%s}$" % lab.strip("$"), fs=FS_SMALL)
    c.text(xb, 1.45, "拼接\n（merge_heads）", fs=FS_SMALL, color="#666666")
    c.wire((xb + 0.4, 3.8), (13.2, 3.8))
    c.box(14.0, 3.8, 1.6, 0.7, r"$\mathbf{W}_o$", "layer")
    c.text(14.0, 4.5, "全连接层", fs=FS_SMALL, color="#666666")
    c.wire((14.8, 3.8), (15.35, 3.8))
    c.box(16.0, 3.8, 1.3, 0.6, "输出", "output", fs=FS_SMALL)
    c.text(10.2, 0.45, "同一种颜色是同一个头；所有头在一次批量矩阵乘法中算完", fs=FS_SMALL,
           color="#666666")
    return c


def cnn_rnn_self_attention():
    """卷积层、循环层与自注意力层：信息从第一个位置传到最后一个位置的路径。"""
    c = Canvas(16.8, 7.4)
    n = 5
    r = 0.26
    gap = 0.85

    def xs(x0):
        return [x0 + i * gap for i in range(n)]

    # (a) 卷积：两层，核大小 3
    X = xs(1.3)
    ys = [1.3, 3.1, 4.9]
    reach = {2: {4}, 1: {3, 4}, 0: {2, 3, 4}}  # 最后一个输出的感受野
    for li, y in enumerate(ys):
        for i, x in enumerate(X):
            hot = i in reach[2 - li]
            kind = "input" if li == 0 else "hidden"
            c.node(x, y, "", kind, r=r, color=GRAD if hot else None, lw=1.8 if hot else LW)
        if li:
            for i, x in enumerate(X):
                for j in (i - 1, i, i + 1):
                    if 0 <= j < n:
                        hot = i in reach[2 - li] and j in reach[3 - li]
                        c.wire((X[j], ys[li - 1] + r), (x, y - r), arrow=False, halo=False,
                               color=GRAD if hot else "#BBBBBB", lw=1.6 if hot else 0.9)
    c.text(X[2], 6.55, "卷积神经网络（核大小 3）", fs=FS_SMALL)
    c.text(X[2], 6.05, r"每层感受野向两边各扩大 1：$\mathcal{O}(n/k)$ 层", fs=FS_SMALL)
    # (b) 循环层
    X = xs(6.7)
    for i, x in enumerate(X):
        c.node(x, ys[0], "", "input", r=r, color=GRAD if i == 0 else None, lw=1.8 if i == 0 else LW)
        c.node(x, ys[1], "", "hidden", r=r, color=GRAD, lw=1.8)
        c.wire((x, ys[0] + r), (x, ys[1] - r), color=GRAD if i == 0 else "#BBBBBB",
               lw=1.6 if i == 0 else 0.9, halo=False)
    for a, b in zip(X, X[1:]):
        c.wire((a + r, ys[1]), (b - r, ys[1]), color=GRAD, lw=1.6, halo=False)
    c.text(X[2], 6.55, "循环神经网络", fs=FS_SMALL)
    c.text(X[2], 6.05, r"一层，但要经过 $\mathcal{O}(n)$ 个顺序步骤", fs=FS_SMALL)
    # (c) 自注意力
    X = xs(12.1)
    for i, x in enumerate(X):
        c.node(x, ys[0], "", "input", r=r, color=GRAD if i == 0 else None, lw=1.8 if i == 0 else LW)
        c.node(x, ys[1], "", "hidden", r=r, color=GRAD if i == n - 1 else None,
               lw=1.8 if i == n - 1 else LW)
    for i in range(n):
        for j in range(n):
            if (i, j) != (0, n - 1):
                c.wire((X[i], ys[0] + r), (X[j], ys[1] - r), arrow=False, halo=False,
                       color="#BBBBBB", lw=0.7)
    c.wire((X[0], ys[0] + r), (X[-1], ys[1] - r), arrow=False, halo=False, color=GRAD, lw=1.8)
    c.text(X[2], 6.55, "自注意力", fs=FS_SMALL)
    c.text(X[2], 6.05, r"任意两个位置一层直接相连：$\mathcal{O}(1)$", fs=FS_SMALL)
    for x0 in (1.3, 6.7, 12.1):
        c.text(x0 + 2 * gap, 0.55, r"$\mathbf{x}_1\ \ \mathbf{x}_2\ \ \cdots\ \ \mathbf{x}_n$",
               fs=FS_SMALL, color="#666666")
    return c


def _prenorm_sublayer(c, x, y, bw, bh, name, kind, res_side):
    """从 (x, y) 起向上画一个前规范化的子层：层规范化 → 子层 → 与输入相加；残差通路走
    res_side（"left" 或 "right"）一侧。返回（⊕ 上方的 y，子层框中心的 y）。"""
    side = -1 if res_side == "left" else 1
    c.dot(x, y)
    c.wire((x, y), (x, y + 0.35))
    c.box(x, y + 0.35 + bh / 2, bw, bh, "层规范化", "norm", fs=FS_SMALL)
    c.wire((x, y + 0.35 + bh), (x, y + 0.35 + bh + 0.4))
    ysub = y + 0.35 + bh + 0.4 + bh / 2 + 0.05
    c.box(x, ysub, bw, bh + 0.1, name, kind, fs=FS_SMALL)
    yplus = ysub + (bh + 0.1) / 2 + 0.45
    c.wire((x, ysub + (bh + 0.1) / 2), (x, yplus - 0.22))
    c.op(x, yplus, "+", r=0.22)
    xr = x + side * (bw / 2 + 0.35)
    c.wire((x, y), (xr, y), (xr, yplus), (x + side * 0.22, yplus))
    return yplus + 0.22, ysub


def transformer():
    """本书训练的 Transformer：前规范化（pre-norm），编码器与解码器各 L 块。"""
    c = Canvas(15.2, 16.6)
    bw, bh = 3.2, 0.62
    xE, xD = 4.2, 10.4
    step = 0.95

    def sub(x, y, name, kind, res_side):
        return _prenorm_sublayer(c, x, y, bw, bh, name, kind, res_side)

    # 编码器
    y = 0.5
    c.text(xE, y + 0.2, "源序列词元", fs=FS_SMALL)
    c.wire((xE, y + 0.45), (xE, y + 0.85))
    c.box(xE, y + 1.15, bw, bh, r"嵌入层 $\times\sqrt{d}$", "layer", fs=FS_SMALL)
    c.wire((xE, y + 1.15 + bh / 2), (xE, y + 2.0 - 0.22))
    c.op(xE, y + 2.0, "+")
    c.wire((xE - bw / 2 - 0.6, y + 2.0), (xE - 0.22, y + 2.0))
    c.text(xE - bw / 2 - 0.65, y + 2.0, "位置\n编码", fs=FS_SMALL, ha="right")
    ytop = y + 2.0 + 0.22
    yblk0 = ytop + 0.35
    c.wire((xE, ytop), (xE, yblk0 + 0.1), arrow=False)
    yE, _ = sub(xE, yblk0 + 0.1, "多头自注意力", "attn", "left")
    yE, _ = sub(xE, yE + 0.2, "基于位置的\n前馈网络", "layer", "left")
    c.group(xE - bw / 2 - 0.75, yblk0 - 0.05, xE + bw / 2 + 0.45, yE + 0.15)
    c.text(xE - bw / 2 - 1.4, (yblk0 + yE) / 2, "编码器块\n" r"$\times L$", fs=FS_SMALL,
           color="#666666")
    c.wire((xE, yE), (xE, yE + 0.6))
    c.box(xE, yE + 0.6 + bh / 2, bw, bh, "最后的层规范化", "norm", fs=FS_SMALL)
    yEout = yE + 0.6 + bh
    # 解码器
    c.text(xD, y + 0.2, "目标序列词元（<bos> + 前缀）", fs=FS_SMALL)
    c.wire((xD, y + 0.45), (xD, y + 0.85))
    c.box(xD, y + 1.15, bw, bh, r"嵌入层 $\times\sqrt{d}$", "layer", fs=FS_SMALL)
    c.wire((xD, y + 1.15 + bh / 2), (xD, y + 2.0 - 0.22))
    c.op(xD, y + 2.0, "+")
    c.wire((xD + bw / 2 + 0.6, y + 2.0), (xD + 0.22, y + 2.0))
    c.text(xD + bw / 2 + 0.65, y + 2.0, "位置\n编码", fs=FS_SMALL, ha="left")
    c.wire((xD, ytop), (xD, yblk0 + 0.1), arrow=False)
    yD, _ = sub(xD, yblk0 + 0.1, "掩蔽多头自注意力", "attn", "right")
    yD, ycross = sub(xD, yD + 0.2, "编码器-解码器注意力", "attn", "right")
    yD, _ = sub(xD, yD + 0.2, "基于位置的\n前馈网络", "layer", "right")
    c.group(xD - bw / 2 - 0.45, yblk0 - 0.05, xD + bw / 2 + 0.75, yD + 0.15)
    c.text(xD + bw / 2 + 1.4, (yblk0 + yD) / 2, "解码器块\n" r"$\times L$", fs=FS_SMALL,
           color="#666666")
    c.wire((xD, yD), (xD, yD + 0.6))
    c.box(xD, yD + 0.6 + bh / 2, bw, bh, "最后的层规范化", "norm", fs=FS_SMALL)
    yDn = yD + 0.6 + bh
    c.wire((xD, yDn), (xD, yDn + 0.45))
    c.box(xD, yDn + 0.45 + bh / 2, bw, bh, "全连接层", "layer", fs=FS_SMALL)
    c.wire((xD, yDn + 0.45 + bh), (xD, yDn + 0.95 + bh))
    c.text(xD, yDn + 1.2 + bh, "下一个词元的 logits", fs=FS_SMALL)
    # 编码器输出 → 每个解码器块的交叉注意力
    xm = (xE + xD) / 2 + 0.3
    c.wire((xE, yEout), (xE, yEout + 0.4), (xm, yEout + 0.4), (xm, ycross), (xD - bw / 2, ycross))
    c.text(xm - 0.15, ycross + 0.3, "键、值", fs=FS_SMALL, ha="right")
    c.text(xm + 0.1, yEout + 0.7, "编码器输出", fs=FS_SMALL)
    # 说明
    c.text(7.6, 16.1, "前规范化（pre-norm，norm_first=True）：每个子层计算 "
           r"$\mathbf{X} + \mathrm{Sublayer}(\mathrm{LayerNorm}(\mathbf{X}))$", fs=FS_SMALL)
    c.text(7.6, 15.6, "残差通路上不经过任何规范化；编码器与解码器最后各有一个层规范化（暂退法略去）",
           fs=FS_SMALL, color="#666666")
    return c


def kv_cache():
    """键值缓存：逐个词元解码的第 t 步，每层只为新词元计算查询、键和值。"""
    c = Canvas(15.6, 7.0)
    cw, ch = 0.85, 0.6
    x0 = 2.2
    yK, yV = 5.2, 3.9
    labels = ["1", "2", r"\cdots", "t-1"]
    for row, (y, s, name) in enumerate([(yK, "k", "键缓存"), (yV, "v", "值缓存")]):
        c.text(x0 - 0.75, y, name, fs=FS_SMALL, ha="right")
        for i, lab in enumerate(labels):
            c.box(x0 + i * cw, y, cw - 0.06, ch, rf"$\mathbf{{{s}}}_{{{lab}}}$" if lab != r"\cdots"
                  else r"$\cdots$", "muted", fs=FS_SMALL)
        c.box(x0 + 4 * cw + 0.15, y, cw + 0.1, ch, rf"$\mathbf{{{s}}}_t$", "output", fs=FS_SMALL,
              lw=1.6)
    c.text(x0 + 1.5 * cw, yK + 0.7, "已缓存（不再计算）", fs=FS_SMALL, color="#666666")
    c.text(x0 + 4 * cw + 0.15, yK + 0.7, "新算的", fs=FS_SMALL, color=PALETTE["output"][1])
    c.text(x0 + 0.9 * cw, yV - 0.85, "每层缓存两个张量\n(batch_size, num_heads, t, head_dim)",
           fs=FS_TINY, color="#666666")
    # 新词元
    xn = x0 + 4 * cw + 0.15
    c.box(xn, 0.55, 2.6, 0.6, r"第 $t$ 步的输入词元", "input", fs=FS_SMALL)
    c.box(xn, 1.8, 2.6, 0.65, r"投影 $\mathbf{W}_q, \mathbf{W}_k, \mathbf{W}_v$", "layer",
          fs=FS_SMALL)
    c.wire((xn, 0.85), (xn, 1.8 - 0.33))
    c.wire((xn - 0.15, 1.8 + 0.33), (xn - 0.15, yV - ch / 2))
    c.wire((xn + 0.8, 1.8 + 0.33), (xn + 0.8, (yK + yV) / 2),
           (xn + 0.2, (yK + yV) / 2), (xn + 0.2, yK - ch / 2))
    # 注意力
    xa = 10.6
    c.box(xa, 4.55, 2.8, 1.1, "", "attn")
    c.text(xa, 4.75, "缩放点积注意力", fs=FS_SMALL)
    c.text(xa, 4.35, r"$\mathbf{q}_t$ 看全部 $t$ 个键", fs=FS_SMALL)
    c.wire((xn + (cw + 0.1) / 2, yK), (xa - 1.4, yK))
    c.wire((xn + (cw + 0.1) / 2, yV), (xa - 1.4, yV), z=1.5)
    c.box(xa, 1.8, 1.2, 0.65, r"$\mathbf{q}_t$", "attn", fs=FS_SMALL)
    c.wire((xn + 1.3, 1.8), (xa - 0.6, 1.8))
    c.wire((xa, 1.8 + 0.33), (xa, 4.55 - 0.55))
    c.wire((xa + 1.4, 4.55), (13.6, 4.55))
    c.text(14.4, 4.55, "下一子层", fs=FS_SMALL)
    # 新状态
    c.text(7.8, 6.6, r"解码器每一层的自注意力：新的状态 = 旧缓存后面拼上 $(\mathbf{k}_t, \mathbf{v}_t)$，"
           "每次返回一个新的状态对象，不原地修改", fs=FS_SMALL)
    c.text(xa + 0.3, 1.0, "交叉注意力的键、值来自编码器输出：\n在 init_state 中每层只算一次",
           fs=FS_SMALL, color="#666666")
    return c


# ---------------------------------------------------------------- BERT：预训练与微调
def _width(s, fs):
    """文字 s 在字号 fs 下的宽度（坐标单位）；s 中的 $...$ 按公式排版。"""
    w, _, _ = text_to_path.get_text_width_height_descent(s, FontProperties(size=fs),
                                                         ismath="$" in s)
    return w / 72 / UNIT


def _embedding(c, x, y, sub, fs=FS):
    """以 (x, y) 为中心写 E 加下标：下标是词元（中文字、[CLS]），用正文字体排在公式后面。"""
    fs_sub = FS_TINY
    base = r"$\mathbf{E}$"
    w0, w1 = _width(base, fs), _width(sub, fs_sub)
    left = x - (w0 + w1) / 2
    c.text(left, y + 0.05, base, fs=fs, ha="left")
    c.text(left + w0, y - 0.1, sub, fs=fs_sub, ha="left")


def _bracket(c, x0, x1, y, label, down=False, color="#666666"):
    """x0 到 x1 的一条水平括线，两端有短竖线，label 写在外侧。"""
    t = 0.12 if down else -0.12
    c.wire((x0, y + t), (x0, y), (x1, y), (x1, y + t), color=color, arrow=False, halo=False)
    c.text((x0 + x1) / 2, y - 0.25 if down else y + 0.25, label, fs=FS_SMALL, color=color)


def bert_input():
    """BERT 的输入表示：每个位置的词元嵌入、片段嵌入与位置嵌入按元素相加。"""
    toks = ["[CLS]", "今", "天", "下", "雨", "[SEP]", "带", "伞", "[SEP]"]
    n_a = 6                       # 片段 A：到第一个 [SEP] 为止
    pitch, bw, bh = 1.5, 1.3, 0.7
    x0 = 3.0
    xs = [x0 + i * pitch for i in range(len(toks))]
    c = Canvas(xs[-1] + bw / 2 + 0.45, 8.2)
    yT, yE, yS, yP = 6.4, 5.0, 3.3, 1.6
    # 片段 A、片段 B
    _bracket(c, xs[0] - bw / 2, xs[n_a - 1] + bw / 2, yT + 0.65, "片段 A")
    _bracket(c, xs[n_a] - bw / 2, xs[-1] + bw / 2, yT + 0.65, "片段 B")
    for y, name in [(yT, "输入"), (yE, "词元嵌入"), (yS, "片段嵌入"), (yP, "位置嵌入")]:
        c.text(0.45, y, name, fs=FS_SMALL, color="#666666", ha="left")
    for i, (x, tok) in enumerate(zip(xs, toks)):
        c.box(x, yT, bw, 0.6, tok, "input", fs=FS_SMALL)
        c.wire((x, yT - 0.3), (x, yE + bh / 2))
        c.box(x, yE, bw, bh, "", "layer")
        _embedding(c, x, yE, tok)
        c.op(x, (yE + yS) / 2, "+")
        c.box(x, yS, bw, bh, r"$\mathbf{E}_A$" if i < n_a else r"$\mathbf{E}_B$", "layer")
        c.op(x, (yS + yP) / 2, "+")
        c.box(x, yP, bw, bh, rf"$\mathbf{{E}}_{{{i}}}$", "layer")
    c.text((xs[0] + xs[-1]) / 2, 0.55, "每个位置的三个嵌入按元素相加，"
           "和作为 Transformer 编码器在这个位置的输入", fs=FS_SMALL, color="#666666")
    return c

def bert_pretraining():
    """BERT 的两个预训练任务：掩蔽语言模型与下一句预测，共用一个双向的编码器。"""
    toks = ["[CLS]", "今", "天", "[MASK]", "雨", "[SEP]", "带", "伞", "[SEP]"]
    n_a, m = 6, 3                 # 片段 A 的长度；被遮住的位置
    pitch, bw = 1.45, 1.2
    xs = [1.8 + i * pitch for i in range(len(toks))]
    c = Canvas(14.8, 8.4)
    hot = PALETTE["attn"][1]
    yT, yEnc, yH, yHead, yPred = 1.45, 3.0, 4.6, 6.1, 7.45
    _bracket(c, xs[0] - bw / 2, xs[n_a - 1] + bw / 2, 0.95, "片段 A", down=True)
    _bracket(c, xs[n_a] - bw / 2, xs[-1] + bw / 2, 0.95, "片段 B", down=True)
    x_l, x_r = xs[0] - bw / 2 - 0.1, xs[-1] + bw / 2 + 0.1
    c.box((x_l + x_r) / 2, yEnc, x_r - x_l, 1.0, "Transformer 编码器（双向自注意力）", "layer")
    for i, (x, tok) in enumerate(zip(xs, toks)):
        masked = i == m
        c.box(x, yT, bw, 0.6, tok, "attn" if masked else "input", fs=FS_SMALL)
        c.wire((x, yT + 0.3), (x, yEnc - 0.5))
        c.wire((x, yEnc + 0.5), (x, yH - 0.33))
        c.box(x, yH, bw, 0.65, rf"$\mathbf{{h}}_{{{i}}}$", "hidden", color=hot if masked else None,
              lw=1.8 if masked else LW)
    # 掩蔽语言模型：只用被遮住位置的输出
    xm = xs[m]
    c.wire((xm, yH + 0.33), (xm, yHead - 0.35), color=hot)
    c.box(xm, yHead, 2.7, 0.7, "掩蔽语言模型头", "layer", fs=FS_SMALL)
    c.wire((xm, yHead + 0.35), (xm, yPred - 0.3), color=hot)
    c.box(xm, yPred, 0.75, 0.6, "下", "output")
    c.text(xm + 0.55, yPred, "预测被遮住的字", fs=FS_SMALL, color=hot, ha="left")
    c.text(xm + 1.65, yHead + 0.2, "只在被遮住的位置计算损失", fs=FS_SMALL, color=hot, ha="left")
    c.text(xm + 1.65, yHead - 0.25, r"其余位置的 $\mathbf{h}_i$ 不进入这项损失", fs=FS_SMALL,
           color="#666666", ha="left")
    # 下一句预测：只用 [CLS] 位置的输出
    x0 = xs[0]
    c.wire((x0, yH + 0.33), (x0, yHead - 0.35))
    c.box(x0, yHead, 2.4, 0.7, "下一句预测头", "layer", fs=FS_SMALL)
    c.wire((x0, yHead + 0.35), (x0, yPred - 0.3))
    c.box(x0, yPred, 2.4, 0.6, "是下一句 / 不是", "output", fs=FS_SMALL)
    return c


def bert_finetune():
    """微调：同一个预训练的编码器，上面换成不同任务的输出层。"""
    bw = 0.85
    yT, yEnc, yH, yPool, yFC, yOut, yTitle = 1.75, 3.0, 4.25, 5.45, 6.55, 7.65, 8.65
    pad, gap = 0.25, 0.25
    c = Canvas(19.0, 9.3)

    def panel(x_left, toks, title, pitch=0.95):
        """画一个子图的输入、编码器与各位置的输出，返回各列的横坐标、子图右边界与中心。"""
        n = len(toks)
        xs = [x_left + pad + pitch / 2 + i * pitch for i in range(n)]
        x_right = x_left + 2 * pad + n * pitch
        xc = (x_left + x_right) / 2
        c.group(x_left, 0.75, x_right, 9.1, ls="-")
        c.text(xc, yTitle, title)
        x_l, x_r = xs[0] - bw / 2 - 0.05, xs[-1] + bw / 2 + 0.05
        c.box(xc, yEnc, x_r - x_l, 0.8, "Transformer 编码器", "layer", fs=FS_SMALL)
        for i, (x, tok) in enumerate(zip(xs, toks)):
            c.box(x, yT, bw, 0.55, tok, "input", fs=FS_SMALL)
            c.wire((x, yT + 0.275), (x, yEnc - 0.4))
            c.wire((x, yEnc + 0.4), (x, yH - 0.28))
            c.box(x, yH, bw, 0.55, rf"$\mathbf{{h}}_{{{i}}}$", "hidden", fs=FS_SMALL)
        return xs, x_right, xc

    def pooled_head(xs, xc, labels):
        """所有位置的输出平均汇聚 → 全连接层 → 类别。"""
        for x in xs:
            c.wire((x, yH + 0.28), (xc + (x - xc) * 0.35, yPool - 0.3))
        c.box(xc, yPool, 2.0, 0.6, "平均汇聚", "plain", fs=FS_SMALL)
        c.wire((xc, yPool + 0.3), (xc, yFC - 0.3))
        c.box(xc, yFC, 2.0, 0.6, "全连接层", "layer", fs=FS_SMALL)
        c.wire((xc, yFC + 0.3), (xc, yOut - 0.3))
        c.box(xc, yOut, _width(labels, FS_SMALL) + 0.5, 0.6, labels, "output", fs=FS_SMALL)

    # （a）单句分类
    xs, x_next, xc = panel(0.25, ["[CLS]", "很", "好", "用", "[SEP]"], "（a）单句分类（情感）")
    pooled_head(xs, xc, "正面 / 负面")
    # （b）词元标注：每个字的输出各接一个全连接层（参数共用）
    xs, x_b_right, xc = panel(x_next + gap, ["[CLS]", "张", "三", "在", "北", "京", "[SEP]"],
                              "（b）词元标注（命名实体识别）", pitch=1.0)
    tags = ["B-PER", "I-PER", "O", "B-LOC", "I-LOC"]
    for x, tag in zip(xs[1:-1], tags):
        c.wire((x, yH + 0.28), (x, yFC - 0.3))
        c.box(x, yFC, bw - 0.1, 0.6, "", "layer")
        c.wire((x, yFC + 0.3), (x, yOut - 0.28))
        c.box(x, yOut, 0.92, 0.55, tag, "output", fs=FS_TINY)
    c.text(xs[1] - (bw - 0.1) / 2 - 0.08, yFC, "全连接层", fs=FS_TINY, color="#666666", ha="right")
    # （c）句对分类：前提是片段 A，假设是片段 B
    xs, _, xc = panel(x_b_right + gap, ["[CLS]", "前提", "[SEP]", "假设", "[SEP]"],
                      "（c）句对分类（自然语言推断）")
    pooled_head(xs, xc, "蕴涵 / 中性 / 矛盾")
    _bracket(c, xs[0] - bw / 2, xs[2] + bw / 2, yT - 0.45, "片段 A", down=True)
    _bracket(c, xs[3] - bw / 2, xs[4] + bw / 2, yT - 0.45, "片段 B", down=True)
    c.text(9.5, 0.35, "三个任务用同一个预训练的编码器，只换最上面的输出层；微调时全部参数一起训练",
           fs=FS_SMALL, color="#666666")
    return c


# ---------------------------------------------------------------- 第 5 章：GPT
def gpt_stack():
    """本书训练的 GPT：仅解码器，前规范化的 L 个块，输出层与词嵌入共享权重。"""
    toks_in = ["<bos>", "白", "日", "依", "山"]
    toks_out = ["白", "日", "依", "山", "尽"]
    bw, bh = 3.6, 0.62
    pitch, tw, th = 1.2, 1.05, 0.55
    xc = 5.0
    xs = [xc + (i - 2) * pitch for i in range(len(toks_in))]
    ww = xs[-1] - xs[0] + tw          # 词嵌入、输出层跨过所有位置
    c = Canvas(10.6, 13.5)
    grey = dict(fs=FS_SMALL, color="#666666")
    # 输入词元 → 词嵌入 → 加上位置嵌入
    yT, yEmb = 0.6, 1.75
    c.text(xs[0] - tw / 2 - 0.2, yT, "输入", ha="right", **grey)
    for x, tok in zip(xs, toks_in):
        c.box(x, yT, tw, th, tok, "input", fs=FS_SMALL)
        c.wire((x, yT + th / 2), (x, yEmb - bh / 2))
    c.box(xc, yEmb, ww, bh, "词嵌入", "layer", fs=FS_SMALL)
    yplus = yEmb + 1.15
    c.wire((xc, yEmb + bh / 2), (xc, yplus - 0.22))
    c.op(xc, yplus, "+")
    xpos = xc - 0.22 - 0.55 - 1.2
    c.box(xpos, yplus, 2.4, 0.8, "位置嵌入\n（可学习）", "layer", fs=FS_SMALL)
    c.wire((xpos + 1.2, yplus), (xc - 0.22, yplus))
    # L 个前规范化的块
    yblk0 = yplus + 0.22 + 0.45
    c.wire((xc, yplus + 0.22), (xc, yblk0 + 0.1), arrow=False)
    y1, _ = _prenorm_sublayer(c, xc, yblk0 + 0.1, bw, bh, "掩蔽多头自注意力（因果）", "attn",
                              "left")
    y2, _ = _prenorm_sublayer(c, xc, y1 + 0.2, bw, bh, "前馈网络（GELU）", "layer", "left")
    for y in (y1, y2):
        c.text(xc + 0.35, y - 0.22, "残差相加", fs=FS_TINY, color="#666666", ha="left")
    c.group(xc - bw / 2 - 0.75, yblk0 - 0.05, xc + bw / 2 + 0.45, y2 + 0.15)
    c.text(xc - bw / 2 - 1.4, (yblk0 + y2) / 2, "解码器块\n" r"$\times L$", **grey)
    # 最后的层规范化 → 输出层 → 每个位置下一个词元
    c.wire((xc, y2), (xc, y2 + 0.5))
    c.box(xc, y2 + 0.5 + bh / 2, bw, bh, "最后的层规范化", "norm", fs=FS_SMALL)
    yN = y2 + 0.5 + bh
    yO = yN + 0.45 + bh / 2
    c.wire((xc, yN), (xc, yO - bh / 2))
    c.box(xc, yO, ww, bh, "输出层（与词嵌入共享权重）", "layer", fs=FS_SMALL)
    yP = yO + bh / 2 + 0.75
    c.text(xs[0] - tw / 2 - 0.2, yP, "预测", ha="right", **grey)
    for x, tok in zip(xs, toks_out):
        c.wire((x, yO + bh / 2), (x, yP - th / 2))
        c.box(x, yP, tw, th, tok, "output", fs=FS_SMALL)
    c.text(xc, yP + 0.65, "每个位置预测下一个词元：目标是输入错开一位", fs=FS_SMALL)
    # 权重绑定：输出层与词嵌入是同一个矩阵
    tie = PALETTE["layer"][1]
    xr = xc + ww / 2 + 0.45
    c.wire((xc + ww / 2, yO), (xr, yO), (xr, yEmb), (xc + ww / 2, yEmb), color=tie,
           ls=(0, (3, 2)), arrow=False)
    c.text(xr + 0.15, (yEmb + yO) / 2, "权重\n绑定", fs=FS_SMALL, color=tie, ha="left")
    return c


def causal_mask():
    """因果掩码：每个查询只看自己和前面的键；右边是 BERT 的双向自注意力作对比。"""
    toks = ["<bos>", "白", "日", "依", "山"]
    n = len(toks)
    c = Canvas(13.4, 8.5)
    grey = "#666666"

    def grid(x0, ytop, s, visible, fs):
        """左上角在 (x0, ytop)、格宽 s 的 n × n 网格；第 i 行是查询，第 j 列是键。"""
        for i in range(n):
            y = ytop - (i + 0.5) * s
            c.text(x0 - 0.15, y, toks[i], fs=fs, ha="right")
            for j in range(n):
                x = x0 + (j + 0.5) * s
                if i == 0:
                    c.text(x, ytop + 0.3, toks[j], fs=fs)
                cell(x, y, s - 0.08, visible(i, j))

    def cell(x, y, w, seen):
        c.box(x, y, w, w, "", "attn" if seen else "muted")
        if not seen:  # 遮住的格子画一个叉
            d = w * 0.22
            for sgn in (1, -1):
                c.wire((x - d, y - sgn * d), (x + d, y + sgn * d), color=MUTED, arrow=False,
                       halo=False, z=3)

    # GPT：因果
    s, x0, ytop = 0.85, 2.4, 6.45
    grid(x0, ytop, s, lambda i, j: j <= i, FS_SMALL)
    xm = x0 + n * s / 2
    c.text(xm, ytop + 0.85, "键（被看的位置）", fs=FS_SMALL, color=grey)
    c.text(x0 - 1.15, ytop - n * s / 2, "查询（当前位置）", fs=FS_SMALL, color=grey, rotation=90)
    c.text(xm, ytop + 1.45, "GPT：因果（只看自己和前面）")
    # BERT：双向
    xb = 8.6
    grid(xb, ytop, s, lambda i, j: True, FS_SMALL)
    c.text(xb + n * s / 2, ytop + 1.45, "BERT：双向（全部可见）")
    c.text(xb + n * s / 2, ytop - n * s - 0.45, "每个查询都看全部的键", fs=FS_SMALL, color=grey)
    # 图例
    yl = 0.55
    cell(0.95, yl + 0.55, 0.4, True)
    c.text(1.3, yl + 0.55, "可见：参与 softmax", fs=FS_SMALL, ha="left")
    cell(0.95, yl, 0.4, False)
    c.text(1.3, yl, r"遮住：softmax 之前把分数置为 $-\infty$，注意力权重恰好为 0", fs=FS_SMALL,
           ha="left")
    return c


def rope():
    """旋转位置编码：一对特征看作平面上的向量，按位置旋转；点积只取决于相对位置。"""
    c = Canvas(14.0, 5.8)
    R = 2.3                     # 向量长度
    grey = "#666666"

    def panel(ox, oy, ang0, turn, col, name, rotated, title):
        """原点 (ox, oy) 的一个坐标平面：原向量（虚线）转过 turn 度到新向量。"""
        c.wire((ox - 0.4, oy), (ox + 3.0, oy), color=MUTED, halo=False)
        c.wire((ox, oy - 0.4), (ox, oy + 3.0), color=MUTED, halo=False)
        for a, lab, new in [(ang0, name, False), (ang0 + turn, rotated, True)]:
            t = math.radians(a)
            tip = (ox + R * math.cos(t), oy + R * math.sin(t))
            c.wire((ox, oy), tip, color=col if new else MUTED, ls="-" if new else (0, (3, 2)),
                   lw=1.8 if new else LW, z=2)
            c.text(ox + (R + 0.45) * math.cos(t), oy + (R + 0.3) * math.sin(t), lab, fs=FS_SMALL,
                   color=col if new else grey)
        r = 1.35
        t0, t1 = math.radians(ang0), math.radians(ang0 + turn)
        c.curve((ox + r * math.cos(t0), oy + r * math.sin(t0)),
                (ox + r * math.cos(t1), oy + r * math.sin(t1)),
                rad=math.tan((t1 - t0) / 2) / 2, color=col)
        tm = (t0 + t1) / 2
        c.text(ox + (r + 0.4) * math.cos(tm), oy + (r + 0.4) * math.sin(tm), title[1],
               fs=FS_SMALL, color=col)
        c.text(ox + 1.3, oy - 0.8, title[0], fs=FS_SMALL)

    q_col, k_col = PALETTE["attn"][1], PALETTE["input"][1]
    panel(1.2, 1.5, 15, 55, q_col, r"$\mathbf{q}$", r"$\mathbf{R}_{m\theta}\mathbf{q}$",
          (r"位置 $m$ 的查询 $\mathbf{q}$ 旋转 $m\theta$", r"$m\theta$"))
    panel(6.0, 1.5, 30, 30, k_col, r"$\mathbf{k}$", r"$\mathbf{R}_{n\theta}\mathbf{k}$",
          (r"位置 $n$ 的键 $\mathbf{k}$ 旋转 $n\theta$", r"$n\theta$"))
    c.text(7.0, 5.25, "每个头的特征两两配对，每一对看作平面上的一个向量，按所在位置旋转", fs=FS_SMALL,
           color=grey)
    # 结论
    xb = 11.75
    c.box(xb, 2.65, 4.1, 3.0, "", "group")
    c.text(xb, 3.75, r"旋转后 $\mathbf{q}\cdot\mathbf{k}$ 只取决于 $m-n$", fs=FS_SMALL)
    c.text(xb, 3.05, r"$(\mathbf{R}_{m\theta}\mathbf{q})^\top\mathbf{R}_{n\theta}\mathbf{k}$",
           fs=FS_SMALL)
    c.text(xb, 2.45, r"$= \mathbf{q}^\top\mathbf{R}_{(n-m)\theta}\,\mathbf{k}$", fs=FS_SMALL)
    c.text(xb, 1.65, "两个位置同时后移，\n点积不变", fs=FS_SMALL, color=grey)
    return c


FIGURES = {
    "rnn": rnn, "bptt": bptt, "gru": gru, "lstm": lstm, "deep_rnn": deep_rnn, "bi_rnn": bi_rnn,
    "encoder_decoder": encoder_decoder, "seq2seq": seq2seq, "beam_search": beam_search,
    "attention_pooling": attention_pooling, "bahdanau": bahdanau,
    "multihead_attention": multihead_attention, "cnn_rnn_self_attention": cnn_rnn_self_attention,
    "transformer": transformer, "kv_cache": kv_cache,
    "bert_input": bert_input, "bert_pretraining": bert_pretraining,
    "bert_finetune": bert_finetune,
    "gpt_stack": gpt_stack, "causal_mask": causal_mask, "rope": rope,
}


def draw(out_dir=HERE, names=None, png_dir=None):
    """把 names（默认全部）画到 out_dir/<名字>.svg，返回写出的路径列表。

    matplotlib 的全局设置只在画图期间改动，之后恢复原样。
    """
    out_dir = pathlib.Path(out_dir)
    paths = []
    with matplotlib.rc_context():
        setup()
        for name in names or FIGURES:
            if name not in FIGURES:
                raise ValueError(f"没有名为 {name!r} 的图，可选：{', '.join(FIGURES)}")
            path = out_dir / f"{name}.svg"
            FIGURES[name]().save(path, png_dir)
            paths.append(path)
    return paths


if __name__ == "__main__":
    args = sys.argv[1:]
    png = None
    if "--png" in args:
        i = args.index("--png")
        png = pathlib.Path(args[i + 1])
        png.mkdir(parents=True, exist_ok=True)
        del args[i:i + 2]
    for p in draw(names=args or None, png_dir=png):
        print(p)
