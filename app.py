"""The News QA page: `python app.py` is `qa serve` (the layout is qa/serve/page.py, the launch qa/serve/launch.py).

    python app.py [--index DIR] [--corpus DIR] [--host H] [--port P] [--reranker ID|PATH] [--share]

Settings also come from QA_INDEX, QA_CORPUS, QA_RERANKER, GRADIO_SERVER_NAME and GRADIO_SERVER_PORT.
Serves on 127.0.0.1:7860 by default; a public share link only with --share.
"""

from __future__ import annotations

import sys

from qa.serve.launch import main

if __name__ == "__main__":
    sys.exit(main())
