"""``python -m tuning MODEL [flags]``: the same command as ``keras-cnns tune MODEL``."""

import sys

from keras_cnns.cli import main as cli_main


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in ("-h", "--help"):
        return cli_main(["tune", "--help"])
    return cli_main(["tune", *argv])


if __name__ == "__main__":
    sys.exit(main())
