"""Stage 3, a question to hits: the retriever, fusion, highlighting, confidence. Depends on ``qa.index``
and below.
"""
