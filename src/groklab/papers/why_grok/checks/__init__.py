"""Claim checks 20-31 of Why Do You Grok (so far 23 and 28)."""
