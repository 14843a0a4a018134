"""The tuning harness: a Bayesian hyperparameter search over a Keras model.

Public names are imported lazily, so `import harness.environment` (used by the pytest plugin
at load time) does not pull in TensorFlow or scikit-optimize.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "SEED_SPACE": "harness.space",
    "DEFAULT_POINT": "harness.space",
    "HIDDEN_ACTIVATIONS": "harness.space",
    "space_fingerprint": "harness.space",
    "create_model": "harness.model",
    "trainable_parameter_count": "harness.model",
    "Dataset": "harness.dataset",
    "load_fashion_mnist": "harness.datasets",
    "load_digits": "harness.datasets",
    "load_dataset": "harness.datasets",
    "Trial": "harness.trial",
    "run_search": "harness.search",
    "SearchResult": "harness.search",
    "SearchBudget": "harness.search",
    "SearchAborted": "harness.search",
    "InputError": "harness.errors",
    "environment": "harness.environment",
    "environment_key": "harness.environment",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'harness' has no attribute {name!r}")


def __dir__():
    return __all__
