"""VGG (Simonyan & Zisserman 2014): ``spec`` declares it, ``build`` builds it."""

from keras_cnns._lazy import lazy_family

__getattr__, __dir__ = lazy_family(__name__)
