"""Regenerate docs/img/googlenet_144_crops.png: python scripts/crop_grid.py"""

from keras_cnns.data.crop_grid import main

if __name__ == "__main__":
    main()
