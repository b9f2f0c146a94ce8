"""Stage 1, corpus files to clean articles: reading each format, cleaning, metadata, dates, sentences, passages.

Depends on nothing else in qa but ``qa.errors`` and ``qa.records``.
"""
