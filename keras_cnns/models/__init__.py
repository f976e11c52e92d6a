"""One package per family: ``keras_cnns/models/<family>/spec.py`` declares it (plain
data, see :mod:`keras_cnns.metadata`), ``build.py`` builds it. The registry reads the
specs of :data:`FAMILIES`; builders load on first use, so
``from keras_cnns.models import GoogLeNet`` imports only GoogLeNet's family."""

import importlib
import sys

# The family packages, in the order the docs and ``keras-cnns list`` show them.
FAMILIES = ("googlenet",)
# Families not yet split into spec + build: modules that register themselves on import.
LEGACY_MODULES = {
    "keras_cnns.models.lenet": ("LeNet5",),
    "keras_cnns.models.alexnet": ("AlexNet", "ZFNet"),
    "keras_cnns.models.vgg": ("VGG", "VGG11", "VGG13", "VGG16", "VGG19"),
    "keras_cnns.models.nin": ("NiN",),
    "keras_cnns.models.squeezenet": ("SqueezeNet",),
    "keras_cnns.models.resnet": ("ResNet", "ResNet18", "ResNet34", "ResNet50", "ResNet101",
                                 "ResNet152", "ResNet50V2", "ResNet101V2", "ResNet152V2",
                                 "ResNeXt", "ResNeXt50", "ResNeXt101", "WideResNet"),
    "keras_cnns.models.densenet": ("DenseNet", "DenseNet121", "DenseNet169", "DenseNet201"),
    "keras_cnns.models.fractalnet": ("FractalNet",),
    "keras_cnns.models.inception": ("InceptionV2", "InceptionV3"),
}


def builder_modules():
    """``{builder name: module}`` for every family's public builders."""
    out = {}
    for package in FAMILIES:
        family = importlib.import_module(f"{__name__}.{package}.spec").FAMILY
        out.update({b: family.build_module for b in family.builders})
    for module, names in LEGACY_MODULES.items():
        out.update({b: module for b in names})
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
