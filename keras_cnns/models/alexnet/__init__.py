"""AlexNet (Krizhevsky et al. 2012) and ZFNet (Zeiler & Fergus 2014): ``spec`` declares
them, ``build`` builds them."""

from keras_cnns._lazy import lazy_family

__getattr__, __dir__ = lazy_family(__name__)
