"""Defaults shared by more than one stage, each stated once: the version, fusion constants, candidate depths.

Every stage may import this module; it imports nothing from qa.
"""

from __future__ import annotations

__version__ = "0.1.0"

RRF_K = 60  # reciprocal rank fusion's k (Cormack et al. 2009), used when a manifest names no other
