#!/usr/bin/env python
"""库与书中代码清单的规模：库的行数、show_source 打印的行数与最长清单、
训练循环与参数检查的个数。

Before/after figures for the library redesign.  Read-only: imports seqbook, never
trains.

Usage (from anywhere; ROOT is a checkout or an exported tree, default: this
checkout):
    .venv/bin/python bench/library_figures.py [ROOT] [--json OUT]
        [--names show_source,show_core] [--page-cols 88] [--no-duplicates]
        [--before REV | --no-before] [--quiet]

Before/after: unless --no-before, the script also measures REV (default 2599ccb, the
commit the "before" figures of issue 9 were taken at) in a fresh `git archive` of
it, in a subprocess (so that REV's own seqbook and show_source are imported), and
prints the two side by side.  When git or REV is not available it falls back to the
figures recorded for 2599ccb (BEFORE_2599CCB below).

To measure a commit without the working-tree edits of others:
    rm -rf /tmp/m && mkdir /tmp/m && git archive HEAD | tar -x -C /tmp/m
    .venv/bin/python bench/library_figures.py /tmp/m
ROOT/lib is put first on sys.path, so the seqbook that is measured is ROOT's, not
the editable install.

What is counted (the definitions are the contract for the "after" run):
- library: every *.py under ROOT/lib/seqbook (recursively, so sub-packages count).
  A line is blank, docstring (inside a module/class/function docstring), comment
  (starts with #) or code.
- listings: every call named show_source (or --names) in a ```{code-cell} of
  ROOT/book/**/*.md. The call expression is evaluated with `seqbook` (and torch) in
  scope, exactly as the notebook does; the printed library lines are the lines of
  the returned object's visible code: `obj.code` (a redesigned variant may expose
  `obj.visible_code`; that wins when present).  The "# module.name" title line is
  not counted.  Since the redesign, show_source leaves out docstrings and argument
  checks by default and `obj.code` is what it prints (omission markers
  "# …（参数检查从略）" included); the full source is in `obj.full`, collapsed on
  the page.
- guard lines inside a listing: `if ...: raise` blocks (elif/else chains of raises
  included), `for` loops whose body is only such blocks, bare `raise X(...)`
  statements (not NotImplementedError), calls to check_*/_check_*/_validate*
  helpers, and whole _check_* defs.
- docstring lines inside a listing: docstrings of the functions/classes/methods
  shown.
- training loops: functions with a `for` over epochs (target or iterable mentions
  "epoch") that call `<x>.step()` (x not a scheduler) themselves or through
  functions of the same module (transitively: fit -> run_epoch -> train_step counts
  as one loop, in fit).
- validators: defs named *check*/_validate* per module; raise TypeError/ValueError
  sites per module.
- width: len(line) (what ruff/flake8 count for ASCII) and display width (CJK = 2
  columns, as ruff's unicode width counts; on the page a CJK glyph is ~1.67
  monospace columns).
"""

import argparse
import ast
import collections
import json
import pathlib
import re
import subprocess
import sys
import tempfile
import unicodedata

# What this script printed for 2599ccb (closing note of issue 8); used when git
# cannot export it.
BEFORE_2599CCB = {
    "rev": "2599ccb (recorded)",
    "modules": 25,
    "lib_lines": 4481,
    "calls": 78,
    "lines": 2043,
    "guard_lines": 286,
    "doc_lines": 594,
    "longest": 108,
    "over_40": 14,
    "over_page": 254,
    "over_84": None,
    "training_loops": 5,
    "check_defs": 16,
    "raise_TypeError": 30,
    "raise_ValueError": 155,
    "deep_or_private": 5,
    "errors": 0,
}


def page_width(line):
    """Monospace columns on the page: a CJK glyph is about 5/3 of a Latin one."""
    wide = sum(1 for c in line if unicodedata.east_asian_width(c) in "WF")
    return len(line) + wide * 2 / 3


def disp_width(s):
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


# ---------------------------------------------------------------- library lines
def docstring_lines(tree):
    lines = set()
    for node in ast.walk(tree):
        if isinstance(
            node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
        ):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
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
        mods[str(p.relative_to(lib.parent))] = classify(
            p.read_text(encoding="utf-8")
        )
    total = sum(mods.values(), collections.Counter())
    longest = max(mods.items(), key=lambda kv: kv[1]["total"])
    return mods, total, longest


# ---------------------------------------------------------------- guards
CHECK_NAME = re.compile(r"^_?check_\w+$|^_?check$|^_?validate\w*$")


def _call_name(node):
    if isinstance(node, ast.Call):
        f = node.func
        return (
            f.id
            if isinstance(f, ast.Name)
            else f.attr
            if isinstance(f, ast.Attribute)
            else None
        )
    return None


def _is_raise(stmt):
    if not isinstance(stmt, ast.Raise) or stmt.exc is None:
        return isinstance(stmt, ast.Raise)
    return _call_name(stmt.exc) != "NotImplementedError" and not (
        isinstance(stmt.exc, ast.Name) and stmt.exc.id == "NotImplementedError"
    )


def is_guard(stmt):
    if _is_raise(stmt):
        return True
    if isinstance(stmt, ast.If):
        return all(is_guard(s) for s in stmt.body) and all(
            is_guard(s) for s in stmt.orelse
        )
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
        if isinstance(
            node, (ast.FunctionDef, ast.AsyncFunctionDef)
        ) and CHECK_NAME.match(node.name):
            start = min([node.lineno] + [d.lineno for d in node.decorator_list])
            lines.update(range(start, node.end_lineno + 1))
        for field in ("body", "orelse", "finalbody"):
            stmts = getattr(node, field, None)
            for stmt in stmts if isinstance(stmts, list) else []:
                if isinstance(stmt, ast.stmt) and is_guard(stmt):
                    lines.update(range(stmt.lineno, stmt.end_lineno + 1))
    return lines


# ------------------------------------------------------------ listings in the book
CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```", re.M | re.S)


def cell_code(body):
    lines = body.split("\n")
    if lines and lines[0].strip() == "---":  # YAML options block
        end = next(
            (i for i in range(1, len(lines)) if lines[i].strip() == "---"), 0
        )
        lines = lines[end + 1 :]
    lines = [x for x in lines if not re.match(r"^\s*:\w[\w-]*:", x)]
    lines = ["pass  # magic" if re.match(r"^\s*[%!]", x) else x for x in lines]
    return "\n".join(lines)


def book_cells(book):
    for md in sorted(book.rglob("*.md")):
        if "_build" in md.parts:
            continue
        text = md.read_text(encoding="utf-8")
        for m in CELL.finditer(text):
            line0 = text[: m.start(1)].count("\n") + 1
            yield md, line0, cell_code(m.group(1))


def listings(root, names):
    import torch

    import seqbook

    out, errors = [], []
    for md, line0, code in book_cells(root / "book"):
        try:
            tree = ast.parse(code)
        except SyntaxError as e:
            errors.append(
                f"{md.relative_to(root)}:{line0}: cannot parse cell ({e.msg})"
            )
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _call_name(node) in names:
                expr = ast.unparse(node)
                where = f"{md.relative_to(root)}:{line0 + node.lineno}"
                try:
                    obj = eval(
                        compile(ast.Expression(node), where, "eval"),
                        {
                            "seqbook": seqbook,
                            "torch": torch,
                            names[0]: seqbook.show_source,
                        },
                    )
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
                out.append(
                    {
                        "where": where,
                        "call": expr,
                        "lines": len(lines),
                        "over_84": sum(disp_width(x) > 84 for x in lines),
                        "guard": len(g),
                        "doc": len(d & set(range(1, len(lines) + 1))),
                        "max_width": max((disp_width(x) for x in lines), default=0),
                        "page_width": max(map(page_width, lines), default=0),
                        "text": lines,
                    }
                )
    return out, errors


# ------------------------------------------------------ loops, validators, API use
def _mentions_epoch(for_node):
    return "epoch" in ast.unparse(for_node.target) or "epoch" in ast.unparse(
        for_node.iter
    )


def _calls_step(fn):
    for n in ast.walk(fn):
        if (
            isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and n.func.attr == "step"
        ):
            owner = ast.unparse(n.func.value)
            if "sched" not in owner.lower():
                return True
    return False


def training_loops(lib):
    found = []
    for p in sorted(lib.rglob("*.py")):
        tree = ast.parse(p.read_text(encoding="utf-8"))
        funcs = {
            n.name: n
            for n in ast.walk(tree)
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
        }
        steppers = {name for name, f in funcs.items() if _calls_step(f)}
        calls = {
            name: {_call_name(n) for n in ast.walk(f) if isinstance(n, ast.Call)}
            for name, f in funcs.items()
        }
        while True:  # a function that calls a stepper of the same module steps too
            more = {name for name in funcs if calls[name] & steppers} - steppers
            if not more:
                break
            steppers |= more
        for name, f in funcs.items():
            if not any(
                isinstance(n, ast.For) and _mentions_epoch(n) for n in ast.walk(f)
            ):
                continue
            called = {_call_name(n) for n in ast.walk(f) if isinstance(n, ast.Call)}
            via = sorted(called & steppers - {name})
            if name in steppers or via:
                found.append(
                    f"{p.relative_to(lib.parent)}:{f.lineno} {name}"
                    + (f" (step in {', '.join(via)})" if via else "")
                )
    return found


def step_sites(paths):
    sites = []
    for p in paths:
        tree = ast.parse(p.read_text(encoding="utf-8"))
        for n in ast.walk(tree):
            if (
                isinstance(n, ast.Call)
                and isinstance(n.func, ast.Attribute)
                and n.func.attr == "step"
                and "sched" not in ast.unparse(n.func.value).lower()
            ):
                sites.append(f"{p}:{n.lineno}")
    return sites


def validators(lib):
    per = {}
    for p in sorted(lib.rglob("*.py")):
        src = p.read_text(encoding="utf-8")
        tree = ast.parse(src)
        defs = [
            f"{n.name}:{n.lineno}"
            for n in ast.walk(tree)
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
            and CHECK_NAME.match(n.name)
        ]
        raises = collections.Counter()
        for n in ast.walk(tree):
            if isinstance(n, ast.Raise) and n.exc is not None:
                name = _call_name(n.exc) or (
                    n.exc.id if isinstance(n.exc, ast.Name) else None
                )
                if name in ("TypeError", "ValueError"):
                    raises[name] += 1
        posint = len(re.findall(r"isinstance\(\w+, int\)", src))
        per[str(p.relative_to(lib.parent))] = {
            "check_defs": defs,
            "TypeError": raises["TypeError"],
            "ValueError": raises["ValueError"],
            "isinstance_int": posint,
        }
    return per


def book_api(root):
    import seqbook

    public = set(
        getattr(seqbook, "__all__", None)
        or [n for n in dir(seqbook) if not n.startswith("_")]
    )
    used, deep = collections.Counter(), []
    for md, _line0, code in book_cells(root / "book"):
        for m in re.finditer(r"\bseqbook((?:\.[A-Za-z_]\w*)+)", code):
            parts = m.group(1).split(".")[1:]
            used[parts[0]] += 1
            obj = getattr(seqbook, parts[0], None)
            is_module = type(obj).__name__ == "module"
            if (
                parts[0].startswith("_")
                or (is_module and len(parts) > 1)
                or (
                    len(parts) > 1
                    and parts[1].startswith("_")
                    and not parts[1].startswith("__")
                )
            ):
                deep.append(f"{md.relative_to(root)}: seqbook.{'.'.join(parts)}")
    for md, _line0, code in book_cells(root / "book"):
        for m in re.finditer(
            r"^\s*(from seqbook[\w.]* import .*|import seqbook\.\w+.*)$", code, re.M
        ):
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
    ap.add_argument(
        "root", nargs="?", default=str(pathlib.Path(__file__).resolve().parents[1])
    )
    ap.add_argument("--names", default="show_source")
    ap.add_argument(
        "--page-cols",
        type=float,
        default=88.0,
        help="monospace columns that fit a listing on the page (see PLAN.md)",
    )
    ap.add_argument("--json")
    ap.add_argument("--no-duplicates", action="store_true")
    ap.add_argument("--show-listings", action="store_true")
    ap.add_argument(
        "--before",
        default="2599ccb",
        help="git revision to measure as the 'before' column (default 2599ccb)",
    )
    ap.add_argument("--no-before", action="store_true", help="measure ROOT only")
    ap.add_argument(
        "--quiet", action="store_true", help="no report (use with --json)"
    )
    a = ap.parse_args()
    root = pathlib.Path(a.root).resolve()
    lib = root / "lib" / "seqbook"
    sys.path.insert(0, str(root / "lib"))
    import seqbook

    assert pathlib.Path(seqbook.__file__).resolve().is_relative_to(lib), (
        seqbook.__file__
    )
    names = a.names.split(",")

    R = {"root": str(root)}
    mods, total, longest = library_stats(lib)
    R["library"] = {
        "modules": len(mods),
        "total": dict(total),
        "longest": [longest[0], longest[1]["total"]],
        "over_350": sorted(k for k, v in mods.items() if v["total"] > 350),
        "per_module": {k: dict(v) for k, v in mods.items()},
    }
    L, errs = listings(root, names)
    n = sum(x["lines"] for x in L)
    g = sum(x["guard"] for x in L)
    d = sum(x["doc"] for x in L)
    top = sorted(L, key=lambda x: -x["lines"])
    per_chapter = collections.Counter()
    for x in L:
        per_chapter[x["where"].split(":")[0]] += x["lines"]
    R["listings"] = {
        "calls": len(L),
        "lines": n,
        "guard_lines": g,
        "doc_lines": d,
        "guard_share": round(g / n, 3) if n else 0,
        "doc_share": round(d / n, 3) if n else 0,
        "longest": [(x["lines"], x["where"], x["call"]) for x in top[:12]],
        "over_40": sum(x["lines"] > 40 for x in L),
        "over_40_list": [
            (x["lines"], x["where"], x["call"]) for x in top if x["lines"] > 40
        ],
        "over_84": sum(x["over_84"] for x in L),
        "per_chapter": per_chapter.most_common(),
        "lines_over_page": sum(
            sum(page_width(line) > a.page_cols for line in x["text"]) for x in L
        ),
        "errors": errs,
        "detail": [{k: v for k, v in x.items() if k != "text"} for x in L],
    }
    loops = training_loops(lib)
    bench = (
        sorted((root / "bench").glob("*.py")) if (root / "bench").is_dir() else []
    )
    R["training"] = {
        "loops": loops,
        "count": len(loops),
        "bench_step_sites": step_sites(bench),
    }
    V = validators(lib)
    R["validators"] = {
        "check_defs": {k: v["check_defs"] for k, v in V.items() if v["check_defs"]},
        "n_check_defs": sum(len(v["check_defs"]) for v in V.values()),
        "raise_TypeError": sum(v["TypeError"] for v in V.values()),
        "raise_ValueError": sum(v["ValueError"] for v in V.values()),
        "isinstance_int": sum(v["isinstance_int"] for v in V.values()),
        "per_module": {
            k: [v["TypeError"], v["ValueError"], v["isinstance_int"]]
            for k, v in V.items()
        },
    }
    libfiles = sorted(lib.rglob("*.py"))
    tests = sorted((root / "tests").glob("*.py"))
    R["width"] = {}
    for lim in (80, 88, 100):
        R["width"][str(lim)] = {
            "lib": wide_lines(libfiles, lim),
            "tests": wide_lines(tests, lim),
            "bench": wide_lines(bench, lim),
        }
    used, deep, public = book_api(root)
    R["book_api"] = {
        "names_used": sorted(used),
        "n_used": len(used),
        "deep_or_private": deep,
        "exported_not_used": sorted(set(public) - set(used)),
    }
    if not a.no_duplicates:
        try:
            r = subprocess.run(
                [
                    "duplicates",
                    "--repo",
                    str(lib),
                    "--most",
                    "60",
                    "--seconds",
                    "60",
                ],
                capture_output=True,
                text=True,
                cwd=str(root),
                timeout=120,
            )
            R["duplicates"] = r.stdout.strip().splitlines()
        except (OSError, subprocess.TimeoutExpired) as e:
            R["duplicates"] = [f"(not run: {e})"]

    if a.json:
        pathlib.Path(a.json).write_text(
            json.dumps(R, ensure_ascii=False, indent=1), encoding="utf-8"
        )
    if a.quiet:
        return
    # ---- report
    Lib = R["library"]
    t = Lib["total"]
    print(f"root: {root}")
    print(
        f"library: {Lib['modules']} modules, {t['total']} lines = code {t['code']}"
        f" + comment {t['comment']} + docstring {t['docstring']} + blank "
        f"{t['blank']}; longest {Lib['longest'][0]} ({Lib['longest'][1]}); "
        f"over 350: {Lib['over_350']}"
    )
    S = R["listings"]
    print(
        f"listings: {S['calls']} calls print {S['lines']} library lines; guards "
        f"{S['guard_lines']} ({S['guard_share']:.0%}), docstrings {S['doc_lines']} "
        f"({S['doc_share']:.0%}); {S['over_40']} listings over 40 lines; "
        f"{S['lines_over_page']} listing lines wider than {a.page_cols:g} page "
        "columns"
    )
    for ln, where, call in S["longest"][:8]:
        print(f"   {ln:4d}  {where}  {call}")
    for ln, where, call in S["over_40_list"]:
        print(f"   over 40: {ln:4d}  {where}  {call}")
    print(
        "   per chapter:",
        ", ".join(f"{c.split('/')[-1]} {v}" for c, v in S["per_chapter"][:6]),
    )
    for e in S["errors"]:
        print("   ERROR", e)
    print(f"training loops: {R['training']['count']}")
    for loop in loops:
        print("   ", loop)
    sites = R["training"]["bench_step_sites"]
    print(f"   optimizer.step() sites in bench/: {len(sites)} {sites}")
    v = R["validators"]
    print(
        f"validators: {v['n_check_defs']} check helpers; raise TypeError "
        f"{v['raise_TypeError']}, raise ValueError {v['raise_ValueError']}; "
        f"isinstance(x, int) tests {v['isinstance_int']}"
    )
    for k, defs in v["check_defs"].items():
        print(f"    {k}: {', '.join(defs)}")
    print(
        "   raise sites per module (TypeError, ValueError, isinstance-int):",
        ", ".join(
            f"{k.split('/')[-1]} {t_}/{v_}/{i_}"
            for k, (t_, v_, i_) in v["per_module"].items()
            if t_ + v_
        ),
    )
    for lim, w in R["width"].items():
        print(
            f"lines wider than {lim} (len / display width): lib {w['lib']}, "
            f"tests {w['tests']}, bench {w['bench']}"
        )
    b = R["book_api"]
    print(
        f"book uses {b['n_used']} seqbook attributes; submodule/private uses: "
        f"{len(b['deep_or_private'])}"
    )
    for x in b["deep_or_private"]:
        print("   ", x)
    if "duplicates" in R:
        print("duplicates lib:")
        for line in R["duplicates"]:
            print("   ", line)
    if a.show_listings:
        for x in top:
            print(
                f"{x['lines']:4d} guard {x['guard']:3d} doc {x['doc']:3d} width "
                f"{x['max_width']:3d}  {x['where']}  {x['call']}"
            )
    if not a.no_before:
        before = measure_before(a.before, root, a)
        print_before_after(before, summary(R, a.page_cols), a.page_cols)


def summary(R, page_cols):
    """The figures compared before/after, from one run's report R."""
    S, V = R["listings"], R["validators"]
    return {
        "rev": R["root"],
        "modules": R["library"]["modules"],
        "lib_lines": R["library"]["total"]["total"],
        "calls": S["calls"],
        "lines": S["lines"],
        "guard_lines": S["guard_lines"],
        "doc_lines": S["doc_lines"],
        "longest": S["longest"][0][0] if S["longest"] else 0,
        "over_40": S["over_40"],
        "over_page": S["lines_over_page"],
        "over_84": S.get("over_84"),
        "training_loops": R["training"]["count"],
        "check_defs": V["n_check_defs"],
        "raise_TypeError": V["raise_TypeError"],
        "raise_ValueError": V["raise_ValueError"],
        "deep_or_private": len(R["book_api"]["deep_or_private"]),
        "errors": len(S["errors"]),
    }


def measure_before(rev, root, a):
    """Measure REV in a fresh export, in a subprocess; else the recorded figures."""
    with tempfile.TemporaryDirectory(prefix="library_figures_") as tmp:
        tree, out = pathlib.Path(tmp) / "tree", pathlib.Path(tmp) / "before.json"
        tree.mkdir()
        try:
            archive = subprocess.run(
                ["git", "-C", str(root), "archive", rev],
                capture_output=True,
                check=True,
            ).stdout
            subprocess.run(
                ["tar", "-x", "-C", str(tree)], input=archive, check=True
            )
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    str(tree),
                    "--json",
                    str(out),
                    "--quiet",
                    "--no-duplicates",
                    "--no-before",
                    "--names",
                    a.names,
                    "--page-cols",
                    str(a.page_cols),
                ],
                check=True,
                capture_output=True,
                text=True,
                timeout=600,
            )
        except (OSError, subprocess.SubprocessError) as e:
            print(
                f"(could not measure {rev}: {type(e).__name__}; "
                "using the recorded figures)"
            )
            return dict(BEFORE_2599CCB)
        R = json.loads(out.read_text(encoding="utf-8"))
    result = summary(R, a.page_cols)
    result["rev"] = rev
    return result


def print_before_after(before, after, page_cols):
    rows = [
        ("library modules", "modules"),
        ("library lines", "lib_lines"),
        ("show_source calls", "calls"),
        ("library lines printed by show_source", "lines"),
        ("  of which guard lines", "guard_lines"),
        ("  of which docstring lines", "doc_lines"),
        ("longest listing (lines)", "longest"),
        ("listings over 40 lines", "over_40"),
        (f"listing lines wider than {page_cols:g} page columns", "over_page"),
        ("listing lines wider than 84 display columns", "over_84"),
        ("training loops", "training_loops"),
        ("check helpers (defs)", "check_defs"),
        ("raise TypeError sites", "raise_TypeError"),
        ("raise ValueError sites", "raise_ValueError"),
        ("chapter uses of submodules / private names", "deep_or_private"),
        ("listings that fail to evaluate", "errors"),
    ]
    w = max(len(r[0]) for r in rows)
    print()
    print(f"{'before / after':{w}}  {'before':>10}  {'after':>10}")
    print(f"{'':{w}}  {before['rev'][:10]:>10}  {'this tree':>10}")
    for label, key in rows:
        b, a_ = before.get(key), after.get(key)
        fmt = lambda v: "n/a" if v is None else f"{v:,}"  # noqa: E731
        print(f"{label:{w}}  {fmt(b):>10}  {fmt(a_):>10}")


if __name__ == "__main__":
    main()
