"""Claim checks 20-31 of Why Do You Grok, one module per claim or group of claims."""
