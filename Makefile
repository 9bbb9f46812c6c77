# 《动手学序列模型》的两条主命令：
#   make book   安装环境（如缺），执行全部笔记本并构建 HTML 到 _build/html（警告即错误）
#   make test   安装环境（如缺），运行 seqbook 单元测试、用 nbval 执行每个笔记本、快速检查构建
# 数据目录：SEQBOOK_DATA=/path/to/data make test（离线时指向本地数据副本）

PYTHON   ?= python3
VENV     ?= .venv
BIN      := $(VENV)/bin
MATHJAX_VERSION := 3.2.2
MATHJAX_DIR     := _vendor/mathjax
# KEEP_TORCH=1：保留环境里已装好的 torch（例如 GPU 机器上的 CUDA 版），不安装 requirements.txt 锁定的 CPU 版
KEEP_TORCH ?= 0
# 给 venv 传参，例如 GPU 机器上用系统的 torch：VENV_FLAGS=--system-site-packages
VENV_FLAGS ?=
STAMP    := $(VENV)/.installed
# 数值可复现（见书中“安装与运行”）：任何 x86-64 CPU 上打印相同的数字。这些变量在 PyTorch 载入时读取，
# 所以由 make 导出给每个进程，并写进 `seqbook` 内核（install 时注册），在 Jupyter 中打开笔记本时同样生效。
# 与 lib/seqbook/numerics.py 的 PINNED_ENV 一致（tests/test_numerics.py 检查）。
#   ATEN_CPU_CAPABILITY=avx2      PyTorch 自己的向量化内核一律用 AVX2 版本（支持 AVX-512 的 CPU 默认用 AVX-512 版本）
#   MKL_ENABLE_INSTRUCTIONS=AVX2  MKL 的矩阵乘法最多用 AVX2 指令
#   ONEDNN_MAX_CPU_ISA=AVX2       oneDNN（卷积等）最多用 AVX2 指令
#   线程数 THREADS（默认 1）       线程数不同，浮点求和的顺序就不同；单线程也让并行的进程互不拖慢
THREADS ?= 1
export ATEN_CPU_CAPABILITY := avx2
export MKL_ENABLE_INSTRUCTIONS := AVX2
export ONEDNN_MAX_CPU_ISA := AVX2
export OMP_NUM_THREADS := $(THREADS)
export MKL_NUM_THREADS := $(THREADS)
# 多线程时空闲的线程睡眠而不是空转：机器上还有别的进程时，空转的线程会让训练慢上十倍（不影响数值）
export OMP_WAIT_POLICY := PASSIVE

.PHONY: all book test install mathjax clean distclean help lab
all: book

help:
	@sed -n '1,5p' Makefile

$(BIN)/python:
	$(PYTHON) -m venv $(VENV_FLAGS) $(VENV)

# --no-compile：不预先编译全部软件包的 .pyc（安装快一半）；用到的模块在第一次导入时编译并缓存
$(STAMP): requirements.txt pyproject.toml | $(BIN)/python
ifeq ($(KEEP_TORCH),1)
	grep -v '^torch==' requirements.txt > $(VENV)/requirements-keep-torch.txt
	$(BIN)/python -m pip install --no-compile -r $(VENV)/requirements-keep-torch.txt -e .
else
	$(BIN)/python -m pip install --no-compile -r requirements.txt -e .
endif
	$(BIN)/python -m seqbook.numerics install-kernel
	touch $@

# MathJax 3 来自 npm，放进 _vendor/ 并作为静态文件发布，公式不联网也能渲染
$(MATHJAX_DIR)/tex-chtml.js:
	@command -v npm >/dev/null || { echo "错误：需要 npm 来下载 MathJax（conda 环境里有 nodejs；Debian: apt-get install npm）" >&2; exit 1; }
	rm -rf _vendor/.mathjax-tmp && mkdir -p _vendor/.mathjax-tmp
	cd _vendor/.mathjax-tmp && npm pack --silent mathjax@$(MATHJAX_VERSION) >/dev/null && tar -xzf mathjax-$(MATHJAX_VERSION).tgz package/es5
	rm -rf $(MATHJAX_DIR) && mv _vendor/.mathjax-tmp/package/es5 $(MATHJAX_DIR) && rm -rf _vendor/.mathjax-tmp

install: $(STAMP) $(MATHJAX_DIR)/tex-chtml.js

# make book：先用 pytest 在 JOBS 个进程里执行执行缓存中还没有的笔记本（--fill-book-cache；
# 刚运行过 make test 时一个也没有，它们的输出已在缓存里），再由 Jupyter Book 从缓存构建。
# pytest 没有收集到笔记本时退出码是 5，这里当作成功。
# 进程数 JOBS（默认 2）：每个笔记本整个在一个进程里执行，各进程 1 个线程，结果与串行执行相同
JOBS ?= 2

book: install
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile --fill-book-cache -q book; \
	  rc=$$?; [ $$rc -eq 0 ] || [ $$rc -eq 5 ]
	$(BIN)/jupyter-book build . -W --keep-going

test: install
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile

# make lab：用本项目的环境启动 JupyterLab。书中的 .md 由 jupytext 直接当作笔记本打开（双击即可，
# 设置见 lab/overrides.json），内核是 install 时注册的 seqbook（带上面的数值设置）。
# LAB_ARGS 传给 jupyter lab，例如 make lab LAB_ARGS="--no-browser --port=8899"
LAB_ARGS ?=
# 以 root 运行时（容器里常见）jupyter 要求 --allow-root
LAB_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)
LAB_OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.d/seqbook.json

$(LAB_OVERRIDES): lab/overrides.json | $(STAMP)
	mkdir -p $(@D) && cp $< $@

lab: install $(LAB_OVERRIDES)
	$(BIN)/jupyter lab --ServerApp.root_dir="$(CURDIR)" --MappingKernelManager.default_kernel_name=seqbook $(LAB_ROOT) $(LAB_ARGS)

clean:
	rm -rf _build

distclean: clean
	rm -rf $(VENV) _vendor
