"""The package's layout: names that moved keep working for one release (with a DeprecationWarning),
and no module imports another in a circle."""

import ast
import importlib
import pathlib

import numpy as np
import pytest

import rnabert

PACKAGE = pathlib.Path(rnabert.__file__).resolve().parent


def test_embeddings_live_at_the_bottom_and_join_ragged_blocks():
    from rnabert.embeddings import Embeddings, join_ragged

    assert rnabert.Embeddings is Embeddings
    values, offsets = join_ragged(
        [np.ones((2, 3)), np.zeros((3, 3))], [np.array([0, 2]), np.array([0, 1, 3])]
    )
    assert values.shape == (5, 3) and offsets.tolist() == [0, 2, 3, 5]
    values, offsets = join_ragged([np.zeros((4, 2)), np.zeros((1, 2))])
    assert offsets.tolist() == [0, 4, 5]
    with pytest.raises(ValueError, match="at least one"):
        join_ragged([])


def test_old_embeddings_paths_warn_and_work():
    from rnabert.embeddings import Embeddings

    with pytest.deprecated_call(match="rnabert.embeddings.Embeddings"):
        from rnabert.model.embeddings import Embeddings as old
    assert old is Embeddings
    with pytest.deprecated_call():
        from rnabert.model import Embeddings as old2
    assert old2 is Embeddings


@pytest.mark.parametrize(
    "old, new",
    [
        ("rnabert.train.evaluate:sample_pairs", "rnabert.evaluate.pairs:sample_pairs"),
        (
            "rnabert.train.evaluate:evaluate_alignment",
            "rnabert.evaluate.alignment:evaluate_alignment",
        ),
        ("rnabert.train.evaluate:pair_identity", "rnabert.seqs.identity:pair_identity"),
        ("rnabert.train.evaluate:format_table", "rnabert.evaluate.tables:format_table"),
        (
            "rnabert.train.evaluate:bootstrap_difference",
            "rnabert.evaluate.stats:bootstrap_difference",
        ),
        ("rnabert.train.evaluate:align_with_mafft", "rnabert.evaluate.aligners:align_with_mafft"),
        ("rnabert.train:new_model", "rnabert.model.bert:new_model"),
        ("rnabert.train:evaluate_alignment", "rnabert.evaluate.alignment:evaluate_alignment"),
    ],
)
def test_moved_training_and_evaluation_names_warn_and_work(old, new):
    old_mod, old_name = old.split(":")
    new_mod, new_name = new.split(":")
    with pytest.deprecated_call(match=new_mod.rsplit(".", 1)[0]):
        obj = getattr(importlib.import_module(old_mod), old_name)
    assert obj is getattr(importlib.import_module(new_mod), new_name)


def _imports(path: pathlib.Path):
    """Modules of rnabert that a file imports, at module level or inside functions."""
    module = ".".join(("rnabert", *path.relative_to(PACKAGE).with_suffix("").parts))
    module = module[: -len(".__init__")] if module.endswith(".__init__") else module
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("rnabert"))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            if base.startswith("rnabert"):
                out.add(base)
                out.update(f"{base}.{a.name}" for a in node.names)
    return module, out


def test_no_module_imports_itself_in_a_circle():
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        name, deps = _imports(path)
        modules[name] = deps
    graph = {m: {d for d in deps if d in modules and d != m} for m, deps in modules.items()}
    # a package's __init__ importing its own submodules is not a circle; a submodule importing its
    # package is
    state, stack = {}, []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for d in graph[m]:
            if m.startswith(d + ".") and d in modules:  # a module importing its own parent package
                continue
            if state.get(d) == "open":
                raise AssertionError("import circle: " + " -> ".join(stack[stack.index(d) :] + [d]))
            if d not in state:
                visit(d)
        stack.pop()
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m)


@pytest.mark.parametrize("name", ["_core", "_cuda"])
def test_stubs_name_every_function_of_the_compiled_modules(name):
    mod = pytest.importorskip(f"rnabert.{name}")
    tree = ast.parse((PACKAGE / f"{name}.pyi").read_text())
    stubbed = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    stubbed |= {n.target.id for n in tree.body if isinstance(n, ast.AnnAssign)}
    public = {k for k in dir(mod) if not k.startswith("_")}
    assert public == stubbed - {"__version__"}
