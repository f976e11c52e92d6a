"""Draw the 144 GoogLeNet crops of one real photo as a PNG grid.

    python tools/crop_grid.py [--out docs/img/googlenet_144_crops.png]

Layout: two blocks of 12 rows x 6 columns, originals on the left and their mirrors on
the right. Row = (scale 256/288/320/352) x (square left/centre/right), top to bottom;
column = view: top-left, top-right, bottom-left, bottom-right, centre, whole square.
"""

import argparse
import os

import numpy as np


def crop_grid(image, thumb=48, gap=2, block_gap=10):
    """uint8 grid image of the 144 crops of ``image`` (uint8 [H, W, 3])."""
    import tensorflow as tf

    from keras_cnns.data.crops import multi_crop

    crops = multi_crop(image, "googlenet-144")
    crops = tf.image.resize(crops, (thumb, thumb), antialias=True).numpy()
    crops = np.clip(np.round(crops), 0, 255).astype(np.uint8)
    rows, cols = 12, 6
    cell = thumb + gap
    width = 2 * cols * cell + block_gap
    grid = np.full((rows * cell, width, 3), 255, np.uint8)
    for i, crop in enumerate(crops):
        mirror, rest = divmod(i, 72)
        row, col = divmod(rest, 6)
        y = row * cell
        x = mirror * (cols * cell + block_gap) + col * cell
        grid[y:y + thumb, x:x + thumb] = crop
    return grid


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join("docs", "img", "googlenet_144_crops.png"))
    parser.add_argument("--photo", type=int, default=0,
                        help="scikit-learn sample image: 0 china.jpg, 1 flower.jpg")
    parser.add_argument("--thumb", type=int, default=48)
    args = parser.parse_args(argv)
    from PIL import Image
    from sklearn.datasets import load_sample_images

    photo = np.asarray(load_sample_images().images[args.photo], np.uint8)
    grid = crop_grid(photo, thumb=args.thumb)
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    Image.fromarray(grid).save(args.out, optimize=True)
    print(f"wrote {args.out} ({grid.shape[1]}x{grid.shape[0]})")


if __name__ == "__main__":
    main()
