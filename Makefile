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
# 构建与测试时每个进程只用 1 个 CPU 线程：书中的数字就是在这个设置下测得的（线程数不同，浮点求和的
# 顺序就不同，训练出的数字会略有差别）；而且与其他进程同时运行时不会因争抢 CPU 而成倍变慢。
export OMP_NUM_THREADS ?= 1

.PHONY: all book test install mathjax clean distclean help
all: book

help:
	@sed -n '1,5p' Makefile

$(BIN)/python:
	$(PYTHON) -m venv $(VENV_FLAGS) $(VENV)

$(STAMP): requirements.txt pyproject.toml | $(BIN)/python
ifeq ($(KEEP_TORCH),1)
	grep -v '^torch==' requirements.txt > $(VENV)/requirements-keep-torch.txt
	$(BIN)/python -m pip install -r $(VENV)/requirements-keep-torch.txt -e .
else
	$(BIN)/python -m pip install -r requirements.txt -e .
endif
	touch $@

# MathJax 3 来自 npm，放进 _vendor/ 并作为静态文件发布，公式不联网也能渲染
$(MATHJAX_DIR)/tex-chtml.js:
	@command -v npm >/dev/null || { echo "错误：需要 npm 来下载 MathJax（conda 环境里有 nodejs；Debian: apt-get install npm）" >&2; exit 1; }
	rm -rf _vendor/.mathjax-tmp && mkdir -p _vendor/.mathjax-tmp
	cd _vendor/.mathjax-tmp && npm pack --silent mathjax@$(MATHJAX_VERSION) >/dev/null && tar -xzf mathjax-$(MATHJAX_VERSION).tgz package/es5
	rm -rf $(MATHJAX_DIR) && mv _vendor/.mathjax-tmp/package/es5 $(MATHJAX_DIR) && rm -rf _vendor/.mathjax-tmp

install: $(STAMP) $(MATHJAX_DIR)/tex-chtml.js

book: install
	$(BIN)/jupyter-book build . -W --keep-going

test: install
	$(BIN)/python -m pytest

clean:
	rm -rf _build

distclean: clean
	rm -rf $(VENV) _vendor
