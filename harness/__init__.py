"""The tuning harness: a Bayesian hyperparameter search over a Keras model.

Layers (each imports only those below it; the pytest plugin, `pytest_mlptune`, sits on top and
the harness never imports it):

    cli                     `mlptune tune`; finds other subcommands through entry points
    search                  the ask/tell loop (scikit-optimize GP, EI), in synchronous batches
      run_directory         the run folder: settings, checkpoint, results, best model, plots
      model_check           the saved best model loaded again and scored, where trials ran
      trial_runner          where a trial runs: here, or in a worker process
      threads               TensorFlow's intra-op pool, pinned in every process that trains
      dask_runner           or on Dask workers (each with a worker process of its own)
      replay                the best configurations retrained with other seeds
      pruning               the rule that stops poor trials early (a percentile of earlier trials)
      objective             what the Gaussian process is told for a trial (-accuracy or log error rate)
      initial_design        the points trained before the Gaussian process steers (random or LHS)
    trial, model, space     one trial (train and score), the Keras model, the search space
      training_batches      the shuffled batches a trial trains on (tf.data, not autotuned)
      fused_adam            the model's Adam update as one TensorFlow kernel (Keras 3)
    data                    Dataset, the built-in loaders, IDX files, the decoded cache
    environment, errors, atomic, argument_types, native_logs, plots   small helpers

What flows through them: a `Dataset` is trained on in each `Trial`; a search's trials make a
`SearchResult`; the plugin stores a result as a `Baseline` and judges a new one against it
in a `Verdict`.

Public names are imported lazily, so `import harness.environment` (used by the pytest plugin
at load time) does not pull in TensorFlow or scikit-optimize.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "REFERENCE_SPACE": "harness.space",
    "DEFAULT_POINT": "harness.space",
    "HIDDEN_ACTIVATIONS": "harness.space",
    "space_fingerprint": "harness.space",
    "create_model": "harness.model",
    "trainable_parameter_count": "harness.model",
    "Dataset": "harness.data.dataset",
    "load_fashion_mnist": "harness.data.loaders",
    "load_digits": "harness.data.loaders",
    "load_dataset": "harness.data.loaders",
    "Trial": "harness.trial",
    "run_search": "harness.search",
    "SearchResult": "harness.search",
    "SearchBudget": "harness.search",
    "SearchAborted": "harness.search",
    "MedianStop": "harness.pruning",
    "PercentileStop": "harness.pruning",
    "InputError": "harness.errors",
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
