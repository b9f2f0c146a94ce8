"""The web page: layout and wiring only. Every decision lives in qa/ (qa.serve.service, qa.serve.web).

    python app.py [--index DIR] [--corpus DIR] [--host H] [--port P]

Settings also come from QA_INDEX, QA_CORPUS, GRADIO_SERVER_NAME and GRADIO_SERVER_PORT.
Serves on 127.0.0.1:7860 by default; a public share link only with --share.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import gradio as gr

from qa.models.reranker import DEFAULT_RERANKER
from qa.serve.service import Service
from qa.serve.web import stylesheet

REVEAL_JS = """
element.addEventListener('click', (event) => {
  const show = event.target.closest('.qa-show');
  if (show) { trigger('click', JSON.parse(show.dataset.show)); return; }
  const copy = event.target.closest('.qa-copy');
  if (!copy) return;
  const text = copy.dataset.citation;
  const done = () => {
    copy.textContent = 'Copied ✓';
    setTimeout(() => { copy.textContent = 'Copy citation'; }, 1600);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done);
  } else {
    const area = document.createElement('textarea');
    area.value = text; document.body.appendChild(area); area.select();
    document.execCommand('copy'); area.remove(); done();
  }
});
"""
SCROLL_JS = """
const reveal = () => {
  const cited = element.querySelector('.qa-cited');
  if (cited) cited.scrollIntoView({ behavior: 'smooth', block: 'center' });
};
watch('value', () => setTimeout(reveal, 60));
setTimeout(reveal, 60);
"""
THEME = gr.themes.Soft(
    primary_hue="indigo",
    neutral_hue="slate",
    font=["Inter", "ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"],
    font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"],
)


def build_ui(service: Service) -> gr.Blocks:
    with gr.Blocks(title="News QA — cited answers") as demo:
        with gr.Column(elem_id="qa-header"):
            gr.HTML(
                "<h1>News QA</h1><p>Ask a question; read the paragraphs that answer it, with exact citations. "
                "Every word shown is a quote.</p>",
                js_on_load=None,
            )
        banner = gr.HTML(service.banner_html(), js_on_load=None, elem_id="qa-banner")
        with gr.Tabs():
            with gr.Tab("Ask"):
                with gr.Row(elem_id="qa-ask-row", equal_height=True):
                    question = gr.Textbox(
                        show_label=False,
                        placeholder="Ask a question about the articles…",
                        max_lines=3,
                        scale=8,
                        autofocus=True,
                        elem_id="qa-question",
                    )
                    ask = gr.Button("Ask", variant="primary", scale=1, elem_id="qa-ask-button")
                with gr.Accordion("Options and filters", open=False):
                    with gr.Row():
                        k = gr.Slider(1, 20, value=5, step=1, label="Passages")
                        outlets = gr.Dropdown(
                            service.outlets(),
                            multiselect=True,
                            label="Outlets",
                            info="only these outlets (none selected: all)",
                        )
                    with gr.Row():
                        date_from = gr.DateTime(include_time=False, type="string", label="Published from")
                        date_to = gr.DateTime(include_time=False, type="string", label="Published until")
                    can_rerank, rerank_info = service.rerank_option()
                    rerank = gr.Checkbox(
                        False, label="Rerank", info=rerank_info, interactive=can_rerank, elem_id="qa-rerank"
                    )
                with gr.Row():
                    with gr.Column(scale=3, min_width=320):
                        results = gr.HTML("", js_on_load=REVEAL_JS, elem_id="qa-results")
                    with gr.Column(scale=2, min_width=300, visible=False) as reader_column:
                        reader = gr.HTML(
                            "", js_on_load=SCROLL_JS, max_height=720, elem_id="qa-reader", container=True, padding=True
                        )
                        close = gr.Button("Close article", size="sm", variant="secondary")
                examples = service.examples()
                if examples:
                    gr.Examples(examples=[[q] for q in examples], inputs=[question], label="Try one of these")
            with gr.Tab("Articles"):
                articles = gr.HTML(service.articles_html(), js_on_load=None)
            with gr.Tab("About this index"):
                about = gr.HTML(service.about_html(), js_on_load=None)

        # A page load shows the index in the folder now, also after a rebuild swapped it.
        demo.load(
            lambda: (
                service.banner_html(),
                service.articles_html(),
                service.about_html(),
                gr.Dropdown(choices=service.outlets()),
            ),
            None,
            [banner, articles, about, outlets],
            api_visibility="private",
        )

        inputs = [question, k, outlets, date_from, date_to, rerank]
        for trigger in (ask.click, question.submit):
            trigger(service.ask_html, inputs, results, api_visibility="private")

        def reveal(event: gr.EventData) -> tuple[str, Any]:
            return service.article_html(getattr(event, "_data", None)), gr.Column(visible=True)

        results.click(reveal, None, [reader, reader_column], api_visibility="private")
        close.click(lambda: gr.Column(visible=False), None, reader_column, api_visibility="private")

        def ask_api(question: str, k: int = 5) -> str:
            """Answer a question: the JSON text `qa ask --json` prints (a JSON string, because
            gradio_client would try to download any returned object that has a "path" key)."""
            try:
                return service.ask_json(question, k)
            except Exception as error:  # QAError: shown to the API caller as a clear message
                raise gr.Error(str(error)) from None

        gr.api(ask_api, api_name="ask")
    return demo


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Serve the News QA page.")
    parser.add_argument("--index", default=os.environ.get("QA_INDEX", "index"), help="index folder (default: index)")
    parser.add_argument(
        "--corpus",
        default=os.environ.get("QA_CORPUS", "corpus"),
        help="articles to index when the index is missing (default: corpus)",
    )
    parser.add_argument(
        "--host",
        default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        help="address to listen on (default: 127.0.0.1, this machine only)",
    )
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")), help="port (default: 7860)"
    )
    parser.add_argument(
        "--reranker",
        default=os.environ.get("QA_RERANKER", DEFAULT_RERANKER),
        help=f"cross-encoder id or folder for the Rerank option (default: {DEFAULT_RERANKER})",
    )
    parser.add_argument("--share", action="store_true", help="also open a public Gradio share link")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    from qa.errors import QAError
    from qa.serve.cli import setup_logging

    args = _parse(argv)
    setup_logging()
    try:
        service = Service.open(args.index, args.corpus, reranker=args.reranker)
    except QAError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    demo = build_ui(service)
    demo.queue(default_concurrency_limit=2, max_size=64)
    from starlette.middleware import Middleware

    from qa.serve.webguard import RefuseUploads

    demo.launch(
        server_name=args.host,
        server_port=args.port,
        share=args.share,
        theme=THEME,
        css=stylesheet(),
        footer_links=["api"],
        max_file_size="1mb",
        app_kwargs={"middleware": [Middleware(RefuseUploads)]},
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
