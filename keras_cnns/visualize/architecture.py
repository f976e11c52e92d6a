"""Stage diagrams read off a built model: Inception and fire modules with their branch
widths, residual and dense stages with their block counts, VGG and fractal blocks."""

from __future__ import annotations

import re

from keras_cnns.visualize._common import _check_out_path, _figure, _registry_info, _save

def _history_layer(tensor):
    return getattr(getattr(tensor, "_keras_history", None), "operation", None)


def _inputs_of(layer):
    inp = layer.input
    return list(inp) if isinstance(inp, (list, tuple)) else [inp]


def _describe(layer):
    """A short text for the layers a stage diagram shows; None for the others."""
    import keras

    from keras_cnns.layers import LocalResponseNormalization

    def ks(k):
        return f"{k[0]}x{k[1]}"

    if isinstance(layer, keras.layers.DepthwiseConv2D):
        s = layer.strides[0]
        return f"{ks(layer.kernel_size)}{'/' + str(s) if s > 1 else ''} depthwise conv"
    if isinstance(layer, keras.layers.Conv2D):
        s = layer.strides[0]
        g = f", {layer.groups} groups" if layer.groups > 1 else ""
        return f"{ks(layer.kernel_size)}{'/' + str(s) if s > 1 else ''} conv {layer.filters}{g}"
    if isinstance(layer, (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)):
        kind = "max" if isinstance(layer, keras.layers.MaxPooling2D) else "avg"
        s = layer.strides[0]
        return f"{ks(layer.pool_size)}{'/' + str(s) if s > 1 else ''} {kind} pool"
    if isinstance(layer, (keras.layers.GlobalAveragePooling2D, keras.layers.GlobalMaxPooling2D)):
        kind = "max" if isinstance(layer, keras.layers.GlobalMaxPooling2D) else "avg"
        return f"global {kind} pool"
    if type(layer).__name__ == "CeilModePooling2D":
        s = layer.strides
        k = layer.pool_size
        return f"{k}x{k}{'/' + str(s) if s > 1 else ''} {layer.kind} pool"
    if type(layer).__name__ == "AdaptiveAveragePooling2D":
        return "adaptive avg pool"
    if isinstance(layer, keras.layers.Dense):
        return f"fc {layer.units}"
    if isinstance(layer, LocalResponseNormalization):
        return "LRN"
    if isinstance(layer, keras.layers.Dropout) and layer.rate > 0:
        return f"dropout {layer.rate:g}"
    return None


def _run_length(texts):
    out = []
    for t in texts:
        if out and out[-1][0] == t:
            out[-1][1] += 1
        else:
            out.append([t, 1])
    return [t if n == 1 else f"{t} x{n}" for t, n in out]


_STAGE_RE = re.compile(r"^(conv\d+)_block(\d+)_")

_BLOCK_RE = re.compile(r"^(block\d+)_")


def _leaf_layers(model):
    import keras

    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if isinstance(layer, keras.Model):
            yield from _leaf_layers(layer)
            continue
        yield layer


def architecture_items(model):
    """The stage diagram's boxes, read off a built model: a list of JSON-serialisable
    dicts with ``name``, ``kind`` (``layer``, ``module``, ``residual``, ``dense``,
    ``block``), ``lines`` (what is inside), ``branches`` (a module's parallel branches,
    each a list of layer texts, with ``shared`` texts before them), ``output_shape``,
    ``params``, ``macs`` and ``activations`` (summed over the box's layers).

    Grouping rules, from the layer names every family uses: ``convN_blockM_*`` layers
    form one box per stage (``residual`` blocks, or ``dense`` blocks when they end in
    ``_concat``); a concatenation ``X`` with layers named ``X_*`` is a ``module``
    (Inception modules, fire modules), its branches traced back from the concatenation;
    ``blockN_*`` layers form a ``block`` (VGG blocks, fractal blocks); other layers
    sharing the prefix before the first ``_`` and adjacent in the graph form one box.
    """
    import keras

    from keras_cnns.profiler import profile

    prof = {r.name: r for r in profile(model).layers}
    leaves = list(_leaf_layers(model))
    names = [layer.name for layer in leaves]
    modules = set()
    for layer in leaves:
        if isinstance(layer, keras.layers.Concatenate) and not _STAGE_RE.match(layer.name):
            prefix = layer.name + "_"
            if any(n.startswith(prefix) for n in names):
                modules.add(layer.name)

    def key_of(name):
        m = _STAGE_RE.match(name)
        if m:
            return ("stage", m.group(1))
        for mod in modules:
            if name == mod or name.startswith(mod + "_"):
                return ("module", mod)
        m = _BLOCK_RE.match(name)
        if m:
            return ("block", m.group(1))
        return ("group", name.split("_")[0])

    # Group by key over the whole graph (aux heads interleave with the trunk in
    # topological order), each group placed where its last layer is.
    members, last = {}, {}
    for index, layer in enumerate(leaves):
        key = key_of(layer.name)
        members.setdefault(key, []).append(layer)
        last[key] = index
    groups = [(key, members[key]) for key in sorted(members, key=last.get)]

    items = []
    for (kind, gname), group in groups:
        shape = prof[group[-1].name].output_shape
        item = {
            "name": gname, "kind": kind, "lines": [], "branches": [], "shared": [],
            "output_shape": [None if d is None else int(d) for d in shape[1:]],
            "params": int(sum(prof[layer.name].params for layer in group)),
            "macs": int(sum(prof[layer.name].macs for layer in group)),
            "activations": int(sum(prof[layer.name].activations for layer in group)),
            "layers": [layer.name for layer in group],
        }
        if kind == "stage":
            _describe_stage(item, group)
        elif kind == "module":
            _describe_module(item, group)
        else:
            texts = [t for t in (_describe(layer) for layer in group) if t]
            joins = sum(isinstance(layer, (keras.layers.Add, keras.layers.Average))
                        for layer in group)
            item["lines"] = _run_length(texts)
            if joins and kind == "block":
                item["lines"].append(f"{joins} joins")
            if kind == "group":
                item["kind"] = "layer"
        if item["lines"] or item["branches"]:
            items.append(item)
    return items


def _describe_stage(item, group):
    import keras

    blocks = {}
    for layer in group:
        m = _STAGE_RE.match(layer.name)
        blocks.setdefault(int(m.group(2)), []).append(layer)
    dense = any(layer.name.endswith("_concat") for layer in group)
    item["kind"] = "dense" if dense else "residual"
    item["blocks"] = len(blocks)
    first = blocks[min(blocks)]
    typical = blocks[min(blocks) + 1] if len(blocks) > 1 else first

    def body(layers_):
        return [t for t in (_describe(layer) for layer in layers_
                            if not re.search(r"_block\d+_0_conv$", layer.name)) if t]

    if dense:
        convs = [layer for layer in typical if isinstance(layer, keras.layers.Conv2D)]
        growth = convs[-1].filters if convs else 0
        item["lines"] = [f"{len(blocks)} x [{', '.join(body(typical))}]",
                         f"growth rate {growth}: {item['output_shape'][-1]} channels out"]
        return
    item["lines"] = [f"{len(blocks)} x [{', '.join(body(typical))}]"]
    shortcut = [layer for layer in first if re.search(r"_block\d+_0_conv$", layer.name)]
    if shortcut:
        item["lines"].append(f"block 1 shortcut: {_describe(shortcut[0])} projection")
    strided = [layer for layer in first if isinstance(layer, keras.layers.Conv2D)
               and layer.strides[0] > 1 and layer not in shortcut]
    if strided:
        item["lines"].append(f"block 1 strides on its {_describe(strided[0])}")


def _describe_module(item, group):
    concat = group[-1]
    for layer in group:
        if layer.name == item["name"]:
            concat = layer
    prefix = item["name"] + "_"
    chains = []
    for tensor in _inputs_of(concat):
        chain = []
        layer = _history_layer(tensor)
        while layer is not None and layer.name.startswith(prefix):
            chain.append(layer)
            inputs = _inputs_of(layer)
            layer = _history_layer(inputs[0]) if len(inputs) == 1 else None
        chains.append(list(reversed(chain)))
    shared_ids = set.intersection(*[set(id(layer) for layer in c) for c in chains]) \
        if len(chains) > 1 else set()
    item["shared"] = [t for t in (_describe(layer) for layer in chains[0]
                                  if id(layer) in shared_ids) if t]
    item["branches"] = []
    for chain, tensor in zip(chains, _inputs_of(concat)):
        texts = [t for t in (_describe(layer) for layer in chain if id(layer) not in shared_ids)
                 if t]
        item["branches"].append(texts or ["identity"])
    item["branch_widths"] = [int(t.shape[-1]) for t in _inputs_of(concat)]
    item["lines"] = [" | ".join(f"{w}" for w in item["branch_widths"])
                     + f" -> {item['output_shape'][-1]}"]


_COLOURS = {"layer": "#e8e8e8", "module": "#cfe2f3", "residual": "#d9ead3",
            "dense": "#fce5cd", "block": "#fff2cc"}


def _fmt_shape(shape):
    return "x".join("?" if d is None else str(d) for d in shape)


def _short(n):
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= div:
            return f"{n / div:.3g}{unit}"
    return str(n)


def draw_architecture(items, title="", path=None):
    """Draw :func:`architecture_items` as a top-to-bottom stage diagram: one box per
    item (modules with a column per branch and its widths, residual and dense stages
    with their block counts), the output shape, parameters and multiply-adds on the
    right. Returns the figure; ``path`` saves it as PNG."""
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    if path is not None:
        path = _check_out_path(path)
    line_h = 0.2

    def height(item):
        if item["kind"] == "module":
            depth = max(len(b) for b in item["branches"]) + (1 if item["shared"] else 0)
            return 0.32 + line_h * (depth + 0.6)
        return 0.3 + line_h * max(1, len(item["lines"]))

    heights = [height(it) for it in items]
    gap = 0.18
    total = sum(heights) + gap * max(0, len(items) - 1) + 0.5
    width = 9.0
    fig = _figure(figsize=(width, max(2.0, total + 0.3)))
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(0, width)
    ax.set_ylim(0, total + 0.3)
    ax.set_axis_off()
    if title:
        ax.text(0.15, total + 0.1, title, fontsize=10, fontweight="bold", va="top")
    y = total - 0.35
    box_x, box_w = 0.15, 6.2
    prev_bottom = None
    for item, h in zip(items, heights):
        top = y
        bottom = y - h
        if prev_bottom is not None:
            ax.add_patch(FancyArrowPatch((box_x + box_w / 2, prev_bottom),
                                         (box_x + box_w / 2, top), arrowstyle="-|>",
                                         mutation_scale=8, color="#555555", lw=0.8))
        ax.add_patch(FancyBboxPatch((box_x, bottom), box_w, h,
                                    boxstyle="round,pad=0,rounding_size=0.06",
                                    facecolor=_COLOURS.get(item["kind"], "#eeeeee"),
                                    edgecolor="#444444", lw=0.7))
        label = item["name"]
        if item["kind"] in ("residual", "dense"):
            label += f"  ({item['kind']}, {item.get('blocks', '?')} blocks)"
        ax.text(box_x + 0.08, top - 0.05, label, fontsize=7.5, fontweight="bold", va="top")
        if item["kind"] == "module":
            _draw_branches(ax, item, box_x, box_w, top - 0.27, line_h)
        else:
            for i, line in enumerate(item["lines"]):
                ax.text(box_x + 0.25, top - 0.27 - i * line_h, line, fontsize=7, va="top",
                        family="monospace")
        ax.text(box_x + box_w + 0.12, top - 0.05, _fmt_shape(item["output_shape"]),
                fontsize=7.5, va="top", family="monospace")
        ax.text(box_x + box_w + 0.12, top - 0.05 - line_h,
                f"{_short(item['params'])} params", fontsize=6.5, va="top", color="#333333")
        ax.text(box_x + box_w + 0.12, top - 0.05 - 2 * line_h,
                f"{_short(item['macs'])} MACs", fontsize=6.5, va="top", color="#333333")
        prev_bottom = bottom
        y = bottom - gap
    if path is not None:
        _save(fig, path)
    return fig


def _draw_branches(ax, item, box_x, box_w, top, line_h):
    from matplotlib.patches import Rectangle

    y = top
    if item["shared"]:
        ax.text(box_x + 0.25, y, "shared: " + ", ".join(item["shared"]), fontsize=6.5,
                va="top", family="monospace")
        y -= line_h
    n = len(item["branches"])
    inner_x, inner_w = box_x + 0.2, box_w - 0.4
    col_w = inner_w / n
    depth = max(len(b) for b in item["branches"])
    for j, (branch, width) in enumerate(zip(item["branches"], item.get("branch_widths", []))):
        x0 = inner_x + j * col_w
        ax.add_patch(Rectangle((x0 + 0.03, y - line_h * (depth + 0.4)), col_w - 0.06,
                               line_h * (depth + 0.4), facecolor="white", edgecolor="#7a9cc6",
                               lw=0.5))
        for i, text in enumerate(branch):
            ax.text(x0 + 0.08, y - 0.03 - i * line_h, text, fontsize=6.2, va="top",
                    family="monospace")
        ax.text(x0 + col_w - 0.08, y - 0.03 - (depth - 0.6) * line_h, f"-> {width}",
                fontsize=6.2, va="top", ha="right", color="#1f4e79")


def plot_architecture(name, path=None, **build_kwargs):
    """Draw the network's stage diagram (registry name, or a built model) with
    matplotlib: Inception and fire modules with their branch widths, residual stages
    with block counts, dense blocks with layer counts and growth rate, VGG and
    fractal blocks, from the registry entry and the built model at its default input.
    Returns the figure; ``path`` saves it as PNG."""
    import keras

    from keras_cnns import registry

    if path is not None:
        path = _check_out_path(path)
    if isinstance(name, keras.Model):
        model = name
        info = _registry_info(model)
    elif isinstance(name, str):
        info = registry.model_info(name)
        model = registry.build(name, **build_kwargs)
    else:
        raise TypeError(f"name must be a registry name or a keras.Model, got {type(name).__name__}")
    title = model.name
    if info is not None:
        title = f"{info.name}: {info.paper} ({info.year}), {info.layout}"
    return draw_architecture(architecture_items(model), title=title, path=path)
