"""Test session set-up: single-threaded XLA and the persistent compile cache, before JAX is imported."""
import os

from groklab.runtime import configure_process

# The suite's runs are tiny, so its time is mostly XLA compiling hundreds of small programs; LLVM's
# optimisation passes are most of that and buy nothing at these sizes (measured: the recipe
# contract 68 s -> 48 s cold). HLO passes (fusion, layout) still run, so the programs are the same
# computations; set here rather than in configure_process so that user runs stay fully optimised.
# In os.environ, so the `groklab` subprocesses that some tests start inherit it.
os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                           + " --xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true").strip()

configure_process()

import jax  # noqa: E402  (must come after configure_process)
import pytest  # noqa: E402

# The suite compiles hundreds of small programs (every check, recipe and probe at tiny sizes), most
# under the runtime's 0.5 s threshold for the persistent cache: cache them all, so that a second run
# of the suite loads them instead of compiling them again.
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)


def pytest_collection_modifyitems(config, items):
    """Skip tests marked @pytest.mark.gpu when JAX only has a CPU."""
    if jax.default_backend() != "cpu":
        return
    skip_gpu = pytest.mark.skip(reason="no GPU present")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)


@pytest.fixture
def cli(capsys):
    """Run the `groklab` command in-process: cli([...]) -> (exit code, stdout, stderr)."""
    import sys

    from groklab.cli import main

    def run(args) -> tuple[int, str, str]:
        argv = sys.argv
        sys.argv = ["groklab", *args]
        try:
            main()
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        finally:
            sys.argv = argv
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run
