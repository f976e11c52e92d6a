"""``python -m keras_cnns.cli``: the ``keras-cnns`` command."""

import sys

from keras_cnns.cli import main

if __name__ == "__main__":
    sys.exit(main())
