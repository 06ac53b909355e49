"""Takhanov et al. 2023, *Gradient Descent Fails to Learn High-frequency Functions and Modular
Arithmetic* (claims 32-36)."""
