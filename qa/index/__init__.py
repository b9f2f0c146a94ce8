"""Stage 2, passages to an index folder: the manifest, the catalog, the lexical and dense indexes, integrity
checks and the staged build. Depends on ``qa.ingest`` and ``qa.models``.
"""
