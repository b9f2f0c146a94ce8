"""Sentence-transformers models: finding and verifying one (folder, cache, hub), encoding, reranking, and
training one on the corpus. Depends on ``qa.ingest`` at most.
"""
