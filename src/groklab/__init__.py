"""groklab: many-trial experiments on how gradient-trained networks learn hard algorithmic targets."""
from groklab._version import __version__
from groklab.config import make_config
from groklab.errors import GroklabInputError
from groklab.specs import LossSpec, OptimizerSpec, TrainSpec, TrialConfig

__all__ = ["__version__", "GroklabInputError", "LossSpec", "OptimizerSpec", "TrainSpec", "TrialConfig", "make_config"]
