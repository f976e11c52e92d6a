"""keras-tuner searches over the keras_cnns networks' filter counts and dropout.

>>> best_hp, best_model, table = tuning.search("lenet5", max_trials=3, epochs=1)

See docs/tuning.md.
"""

from tuning import spaces
from tuning.hypermodel import HyperCNN
from tuning.search import (DISTRIBUTED_ENV, TUNERS, ResultsTable, distributed_role,
                           load_results, search)

__all__ = ["HyperCNN", "search", "spaces", "load_results", "ResultsTable", "TUNERS",
           "DISTRIBUTED_ENV", "distributed_role"]
