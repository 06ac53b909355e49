from groklab.experiments import modular_addition, parity, parity_scaling  # noqa: F401  (registers experiments)
