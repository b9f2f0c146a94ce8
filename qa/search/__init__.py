"""Stage 3, a question to hits. Depends on ``qa.index`` and below.

``retriever`` is the facade; a question passes ``request`` (checking) → ``ranking`` (the
searchers of a ``backend`` — ``local`` by default —, ``fusion``, ``reranking``) → ``answers``
(hits, ``highlight``, ``confidence``). ``opening`` opens an index folder for all of them.
"""
