"""Inception v2 (BN-Inception, Ioffe & Szegedy 2015) and Inception v3 (Szegedy et al.
2015): ``spec`` declares them, ``build`` builds them."""

from keras_cnns._lazy import lazy_family

__getattr__, __dir__ = lazy_family(__name__)
