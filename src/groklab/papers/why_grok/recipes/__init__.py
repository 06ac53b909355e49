"""Recipes of Why Do You Grok: one command per figure."""
