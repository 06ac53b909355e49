"""Barak et al. 2022, *Hidden Progress in Deep Learning* (claims 1-19)."""
