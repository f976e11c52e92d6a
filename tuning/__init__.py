"""keras-tuner searches over the keras_cnns networks' filter counts and dropout.

>>> best_hp, best_model, table = tuning.search("lenet5", max_trials=3, epochs=1)

The search spaces are the families' own declarations (``Family.search_space``); this
package runs keras-tuner over them. Its names load on first use, so ``python -m tuning
--help`` starts without TensorFlow. See docs/tuning.md.
"""

from keras_cnns._lazy import lazy_exports

_EXPORTS = {"spaces": "tuning.spaces:", "HyperCNN": "tuning.hypermodel",
            **{n: "tuning.searcher" for n in ("search", "load_results", "ResultsTable", "TUNERS",
                                            "DISTRIBUTED_ENV", "distributed_role")}}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
