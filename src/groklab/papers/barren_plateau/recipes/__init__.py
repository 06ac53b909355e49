"""Recipes of the barren-plateau paper: gradient variance, correlations, training failure."""
