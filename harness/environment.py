"""What a result depends on besides the code: package versions and platform.

Light on purpose: reads installed metadata, never imports TensorFlow, so the pytest
plugin can compute an environment key at load time.
"""

from __future__ import annotations

import platform
from importlib import metadata

_TRACKED = {
    "tensorflow": ("tensorflow", "tensorflow-cpu", "tensorflow-intel", "tf-nightly"),
    "keras": ("keras",),
    "numpy": ("numpy",),
    "scikit-optimize": ("scikit-optimize",),
    "scikit-learn": ("scikit-learn",),
}


def installed_version(distributions: tuple[str, ...]) -> str | None:
    """The version of the first of `distributions` that is installed; None if none is."""
    for name in distributions:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def environment() -> dict[str, str | None]:
    """Versions of Python and the numerical stack, and the platform."""
    info: dict[str, str | None] = {"python": platform.python_version()}
    for key, names in _TRACKED.items():
        info[key] = installed_version(names)
    info["platform"] = f"{platform.system()}-{platform.machine()}".lower()
    return info


def _minor(version: str | None) -> str:
    if not version:
        return "none"
    return ".".join(version.split(".")[:2])


def environment_key(info: dict[str, str | None] | None = None) -> str:
    """The key baselines are stored under: platform, Python minor, TF minor, Keras major.

    A check reads the baseline of its own key unless told another (`--baselines-from`, e.g.
    after a TensorFlow upgrade): a TensorFlow minor version changes numerics enough to send a
    search down another path, and recording per key keeps each version's own trials.
    """
    info = info or environment()
    keras_major = (info.get("keras") or "none").split(".")[0]
    return f"{info['platform']}-py{_minor(info['python'])}-tf{_minor(info.get('tensorflow'))}-keras{keras_major}"
