#!/usr/bin/env python
"""库与书中代码清单的规模：库的行数、show_source 打印的行数与最长清单、训练循环与参数检查的个数。

Before/after figures for the library redesign.  Read-only: imports seqbook, never trains.

Usage (from anywhere; ROOT is a checkout or an exported tree, default: this checkout):
    .venv/bin/python bench/library_figures.py [ROOT] [--json OUT]
        [--names show_source,show_core] [--page-cols 88] [--no-duplicates]

To measure a commit without the working-tree edits of others:
    rm -rf /tmp/m && mkdir /tmp/m && git archive HEAD | tar -x -C /tmp/m
    .venv/bin/python bench/library_figures.py /tmp/m
ROOT/lib is put first on sys.path, so the seqbook that is measured is ROOT's, not the editable install.

What is counted (the definitions are the contract for the "after" run):
- library: every *.py under ROOT/lib/seqbook (recursively, so sub-packages count).  A line is
  blank, docstring (inside a module/class/function docstring), comment (starts with #) or code.
- listings: every call named show_source (or --names) in a ```{code-cell} of ROOT/book/**/*.md.
  The call expression is evaluated with `seqbook` (and torch) in scope, exactly as the notebook
  does; the printed library lines are the lines of the returned object's visible code:
  `obj.code` (a redesigned variant may expose `obj.visible_code`; that wins when present).  The
  "# module.name" title line is not counted.
- guard lines inside a listing: `if ...: raise` blocks (elif/else chains of raises included),
  `for` loops whose body is only such blocks, bare `raise X(...)` statements (not
  NotImplementedError), calls to check_*/_check_*/_validate* helpers, and whole _check_* defs.
- docstring lines inside a listing: docstrings of the functions/classes/methods shown.
- training loops: functions with a `for` over epochs (target or iterable mentions "epoch") that
  call `<x>.step()` (x not a scheduler) themselves or through a function of the same module.
- validators: defs named *check*/_validate* per module; raise TypeError/ValueError sites per module.
- width: len(line) (what ruff/flake8 count for ASCII) and display width (CJK = 2 columns, as
  ruff's unicode width counts; on the page a CJK glyph is ~1.67 monospace columns).
"""
import argparse
import ast
import collections
import json
import os
import pathlib
import re
import subprocess
import sys
import unicodedata


def disp_width(s):
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


# ---------------------------------------------------------------- library lines
def docstring_lines(tree):
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                lines.update(range(body[0].lineno, body[0].end_lineno + 1))
    return lines


def classify(text):
    tree = ast.parse(text)
    doc = docstring_lines(tree)
    c = collections.Counter()
    for i, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if i in doc:
            c["docstring"] += 1
        elif not s:
            c["blank"] += 1
        elif s.startswith("#"):
            c["comment"] += 1
        else:
            c["code"] += 1
    c["total"] = len(text.splitlines())
    return c


def library_stats(lib):
    mods = {}
    for p in sorted(lib.rglob("*.py")):
        mods[str(p.relative_to(lib.parent))] = classify(p.read_text(encoding="utf-8"))
    total = sum(mods.values(), collections.Counter())
    longest = max(mods.items(), key=lambda kv: kv[1]["total"])
    return mods, total, longest


# ---------------------------------------------------------------- guards
CHECK_NAME = re.compile(r"^_?check_\w+$|^_?check$|^_?validate\w*$")


def _call_name(node):
    if isinstance(node, ast.Call):
        f = node.func
        return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
    return None


def _is_raise(stmt):
    if not isinstance(stmt, ast.Raise) or stmt.exc is None:
        return isinstance(stmt, ast.Raise)
    return _call_name(stmt.exc) != "NotImplementedError" and not (
        isinstance(stmt.exc, ast.Name) and stmt.exc.id == "NotImplementedError")


def is_guard(stmt):
    if _is_raise(stmt):
        return True
    if isinstance(stmt, ast.If):
        return all(is_guard(s) for s in stmt.body) and all(is_guard(s) for s in stmt.orelse)
    if isinstance(stmt, ast.For):
        return all(is_guard(s) for s in stmt.body) and not stmt.orelse
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        n = _call_name(stmt.value)
        return bool(n and CHECK_NAME.match(n))
    if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call):
        # x = check_index(x, "x") : a validator that returns the normalised value
        n = _call_name(stmt.value)
        return bool(n and CHECK_NAME.match(n))
    return False


def guard_lines(tree):
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and CHECK_NAME.match(node.name):
            start = min([node.lineno] + [d.lineno for d in node.decorator_list])
            lines.update(range(start, node.end_lineno + 1))
        for field in ("body", "orelse", "finalbody"):
            stmts = getattr(node, field, None)
            for stmt in stmts if isinstance(stmts, list) else []:
                if isinstance(stmt, ast.stmt) and is_guard(stmt):
                    lines.update(range(stmt.lineno, stmt.end_lineno + 1))
    return lines


# ---------------------------------------------------------------- listings in the book
CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```", re.M | re.S)


def cell_code(body):
    lines = body.split("\n")
    if lines and lines[0].strip() == "---":  # YAML options block
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), 0)
        lines = lines[end + 1:]
    lines = [l for l in lines if not re.match(r"^\s*:\w[\w-]*:", l)]
    lines = ["pass  # magic" if re.match(r"^\s*[%!]", l) else l for l in lines]
    return "\n".join(lines)


def book_cells(book):
    for md in sorted(book.rglob("*.md")):
        if "_build" in md.parts:
            continue
        text = md.read_text(encoding="utf-8")
        for m in CELL.finditer(text):
            line0 = text[:m.start(1)].count("\n") + 1
            yield md, line0, cell_code(m.group(1))


def listings(root, names):
    import seqbook
    import torch
    out, errors = [], []
    for md, line0, code in book_cells(root / "book"):
        try:
            tree = ast.parse(code)
        except SyntaxError as e:
            errors.append(f"{md.relative_to(root)}:{line0}: cannot parse cell ({e.msg})")
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _call_name(node) in names:
                expr = ast.unparse(node)
                where = f"{md.relative_to(root)}:{line0 + node.lineno}"
                try:
                    obj = eval(compile(ast.Expression(node), where, "eval"),
                               {"seqbook": seqbook, "torch": torch, names[0]: seqbook.show_source})
                except Exception as e:  # noqa: BLE001
                    errors.append(f"{where}: {expr}: {type(e).__name__}: {e}")
                    continue
                shown = getattr(obj, "visible_code", None) or obj.code
                shown = shown.rstrip("\n")
                try:
                    t = ast.parse(shown)
                    g, d = guard_lines(t), docstring_lines(t)
                except SyntaxError:
                    g, d = set(), set()
                lines = shown.splitlines()
                out.append({"where": where, "call": expr, "lines": len(lines),
                            "guard": len(g), "doc": len(d & set(range(1, len(lines) + 1))),
                            "max_width": max((disp_width(l) for l in lines), default=0),
                            "page_width": max((len(l) + sum(1 for c in l if unicodedata.east_asian_width(c) in "WF") * 2 / 3
                                               for l in lines), default=0),
                            "text": lines})
    return out, errors


# ---------------------------------------------------------------- loops, validators, API use
def _mentions_epoch(for_node):
    return "epoch" in ast.unparse(for_node.target) or "epoch" in ast.unparse(for_node.iter)


def _calls_step(fn):
    for n in ast.walk(fn):
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "step":
            owner = ast.unparse(n.func.value)
            if "sched" not in owner.lower():
                return True
    return False


def training_loops(lib):
    found = []
    for p in sorted(lib.rglob("*.py")):
        tree = ast.parse(p.read_text(encoding="utf-8"))
        funcs = {n.name: n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        steppers = {name for name, f in funcs.items() if _calls_step(f)}
        for name, f in funcs.items():
            if not any(isinstance(n, ast.For) and _mentions_epoch(n) for n in ast.walk(f)):
                continue
            called = {_call_name(n) for n in ast.walk(f) if isinstance(n, ast.Call)}
            via = sorted(called & steppers - {name})
            if name in steppers or via:
                found.append(f"{p.relative_to(lib.parent)}:{f.lineno} {name}" + (f" (step in {', '.join(via)})" if via else ""))
    return found


def step_sites(paths):
    sites = []
    for p in paths:
        tree = ast.parse(p.read_text(encoding="utf-8"))
        for n in ast.walk(tree):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "step" \
                    and "sched" not in ast.unparse(n.func.value).lower():
                sites.append(f"{p}:{n.lineno}")
    return sites


def validators(lib):
    per = {}
    for p in sorted(lib.rglob("*.py")):
        src = p.read_text(encoding="utf-8")
        tree = ast.parse(src)
        defs = [f"{n.name}:{n.lineno}" for n in ast.walk(tree)
                if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and CHECK_NAME.match(n.name)]
        raises = collections.Counter()
        for n in ast.walk(tree):
            if isinstance(n, ast.Raise) and n.exc is not None:
                name = _call_name(n.exc) or (n.exc.id if isinstance(n.exc, ast.Name) else None)
                if name in ("TypeError", "ValueError"):
                    raises[name] += 1
        posint = len(re.findall(r"isinstance\(\w+, int\)", src))
        per[str(p.relative_to(lib.parent))] = {"check_defs": defs, "TypeError": raises["TypeError"],
                                               "ValueError": raises["ValueError"], "isinstance_int": posint}
    return per


def book_api(root):
    import seqbook
    public = set(getattr(seqbook, "__all__", None) or [n for n in dir(seqbook) if not n.startswith("_")])
    used, deep = collections.Counter(), []
    for md, line0, code in book_cells(root / "book"):
        for m in re.finditer(r"\bseqbook((?:\.[A-Za-z_]\w*)+)", code):
            parts = m.group(1).split(".")[1:]
            used[parts[0]] += 1
            obj = getattr(seqbook, parts[0], None)
            is_module = type(obj).__name__ == "module"
            if parts[0].startswith("_") or (is_module and len(parts) > 1) or \
                    (len(parts) > 1 and parts[1].startswith("_") and not parts[1].startswith("__")):
                deep.append(f"{md.relative_to(root)}: seqbook.{'.'.join(parts)}")
    for md, line0, code in book_cells(root / "book"):
        for m in re.finditer(r"^\s*(from seqbook[\w.]* import .*|import seqbook\.\w+.*)$", code, re.M):
            deep.append(f"{md.relative_to(root)}: {m.group(1).strip()}")
    return used, sorted(set(deep)), sorted(public)


def wide_lines(paths, limit):
    n_len = n_disp = 0
    for p in paths:
        for line in p.read_text(encoding="utf-8").splitlines():
            n_len += len(line) > limit
            n_disp += disp_width(line) > limit
    return n_len, n_disp


# ---------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root", nargs="?", default=str(pathlib.Path(__file__).resolve().parents[1]))
    ap.add_argument("--names", default="show_source")
    ap.add_argument("--page-cols", type=float, default=88.0,
                    help="monospace columns that fit a listing on the page (see PLAN.md)")
    ap.add_argument("--json")
    ap.add_argument("--no-duplicates", action="store_true")
    ap.add_argument("--show-listings", action="store_true")
    a = ap.parse_args()
    root = pathlib.Path(a.root).resolve()
    lib = root / "lib" / "seqbook"
    sys.path.insert(0, str(root / "lib"))
    import seqbook
    assert pathlib.Path(seqbook.__file__).resolve().is_relative_to(lib), seqbook.__file__
    names = a.names.split(",")

    R = {"root": str(root)}
    mods, total, longest = library_stats(lib)
    R["library"] = {"modules": len(mods), "total": dict(total), "longest": [longest[0], longest[1]["total"]],
                    "over_350": sorted(k for k, v in mods.items() if v["total"] > 350),
                    "per_module": {k: dict(v) for k, v in mods.items()}}
    L, errs = listings(root, names)
    n = sum(x["lines"] for x in L)
    g = sum(x["guard"] for x in L)
    d = sum(x["doc"] for x in L)
    top = sorted(L, key=lambda x: -x["lines"])
    per_chapter = collections.Counter()
    for x in L:
        per_chapter[x["where"].split(":")[0]] += x["lines"]
    R["listings"] = {"calls": len(L), "lines": n, "guard_lines": g, "doc_lines": d,
                     "guard_share": round(g / n, 3) if n else 0, "doc_share": round(d / n, 3) if n else 0,
                     "longest": [(x["lines"], x["where"], x["call"]) for x in top[:12]],
                     "over_40": sum(x["lines"] > 40 for x in L),
                     "per_chapter": per_chapter.most_common(),
                     "lines_over_page": sum(sum(1 for l in x["text"]
                                                if len(l) + sum(1 for c in l if unicodedata.east_asian_width(c) in "WF") * 2 / 3
                                                > a.page_cols) for x in L),
                     "errors": errs,
                     "detail": [{k: v for k, v in x.items() if k != "text"} for x in L]}
    loops = training_loops(lib)
    bench = sorted((root / "bench").glob("*.py")) if (root / "bench").is_dir() else []
    R["training"] = {"loops": loops, "count": len(loops), "bench_step_sites": step_sites(bench)}
    V = validators(lib)
    R["validators"] = {"check_defs": {k: v["check_defs"] for k, v in V.items() if v["check_defs"]},
                       "n_check_defs": sum(len(v["check_defs"]) for v in V.values()),
                       "raise_TypeError": sum(v["TypeError"] for v in V.values()),
                       "raise_ValueError": sum(v["ValueError"] for v in V.values()),
                       "isinstance_int": sum(v["isinstance_int"] for v in V.values()),
                       "per_module": {k: [v["TypeError"], v["ValueError"], v["isinstance_int"]] for k, v in V.items()}}
    libfiles = sorted(lib.rglob("*.py"))
    tests = sorted((root / "tests").glob("*.py"))
    R["width"] = {}
    for lim in (80, 88, 100):
        R["width"][str(lim)] = {"lib": wide_lines(libfiles, lim), "tests": wide_lines(tests, lim),
                                "bench": wide_lines(bench, lim)}
    used, deep, public = book_api(root)
    R["book_api"] = {"names_used": sorted(used), "n_used": len(used), "deep_or_private": deep,
                     "exported_not_used": sorted(set(public) - set(used))}
    if not a.no_duplicates:
        try:
            r = subprocess.run(["duplicates", "--repo", str(lib), "--most", "60", "--seconds", "60"],
                               capture_output=True, text=True, cwd=str(root), timeout=120)
            R["duplicates"] = r.stdout.strip().splitlines()
        except (OSError, subprocess.TimeoutExpired) as e:
            R["duplicates"] = [f"(not run: {e})"]

    # ---- report
    t = R["library"]["total"]
    print(f"root: {root}")
    print(f"library: {R['library']['modules']} modules, {t['total']} lines = code {t['code']} + comment "
          f"{t['comment']} + docstring {t['docstring']} + blank {t['blank']}; longest "
          f"{R['library']['longest'][0]} ({R['library']['longest'][1]}); over 350: {R['library']['over_350']}")
    S = R["listings"]
    print(f"listings: {S['calls']} calls print {S['lines']} library lines; guards {S['guard_lines']} "
          f"({S['guard_share']:.0%}), docstrings {S['doc_lines']} ({S['doc_share']:.0%}); "
          f"{S['over_40']} listings over 40 lines; {S['lines_over_page']} listing lines wider than "
          f"{a.page_cols:g} page columns")
    for ln, where, call in S["longest"][:8]:
        print(f"   {ln:4d}  {where}  {call}")
    print("   per chapter:", ", ".join(f"{c.split('/')[-1]} {v}" for c, v in S["per_chapter"][:6]))
    for e in S["errors"]:
        print("   ERROR", e)
    print(f"training loops: {R['training']['count']}")
    for l in loops:
        print("   ", l)
    print(f"   optimizer.step() sites in bench/: {len(R['training']['bench_step_sites'])} "
          f"{R['training']['bench_step_sites']}")
    v = R["validators"]
    print(f"validators: {v['n_check_defs']} check helpers; raise TypeError {v['raise_TypeError']}, "
          f"raise ValueError {v['raise_ValueError']}; isinstance(x, int) tests {v['isinstance_int']}")
    for k, defs in v["check_defs"].items():
        print(f"    {k}: {', '.join(defs)}")
    print("   raise sites per module (TypeError, ValueError, isinstance-int):",
          ", ".join(f"{k.split('/')[-1]} {t_}/{v_}/{i_}" for k, (t_, v_, i_) in v["per_module"].items() if t_ + v_))
    for lim, w in R["width"].items():
        print(f"lines wider than {lim} (len / display width): lib {w['lib']}, tests {w['tests']}, bench {w['bench']}")
    b = R["book_api"]
    print(f"book uses {b['n_used']} seqbook attributes; submodule/private uses: {len(b['deep_or_private'])}")
    for x in b["deep_or_private"]:
        print("   ", x)
    if "duplicates" in R:
        print("duplicates lib:")
        for line in R["duplicates"]:
            print("   ", line)
    if a.show_listings:
        for x in top:
            print(f"{x['lines']:4d} guard {x['guard']:3d} doc {x['doc']:3d} width {x['max_width']:3d}  {x['where']}  {x['call']}")
    if a.json:
        pathlib.Path(a.json).write_text(json.dumps(R, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
