"""Lazy package attributes (PEP 562): a package names its public objects and the module
each lives in, and imports that module the first time the name is used. This is what
keeps ``import keras_cnns`` (and the registry, and the CLI's ``list``/``info``) free of
TensorFlow until a network is built."""

from __future__ import annotations

import importlib
import sys

__all__ = ["lazy_exports"]


def lazy_exports(package, exports):
    """``(__getattr__, __dir__)`` for module ``package``.

    ``exports`` maps a public name to where it lives: ``"pkg.mod"`` (the attribute of the
    same name in that module), ``"pkg.mod:attr"`` (another attribute name) or
    ``"pkg.mod:"`` (the module itself). A resolved name is cached in the package.
    """

    def __getattr__(name):
        target = exports.get(name)
        if target is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module_name, colon, attr = target.partition(":")
        module = importlib.import_module(module_name)
        value = module if (colon and not attr) else getattr(module, attr or name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__():
        return sorted(set(vars(sys.modules[package])) | set(exports))

    return __getattr__, __dir__


def lazy_family(package):
    """``(__getattr__, __dir__)`` for a family package ``keras_cnns.models.<family>``:
    a name is looked up in its ``spec`` module (plain data, cheap), then in its ``build``
    module (Keras), so ``from keras_cnns.models.googlenet import GoogLeNet,
    INCEPTION_TABLE`` works without importing Keras for the table alone."""

    def __getattr__(name):
        if name.startswith("__"):
            raise AttributeError(name)
        if name in ("spec", "build"):  # ``from <family> import spec`` loads spec alone
            return importlib.import_module(f"{package}.{name}")
        for sub in ("spec", "build"):
            module = importlib.import_module(f"{package}.{sub}")
            if hasattr(module, name):
                value = getattr(module, name)
                setattr(sys.modules[package], name, value)
                return value
        if name in vars(sys.modules[package]):  # a submodule imported just now
            return vars(sys.modules[package])[name]
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__():
        names = set(vars(sys.modules[package]))
        for sub in ("spec", "build"):
            module = importlib.import_module(f"{package}.{sub}")
            names |= {n for n in vars(module) if not n.startswith("_")}
        return sorted(names)

    return __getattr__, __dir__
