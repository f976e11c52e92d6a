"""The ``keras-cnns`` command (also ``python -m keras_cnns.cli``).

One thin module per command: each has ``add_parsers(subparsers)``, which registers its
subcommand(s) with ``set_defaults(func=...)``, and imports only
:mod:`keras_cnns.cli.common` at module level; the library is imported inside the
function that runs the command. So building the parser, ``--help``, ``--version``,
``list`` and ``info NAME`` import neither TensorFlow nor Keras (the registry's metadata
is all they read). Errors the user can fix print one line on stderr and exit with
status 2 (raise :class:`UsageError`, ``ValueError`` or ``TypeError``).
"""

from __future__ import annotations

import sys

from keras_cnns.cli import convert, demo, evaluate, export, models, train, tune, visualize
from keras_cnns.cli import predict
from keras_cnns.cli.common import PROG, Parser, UsageError, VersionAction, quiet_tensorflow
from keras_cnns.cli.common import run_command

__all__ = ["main", "build_parser", "PROG", "UsageError"]

#: The command modules, in the order of ``keras-cnns --help``.
COMMANDS = (models, demo, train, evaluate, predict, export, tune, visualize, convert)


def build_parser():
    parser = Parser(prog=PROG, description="The classic CNNs, paper-exact, in Keras 3.")
    parser.add_argument("--version", action=VersionAction)
    parser.add_argument("--verbose", dest="show_tf_log", action="store_true",
                        help="keep TensorFlow's C++ start-up log (oneDNN, cpu_feature_guard); "
                             "silenced by default unless TF_CPP_MIN_LOG_LEVEL is set")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    for module in COMMANDS:
        module.add_parsers(sub)
    return parser


def main(argv=None):
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as err:
        print(str(err), file=sys.stderr)
        return 2
    quiet_tensorflow(args.show_tf_log)
    return run_command(args.func, args)
