"""重构不改变行为：书中每种训练、注意力与解码的小例子，结果与 ``tests/golden/reference.json`` 相同。

参考值由重构前的库用 ``python tests/golden/make_golden.py`` 生成。浮点数允许 1e-3 的相对误差
（不同 CPU 上求和顺序可能不同），解码出的文本必须相同。
"""
import json
import math
import pathlib
import sys

GOLDEN = pathlib.Path(__file__).resolve().parent / "golden"


def assert_close(actual, expected, path="", rel=1e-3):
    if isinstance(expected, dict):
        assert sorted(actual) == sorted(expected), path
        for key in expected:
            assert_close(actual[key], expected[key], f"{path}.{key}", rel)
    elif isinstance(expected, list):
        assert len(actual) == len(expected), path
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_close(a, e, f"{path}[{i}]", rel)
    elif isinstance(expected, float):
        assert math.isclose(actual, expected, rel_tol=rel, abs_tol=1e-6), (path, actual, expected)
    else:
        assert actual == expected, (path, actual, expected)


def test_library_behaviour_matches_golden_numbers():
    sys.path.insert(0, str(GOLDEN))
    try:
        import make_golden
    finally:
        sys.path.remove(str(GOLDEN))
    expected = json.loads((GOLDEN / "reference.json").read_text(encoding="utf-8"))
    actual = json.loads(json.dumps(make_golden.compute(), default=repr))
    assert_close(actual, expected)
