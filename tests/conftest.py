import os

from hypothesis import HealthCheck, settings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Tests build models before and between in-process searches, so TensorFlow often starts before a
# search can pin its pool (harness.threads); from this variable it starts with the searches' size.
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "2")

# Building a Keras model takes tens of milliseconds: keep example counts small and drop the deadline.
settings.register_profile("default", max_examples=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


import pytest  # noqa: E402


@pytest.fixture(autouse=True, scope="session")
def _private_decoded_cache(tmp_path_factory):
    """Keep the tests' decoded-array cache out of the user's ~/.cache."""
    os.environ["MLPTUNE_CACHE_DIR"] = str(tmp_path_factory.mktemp("decoded-cache"))
