"""The generated docs are current, and every code block of docs/index.md runs.

Staleness is checked on the markdown and the measured data, not PNG bytes (fonts vary):
every registered network's page and docs/models.md are re-rendered from the cached data
and the registry (cheap), and one network per family (the smallest) is rebuilt and
re-measured. Regenerate with ``python tools/gendocs.py``.
"""

import os
import re

import pytest

import keras_cnns
from tests.helpers import load_tool

docs = load_tool("gendocs")

REGEN = "stale: regenerate with `python tools/gendocs.py`"


def _representatives():
    by_family = {}
    for name in keras_cnns.available_models():
        info = keras_cnns.model_info(name)
        best = by_family.get(info.family)
        if best is None or info.params < keras_cnns.model_info(best).params:
            by_family[info.family] = name
    return sorted(by_family.values())


def _read(path):
    with open(path) as f:
        return f.read()


def test_every_page_and_the_table_are_current():
    stale = docs.stale_files()
    assert not stale, f"{REGEN}: " + ", ".join(os.path.relpath(p, docs.REPO) for p in stale)


def test_no_pages_for_unregistered_names():
    names = set(keras_cnns.available_models())
    pages = {f[:-3] for f in os.listdir(docs.MODELS_DIR) if f.endswith(".md")}
    assert pages <= names, f"{REGEN}: pages without a registry entry: {sorted(pages - names)}"


def test_pictures_exist():
    for name in keras_cnns.available_models():
        assert os.path.getsize(os.path.join(docs.ARCH_DIR, f"{name}.png")) > 5000, name
    assert os.path.getsize(docs.CHART) > 10000


@pytest.mark.parametrize("name", _representatives())
def test_measured_data_is_current(name):
    cached = docs.load_data(name)
    assert cached is not None, f"{REGEN}: no data for {name}"
    fresh = docs.measure(name)
    cached.pop("fingerprint"), fresh.pop("fingerprint")
    for key in fresh:
        assert cached.get(key) == fresh[key], f"{REGEN}: {name} {key} changed"


def test_pages_hold_the_reference_facts():
    googlenet = _read(os.path.join(docs.MODELS_DIR, "googlenet.md"))
    assert "Paper Table 1 (Inception modules) against the build" in googlenet
    assert "| inception_4e | 256 | 160 | 320 | 32 | 128 | 128 | 832 | 14 | yes |" in googlenet
    assert "271,351,808" in googlenet and "6,998,552" in googlenet
    assert "| parameters | 6,998,552 | 6,998,552 | yes |" in googlenet
    assert "![googlenet stage diagram](../img/arch/googlenet.png)" in googlenet
    table = _read(docs.TABLE)
    for name in keras_cnns.available_models():
        assert f"[{name}](models/{name}.md)" in table
    if "vgg16" in keras_cnns.available_models():
        vgg = _read(os.path.join(docs.MODELS_DIR, "vgg16.md"))
        assert "15,237,608" in vgg and "24 M" in vgg
        assert "configuration D" in vgg


def _run_blocks(page, blocks):
    """Run a page's python blocks in order in one namespace; fail naming the block."""
    namespace = {"__name__": "docs_" + page.split(".")[0]}
    for i, code in enumerate(blocks):
        try:
            exec(compile(code, f"docs/{page} block {i + 1}", "exec"), namespace)
        except Exception as err:  # noqa: BLE001
            pytest.fail(f"docs/{page} block {i + 1} failed: {type(err).__name__}: {err}\n{code}")
    return namespace


def _python_blocks(text):
    """```python blocks, except those right after a `<!-- docs-test: skip -->` line."""
    blocks = []
    for m in re.finditer(r"(?P<before>[^\n]*)\n```python\n(?P<code>.*?)\n```", text, re.S):
        if "docs-test: skip" not in m.group("before"):
            blocks.append(m.group("code"))
    return blocks


def test_index_code_blocks_run(tmp_path, monkeypatch):
    text = _read(os.path.join(docs.DOCS, "index.md"))
    blocks = _python_blocks(text)
    assert len(blocks) >= 8
    assert ("pip install -e \".[cpu]\" && keras-cnns train lenet5 --dataset digits"
            in text)
    monkeypatch.chdir(tmp_path)
    _run_blocks("index.md", blocks)
    for png in ("feature_maps.png", "heatmap.png", "grad_cam.png", "history.png",
                "squeezenet1_1.png"):
        assert os.path.getsize(tmp_path / png) > 5000


def test_finetune_guide_code_blocks_run(tmp_path, monkeypatch):
    text = _read(os.path.join(docs.DOCS, "finetune.md"))
    blocks = _python_blocks(text)
    assert len(blocks) >= 6
    monkeypatch.chdir(tmp_path)
    namespace = _run_blocks("finetune.md", blocks)
    assert namespace["tuned"]["test_top1"] > 0.5  # the fine-tuned head learned 5-9
    assert [int(r["phase"]) for r in namespace["read_history"](
        "runs/high_two_phase/history.csv")] == [1, 2]
