"""One package per family: ``keras_cnns/models/<family>/spec.py`` declares it (plain
data, see :mod:`keras_cnns.metadata`), ``build.py`` builds it. The registry reads the
specs of :data:`FAMILIES`; builders load on first use, so
``from keras_cnns.models import GoogLeNet`` imports only GoogLeNet's family."""

import importlib
import sys

# The family packages, in the order the docs and ``keras-cnns list`` show them.
# In the order of the papers: LeNet-5 (1998) to FractalNet and SqueezeNet (2016).
FAMILIES = ("lenet", "alexnet", "vgg", "nin", "googlenet", "inception", "resnet", "densenet",
            "fractalnet", "squeezenet")


def builder_modules():
    """``{builder name: module}`` for every family's public builders."""
    out = {}
    for package in FAMILIES:
        family = importlib.import_module(f"{__name__}.{package}.spec").FAMILY
        out.update({b: family.build_module for b in family.builders})
    return out


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    modules = builder_modules()
    if name not in modules:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(modules[name]), name)
    setattr(sys.modules[__name__], name, value)
    return value


def __dir__():
    return sorted(set(globals()) | set(builder_modules()))
