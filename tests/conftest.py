"""Test session set-up: single-threaded XLA and the persistent compile cache, before JAX is imported."""
from groklab.runtime import configure_process

configure_process()

import jax  # noqa: E402  (must come after configure_process)
import pytest  # noqa: E402


def pytest_collection_modifyitems(config, items):
    """Skip tests marked @pytest.mark.gpu when JAX only has a CPU."""
    if jax.default_backend() != "cpu":
        return
    skip_gpu = pytest.mark.skip(reason="no GPU present")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)
