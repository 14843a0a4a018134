"""Data for the search: the `Dataset` value, the built-in loaders, and how they read their files.

- `dataset`: `Dataset`, the arrays a trial trains and scores on, with a content fingerprint.
- `loaders`: Fashion-MNIST (Debian's IDX files) and scikit-learn's digits, split and checked.
- `idx`: a bounded, streaming reader for IDX files.
- `decoded_cache`: decoded Fashion-MNIST arrays kept on disk, keyed by the files' content.
"""
