"""执行缓存的键包含库的源代码与数值设置：改了 ``seqbook``，``make book`` 就重新执行笔记本。

myst-nb 的执行缓存（jupyter-cache，``_build/.jupyter_cache``）按笔记本的代码单元和 ``kernelspec``
元数据的哈希查找执行结果，不知道笔记本导入的库变了没有：只改 ``lib/seqbook`` 时，它会沿用旧的输出。
这里在 myst-nb 查缓存之前，把 :func:`seqbook.numerics.execution_key`（库源代码的 SHA-1、PyTorch
版本、数值设置）写进笔记本的 ``kernelspec.seqbook``：库或设置一变，哈希就变，笔记本重新执行。
"""


def stamp(notebook):
    """把执行键写进 ``notebook.metadata.kernelspec.seqbook``（原地修改并返回 ``notebook``）。"""
    from seqbook.numerics import execution_key
    notebook.metadata.setdefault("kernelspec", {})["seqbook"] = execution_key()
    return notebook


def setup(app):
    from myst_nb.core.execute.cache import NotebookClientCache
    original = NotebookClientCache.start_client
    if not getattr(original, "_seqbook_stamped", False):
        def start_client(self):
            stamp(self.notebook)
            return original(self)
        start_client._seqbook_stamped = True
        NotebookClientCache.start_client = start_client
    return {"parallel_read_safe": True, "parallel_write_safe": True}
