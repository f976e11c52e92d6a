"""Regenerate ``imagenet_class_index.json`` from files tensorflow-datasets ships.

- ``tensorflow_datasets/datasets/imagenet2012/labels.txt``: the 1,000 ILSVRC-2012
  WordNet ids in class-index order (sorted wnids, the order every ImageNet model uses);
- ``tensorflow_datasets.datasets.siscore.labels.IMAGENET_LABELS_LIST``: the synset
  words in the same order ("tench, Tinca tinca", ...).

The short name is the first synonym, without tfds' disambiguating "(bird)" /
"(machine)" suffixes, with spaces as underscores: keras.applications' convention
("tench", "great_white_shark", "crane" twice). Nothing is downloaded. Run:
``python -m keras_cnns.weights.make_class_index``.
"""

import json
import os
import re


def build_index():
    import tensorflow_datasets as tfds
    from tensorflow_datasets.datasets.siscore import labels as siscore_labels

    labels_path = os.path.join(os.path.dirname(tfds.__file__), "datasets", "imagenet2012",
                               "labels.txt")
    with open(labels_path) as f:
        wnids = [line.strip() for line in f if line.strip()]
    words = list(siscore_labels.IMAGENET_LABELS_LIST)
    if len(wnids) != 1000 or len(words) != 1000:
        raise ValueError(f"expected 1000 wnids and 1000 labels, got {len(wnids)} and {len(words)}")
    def short(word):
        first = re.sub(r"\s*\(.*\)$", "", word.split(",")[0].strip())
        return first.replace(" ", "_")

    return {str(i): [wnid, short(word), word] for i, (wnid, word) in enumerate(zip(wnids, words))}


def main():
    path = os.path.join(os.path.dirname(__file__), "imagenet_class_index.json")
    rows = [f"{json.dumps(k)}: {json.dumps(v)}" for k, v in build_index().items()]
    with open(path, "w") as f:
        f.write("{\n" + ",\n".join(rows) + "\n}\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
