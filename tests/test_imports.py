"""The package's import structure: no cycles anywhere, and metadata without TensorFlow.

Every module of ``keras_cnns`` and ``tuning`` is parsed with ``ast`` (nothing imported),
every import statement collected, those inside functions included, plus
``importlib.import_module("...")`` calls with a literal name. A cycle between modules is
a failure, whether or not it is "broken" by a function-level import.
"""

import ast
import os
import subprocess
import sys

from tests.helpers import REPO

PACKAGES = ("keras_cnns", "tuning")


def _modules():
    out = {}
    for package in PACKAGES:
        for root, _, files in os.walk(os.path.join(REPO, package)):
            for f in files:
                if not f.endswith(".py"):
                    continue
                path = os.path.join(root, f)
                parts = os.path.relpath(path, REPO)[:-3].split(os.sep)
                if parts[-1] == "__init__":
                    parts = parts[:-1]
                out[".".join(parts)] = path
    return out


def _resolve(module, level, name, is_package):
    if level == 0:
        return name
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[:len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def import_graph():
    """``{module: {imported module, ...}}`` over the package's own modules."""
    modules = _modules()
    graph = {}
    for module, path in modules.items():
        with open(path) as f:
            tree = ast.parse(f.read(), path)
        is_package = path.endswith("__init__.py")
        targets = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(module, node.level, node.module, is_package)
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    targets.add(sub if sub in modules else base)
            elif (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module"
                  and node.args and isinstance(node.args[0], ast.Constant)):
                targets.add(node.args[0].value)
        edges = set()
        for target in targets:
            while target and target not in modules:  # "a.b.func" -> "a.b"
                target = target.rpartition(".")[0]
            if target and target != module:
                edges.add(target)
        graph[module] = edges
    return graph


def cycles(graph):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10000))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_function_level_and_relative_imports():
    graph = import_graph()
    # training.run imports the heads inside a function; the spec imports the row types.
    assert "keras_cnns.heads" in graph["keras_cnns.training.run"]
    assert "keras_cnns.blocks.rows" in graph["keras_cnns.models.googlenet.spec"]
    assert "keras_cnns.metadata" in graph["keras_cnns.registry"]
    assert any(t.startswith("keras_cnns.") for t in graph["tuning.searcher"])


def test_no_import_cycles():
    found = cycles(import_graph())
    assert not found, "import cycles: " + "; ".join(" <-> ".join(c) for c in found)


def test_metadata_loads_neither_tensorflow_nor_keras():
    """Listing the networks and reading every entry's metadata, recipe names, presets and
    spaces' descriptions touches no framework: what `keras-cnns list` and `info` need."""
    code = (
        "import sys\n"
        "import keras_cnns\n"
        "from keras_cnns import registry\n"
        "names = keras_cnns.available_models()\n"
        "infos = [keras_cnns.model_info(n) for n in names]\n"
        "assert len(names) > 40, names\n"
        "spaces = [f.search_space.description for f in registry.families() if f.search_space]\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', "
        "'jax', 'torch'))\n"
        "assert not loaded, loaded[:10]\n")
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def test_layers_register_when_keras_is_imported_after_the_package(tmp_path):
    """``import keras_cnns`` first, Keras later: a saved model with the package's layers
    still loads with safe_mode=True."""
    code = (
        "import keras_cnns\n"
        "import keras\n"
        "from keras_cnns.layers import LocalResponseNormalization\n"
        "x = keras.Input((4, 4, 8))\n"
        "m = keras.Model(x, LocalResponseNormalization(name='lrn')(x))\n"
        f"m.save({str(tmp_path / 'm.keras')!r})\n")
    load = (
        "import keras_cnns\n"
        "import keras\n"
        f"m = keras.saving.load_model({str(tmp_path / 'm.keras')!r}, safe_mode=True)\n"
        "assert type(m.get_layer('lrn')).__name__ == 'LocalResponseNormalization'\n")
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    for script in (code, load):
        result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                                env=env, timeout=180)
        assert result.returncode == 0, result.stderr[-2000:]


def test_no_lazy_export_is_shadowed_by_a_submodule():
    """A public name that is a function must not also be a submodule's name: importing
    the submodule (``from tuning.search import ...``) would replace the function on the
    package (``tuning.search`` became a module, ``keras_cnns.profile`` once too)."""
    import importlib.util

    import keras_cnns
    import tuning

    for package in (keras_cnns, tuning):
        for name, target in package._EXPORTS.items():
            if target.endswith(":"):  # the export is the submodule itself
                continue
            assert importlib.util.find_spec(f"{package.__name__}.{name}") is None, \
                f"{package.__name__}.{name} is both a lazy export and a submodule"
