"""ResNet v1 and v2, ResNeXt and Wide ResNet (He et al. 2015, 2016; Xie et al. 2016;
Zagoruyko & Komodakis 2016): ``spec`` declares them, ``build`` builds them."""

from keras_cnns._lazy import lazy_family

__getattr__, __dir__ = lazy_family(__name__)
