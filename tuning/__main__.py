"""``python -m tuning MODEL [flags]``: the same command as ``keras-cnns tune MODEL``."""

import sys

from keras_cnns import cli


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in ("-h", "--help"):
        return cli.main(["tune", "--help"])
    return cli.main(["tune", *argv])


if __name__ == "__main__":
    sys.exit(main())
