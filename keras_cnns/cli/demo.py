"""``keras-cnns demo``: GoogLeNet with aux heads on real digits, end to end, offline."""

from __future__ import annotations



def add_parsers(sub):
    p = sub.add_parser("demo", help="GoogLeNet with aux heads on real digits: fit, evaluate, "
                                    "export, reload, predict",
                       description="The end-to-end demo, offline: build GoogLeNet with aux "
                                   "heads, fit it briefly on scikit-learn's real handwritten "
                                   "digits, evaluate, export a SavedModel, reload it and "
                                   "predict.")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--image-size", type=int, default=96)
    p.add_argument("--variant", default="bn", help="GoogLeNet variant (paper, bn, torchvision)")
    p.add_argument("--output", default="demo_output", help="directory for the SavedModel")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=run)


def run(args):
    from keras_cnns.demo import run_demo

    run_demo(epochs=args.epochs, image_size=args.image_size, variant=args.variant,
             output=args.output, seed=args.seed)
    return 0
