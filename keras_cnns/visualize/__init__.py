"""See inside the networks: feature maps, heat maps, Grad-CAM, training curves and
stage diagrams, drawn with matplotlib (no graphviz, no system packages).

Every function taking an ``image`` wants one uint8 RGB picture ``[H, W, 3]`` of any
size. A registered model gets its own input pipeline (:func:`keras_cnns.preprocessing`:
resize the shorter side, centre-crop, normalise); a model outside the registry gets the
picture resized to its input size, pixels left in 0-255 (pass ``preprocess=`` to say
otherwise). Heat maps come back at the model's input resolution, aligned with the
centre crop the model saw (:func:`model_view` returns that crop).

One module per method: :mod:`~keras_cnns.visualize.maps` (feature maps, channel-sum heat
map, overlays), :mod:`~keras_cnns.visualize.gradcam`, :mod:`~keras_cnns.visualize.history`
(training curves) and :mod:`~keras_cnns.visualize.architecture` (stage diagrams).
TensorFlow, Keras and matplotlib are imported inside the functions that need them.
"""

from keras_cnns.visualize.architecture import (architecture_items, draw_architecture,
                                               plot_architecture)
from keras_cnns.visualize.confusion import plot_confusion
from keras_cnns.visualize.gradcam import grad_cam
from keras_cnns.visualize.history import plot_history
from keras_cnns.visualize.maps import (channel_sum_heatmap, feature_maps, model_view, overlay,
                                       save_overlay)

__all__ = [
    "feature_maps",
    "channel_sum_heatmap",
    "grad_cam",
    "overlay",
    "save_overlay",
    "model_view",
    "plot_history",
    "plot_confusion",
    "plot_architecture",
    "architecture_items",
    "draw_architecture",
]
