"""Measuring retrieval: evaluation datasets, metrics, ``qa eval`` and calibration. Depends on ``qa.search``
and below.
"""
