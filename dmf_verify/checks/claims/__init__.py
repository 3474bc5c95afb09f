"""Claim modules; every module here defining CLAIM or CLAIMS is registered."""
