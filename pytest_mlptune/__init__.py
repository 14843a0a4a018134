"""pytest-mlptune: regression tests for hyperparameter tuning."""
