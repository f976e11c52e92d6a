"""``keras-cnns visualize``: feature maps, the channel-sum heat map or Grad-CAM as a PNG."""

from __future__ import annotations

from keras_cnns.cli.common import UsageError, load_checkpoint

METHODS = ("feature-maps", "heatmap", "grad-cam")


def add_parsers(sub):
    p = sub.add_parser(
        "visualize", help="feature maps, channel-sum heat map or Grad-CAM of an image, as PNG",
        description="Run one image through a network and save a picture of what it computes: "
                    "the feature maps of its stage outputs (feature-maps), the course's "
                    "sum-of-channels heat map (heatmap; not CAM), or Grad-CAM (grad-cam). "
                    "MODEL_OR_CHECKPOINT is a registry name (built with random weights unless "
                    "--weights is given) or a .keras file.")
    p.add_argument("model", metavar="MODEL_OR_CHECKPOINT",
                   help="registry name (see 'keras-cnns list') or a .keras checkpoint")
    p.add_argument("image", metavar="IMAGE", help="an image file (JPEG, PNG, ...)")
    p.add_argument("--method", choices=METHODS, default="feature-maps",
                   help="what to draw (default: feature-maps)")
    p.add_argument("--out", required=True, metavar="FILE.png", help="the PNG to write")
    p.add_argument("--layer", action="append", default=None,
                   help="end point(s) to show (repeatable for feature-maps; default: the "
                        "model's stage outputs, or the last one for the heat maps)")
    p.add_argument("--class-index", type=int, default=None,
                   help="Grad-CAM class (default: the top prediction)")
    p.add_argument("--head", default="main", help="Grad-CAM head of an aux model (main, aux1, ...)")
    p.add_argument("--max-channels", type=int, default=64,
                   help="feature maps per layer (default 64)")
    p.add_argument("--weights", default=None,
                   help="weights for a registry name: a weights file, or 'imagenet'")
    p.set_defaults(func=run)


def _load_model(spec, weights):
    import os

    if spec.endswith(".keras") or os.path.isfile(spec):
        if weights is not None:
            raise UsageError("keras-cnns visualize: --weights applies to a registry name, "
                             "not a checkpoint")
        return load_checkpoint(spec, flag="MODEL_OR_CHECKPOINT")
    import keras_cnns

    if spec not in keras_cnns.available_models():
        # The registry's own message lists the closest names.
        keras_cnns.model_info(spec)
    if weights is None:
        model = keras_cnns.build(spec, weights=None)
        model.untrained_note = "untrained weights"  # read by the pictures' titles
        return model
    return keras_cnns.build(spec, weights=weights)


def _load_image(path):
    import os

    import numpy as np
    from PIL import Image, UnidentifiedImageError

    if not os.path.isfile(path):
        raise UsageError(f"keras-cnns visualize: IMAGE: no such file {path!r}")
    try:
        with Image.open(path) as img:
            return np.asarray(img.convert("RGB"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError) as err:
        raise UsageError(f"keras-cnns visualize: IMAGE: cannot read {path!r} as an image "
                         f"({err})") from err


def run(args):
    from keras_cnns import visualize
    from keras_cnns.visualize._common import _check_out_path

    out = _check_out_path(args.out, arg="--out")
    image = _load_image(args.image)
    model = _load_model(args.model, args.weights)
    if args.method == "feature-maps":
        visualize.feature_maps(model, image, layers=args.layer, max_channels=args.max_channels,
                               path=out)
    else:
        if args.layer and len(args.layer) > 1:
            raise ValueError(f"--layer: {args.method} takes one layer, got {args.layer}")
        layer = args.layer[0] if args.layer else None
        if args.method == "heatmap":
            visualize.channel_sum_heatmap(model, image, layer=layer, path=out)
        else:
            visualize.grad_cam(model, image, class_index=args.class_index, layer=layer,
                               head=args.head, path=out)
    if getattr(model, "untrained_note", None):
        import sys

        print(f"keras-cnns visualize: note: {args.model} is a registry name without "
              "--weights, so the picture shows untrained (random) weights, as its title "
              "says; pass a trained .keras checkpoint or --weights to see what a network "
              "learned", file=sys.stderr)
    print(out)
    return 0
