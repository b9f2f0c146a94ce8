"""The page's layout and event wiring (Gradio); every decision is made in qa.serve.service and qa.serve.web.

Layout: a header, then four tabs. *Ask* holds the question box with a one-line note on how
questions are matched, "Options and filters", the results (a summary of the index before the
first question; a download bar, and per card a pick box and ✓/✗ marks) beside the article
reader, and example questions. *Batch* answers pasted questions as a table with a CSV download.
*Articles* lists what is indexed (sortable; a title opens the reader). *About this index* says
how it was built.
At phone width the reader is a full-screen sheet over the results.
"""

from __future__ import annotations

import json
from typing import Any

import gradio as gr

from qa.errors import QAError
from qa.serve import service as logic
from qa.serve import web
from qa.serve.actions import download_batch
from qa.serve.hints import error_line
from qa.serve.service import Service
from qa.settings import DEFAULT_K

# The results panel: "Show in article", a filter chip's ×, a ✓/✗ mark and a download send their data
# to the server; "Copy citation" copies in the browser (also over plain http, where navigator.clipboard
# is absent).
RESULTS_JS = """
element.addEventListener('click', (event) => {
  const action = event.target.closest('.qa-show, .qa-show-copy, .qa-clear, .qa-include-undated');
  if (action) {
    trigger('click', JSON.parse(action.dataset.show || action.dataset.clear || action.dataset.undated));
    return;
  }
  const mark = event.target.closest('.qa-mark');
  if (mark) {
    mark.parentElement.querySelectorAll('.qa-mark').forEach((b) => b.setAttribute('aria-pressed', 'false'));
    mark.setAttribute('aria-pressed', 'true');
    trigger('click', JSON.parse(mark.dataset.mark));
    return;
  }
  const download = event.target.closest('.qa-download');
  if (download) {
    const ranks = Array.from(element.querySelectorAll('.qa-pick input:checked')).map((box) => Number(box.dataset.rank));
    trigger('click', { download: { format: download.dataset.format, ranks } });
    return;
  }
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
# The date fields drop text they cannot read as a date ("May 2019") instead of sending it, which would
# search without the filter: every search sends what is typed in them, for the server to check.
# Inputs 3 and 4 of every search event are date_from and date_to.
DATES_JS = """
(...values) => {
  const typed = (id) => { const box = document.querySelector(`#${id} input`); return box ? box.value : null; };
  values[3] = typed('qa-date-from'); values[4] = typed('qa-date-to');
  return values;
}
"""
# A file the server prepared ({"name", "type", "text"} as JSON text) is saved by the browser; nothing
# is written on the server.
DOWNLOAD_JS = """
(payload) => {
  if (!payload) return;
  const file = JSON.parse(payload);
  const url = URL.createObjectURL(new Blob([file.text], { type: file.type + ';charset=utf-8' }));
  const link = document.createElement('a');
  link.href = url; link.download = file.name;
  document.body.appendChild(link); link.click(); link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 5000);
}
"""
# The reader scrolls itself (not the page) so the cited paragraph starts just below its sticky
# header, and takes the keyboard focus; Escape closes it.
READER_JS = """
const reveal = () => {
  const article = element.querySelector('.qa-article');
  const scroller = element.closest('#qa-reader-col');
  if (!article || !scroller) return;
  // Beside the results: bring the whole reader into view first (it then sticks while the page scrolls).
  const panel = scroller.getBoundingClientRect();
  if (panel.top < 0 || panel.bottom > window.innerHeight) window.scrollBy(0, panel.top - 8);
  const cited = article.querySelector('.qa-cited');
  const header = article.querySelector('header');
  let top = 0;
  if (cited) {
    const below = cited.getBoundingClientRect().top - scroller.getBoundingClientRect().top + scroller.scrollTop;
    top = below - (header ? header.offsetHeight : 0) - 12;
  }
  scroller.scrollTop = Math.max(0, top);
  article.focus({ preventScroll: true });
};
watch('value', () => setTimeout(reveal, 30));
setTimeout(reveal, 30);  // the reader mounts when its column is first shown, with its value already set
const close = () => document.getElementById('qa-close')?.click();
element.addEventListener('click', (event) => { if (event.target.closest('.qa-close-reader')) close(); });
// Open means rendered: offsetParent cannot tell, being null for the phone's position: fixed sheet.
const shown = (column) =>
  column.checkVisibility ? column.checkVisibility({ visibilityProperty: true }) : column.getClientRects().length > 0;
if (!window.qaEscapeCloses) {
  window.qaEscapeCloses = true;
  document.addEventListener('keydown', (event) => {
    const column = document.getElementById('qa-reader-col');
    if (event.key === 'Escape' && column && shown(column)) close();
  });
}
"""
# The date fields' names are a caption beside them, not a <label>, so a screen reader (or a search by label)
# finds nothing: each input is given its caption as aria-label, also when Gradio renders it again.
LABELS_JS = """
if (!window.qaDateLabels) {
  window.qaDateLabels = true;
  const label = () => document.querySelectorAll('#qa-date-from, #qa-date-to').forEach((field) => {
    const input = field.querySelector('input');
    const caption = field.querySelector('[data-testid="block-info"]');
    if (input && caption && input.getAttribute('aria-label') !== caption.textContent.trim()) {
      input.setAttribute('aria-label', caption.textContent.trim());
    }
  });
  new MutationObserver(label).observe(document.body, { childList: true, subtree: true });
  label();
}
"""
# The Articles table: a header button sorts by its column (again: the other way); a title opens the reader.
ARTICLES_JS = """
element.addEventListener('click', (event) => {
  const open = event.target.closest('.qa-open');
  if (open) { trigger('click', JSON.parse(open.dataset.open)); return; }
  const sort = event.target.closest('.qa-sort');
  if (!sort) return;
  const table = sort.closest('table');
  const th = sort.closest('th');
  const key = sort.dataset.key;
  const ascending = th.getAttribute('aria-sort') !== 'ascending';
  table.querySelectorAll('th').forEach((cell) => cell.setAttribute('aria-sort', 'none'));
  th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  rows.sort((a, b) => {
    const x = a.dataset[key], y = b.dataset[key];
    if (!x && y) return 1;
    if (x && !y) return -1;
    return ascending ? x.localeCompare(y) : y.localeCompare(x);
  });
  rows.forEach((row) => body.appendChild(row));
});
"""
THEME = gr.themes.Soft(
    primary_hue="indigo",
    neutral_hue="slate",
    font=["Inter", "ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"],
    font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"],
)
BATCH_INTRO = (
    "<p>Paste questions, one per line, to ask them all at once; each gets its passages in the table, "
    "and <b>Download CSV</b> saves every hit with its full citation. The options and filters set on the "
    "Ask tab apply. Lines starting with # are skipped; at most 200 questions at a time. From the command "
    "line: <code>qa ask --batch questions.csv</code>.</p>"
)
HEADER = (
    "<h1>News QA</h1><p>Ask a question; read the paragraphs that answer it, with exact citations. "
    "Every word shown is a quote.</p>"
)


def build_page(service: Service) -> gr.Blocks:
    """The whole page for one index, wired to ``service``; plus the `/ask` API endpoint."""
    with gr.Blocks(title="News QA — cited answers", analytics_enabled=False) as demo:
        gr.HTML(HEADER, js_on_load=None, elem_id="qa-header")
        with gr.Tabs(selected="ask") as tabs:
            with gr.Tab("Ask", id="ask"):
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
                status = gr.HTML(service.status_html(), js_on_load=LABELS_JS, elem_id="qa-status")
                with gr.Accordion("Options and filters", open=False, elem_id="qa-options"):
                    with gr.Row():
                        k = gr.Slider(1, logic.MAX_K, value=DEFAULT_K, step=1, label="Passages")
                        outlets = gr.Dropdown(
                            service.outlet_choices(),
                            multiselect=True,
                            label="Outlets",
                            info="only these outlets (none selected: all)",
                            elem_id="qa-outlets",
                        )
                    with gr.Row(elem_id="qa-dates"):
                        date_from = gr.DateTime(
                            include_time=False, type="string", label="Published from", elem_id="qa-date-from"
                        )
                        date_to = gr.DateTime(
                            include_time=False, type="string", label="Published until", elem_id="qa-date-to"
                        )
                    with gr.Row():
                        include_undated = gr.Checkbox(
                            False,
                            label="Include undated articles",
                            info="with a date range, also search articles that have no date",
                            elem_id="qa-include-undated",
                        )
                        collapse = gr.Checkbox(
                            True,
                            label="Group wire copies",
                            info="show the same story run by several outlets once, with where else it ran",
                            elem_id="qa-collapse",
                        )
                    can_rerank, rerank_info = service.rerank_option()
                    rerank = gr.Checkbox(
                        False, label="Rerank", info=rerank_info, interactive=can_rerank, elem_id="qa-rerank"
                    )
                    keep_log, log_info = service.desk.audit_option()
                    audit = gr.Checkbox(
                        keep_log, label="Keep an audit log", info=log_info, interactive=keep_log, elem_id="qa-audit"
                    )
                with gr.Row(elem_id="qa-main"):
                    with gr.Column(scale=3, min_width=300, elem_id="qa-results-col"):
                        notice = gr.HTML("", js_on_load=None, elem_id="qa-action-notice")
                        results = gr.HTML(service.summary_html(), js_on_load=RESULTS_JS, elem_id="qa-results")
                    with gr.Column(scale=2, min_width=300, visible=False, elem_id="qa-reader-col") as reader_column:
                        # Pressed by the reader's own ✕ button (in its sticky header) and by Escape.
                        close = gr.Button("Close article", elem_id="qa-close")
                        reader = gr.HTML("", js_on_load=READER_JS, elem_id="qa-reader")
                examples = service.examples()
                example_list = None
                if examples:
                    example_list = gr.Examples(
                        examples=[[q] for q in examples], inputs=[question], label="Try one of these"
                    )
            with gr.Tab("Batch", id="batch"):
                gr.HTML(BATCH_INTRO, js_on_load=None, elem_id="qa-batch-intro")
                pasted = gr.Textbox(
                    lines=8,
                    max_lines=30,
                    label="Questions, one per line",
                    placeholder="Who approved the emergency levy?\n# a line starting with # is skipped",
                    elem_id="qa-batch-questions",
                )
                with gr.Row():
                    run_batch = gr.Button("Ask all", variant="primary", elem_id="qa-batch-run")
                    save_batch = gr.Button("Download CSV", elem_id="qa-batch-download")
                batch_table = gr.HTML("", js_on_load=None, elem_id="qa-batch-results")
            with gr.Tab("Articles", id="articles"):
                articles = gr.HTML(service.articles_html(), js_on_load=ARTICLES_JS, elem_id="qa-articles")
            with gr.Tab("About this index", id="about"):
                about = gr.HTML(service.about_html(), js_on_load=None, elem_id="qa-about")

        # A page load shows the index in the folder now, also after a rebuild swapped it. The results
        # panel is only refreshed after a rebuild: a question asked while the page loads must not be
        # replaced by the summary.
        built = service.generation

        def refresh() -> tuple[Any, ...]:
            summary = service.summary_html() if service.generation != built else gr.skip()
            return (
                service.status_html(),
                summary,
                service.articles_html(),
                service.about_html(),
                gr.Dropdown(choices=service.outlet_choices()),
            )

        demo.load(refresh, None, [status, results, articles, about, outlets], api_visibility="private")

        filters = [k, outlets, date_from, date_to, rerank, include_undated, collapse, audit]
        hidden_reader = gr.Column(visible=False)
        shown = gr.State(None)  # the Answer on screen: downloads and marks refer to its hits
        download_box = gr.Textbox(visible=False, elem_id="qa-download-payload")

        def answer(text: str, *options: Any) -> tuple[Any, ...]:
            """A new question (or new filters) gets new results and closes the reader."""
            page, found = service.ask_page(text, *options)
            return page, hidden_reader, found, ""

        def refilter(text: str, *options: Any) -> tuple[Any, ...]:
            """Changed filters re-run the question on the screen (nothing to do before the first one)."""
            if not (text or "").strip():
                return gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return answer(text, *options)

        outputs = [results, reader_column, shown, notice]
        for trigger in (ask.click, question.submit):
            trigger(answer, [question, *filters], outputs, js=DATES_JS, api_visibility="private")
        if example_list is not None:
            example_list.load_input_event.then(
                answer, [question, *filters], outputs, js=DATES_JS, api_visibility="private"
            )
        for control, event in (
            (k, "release"),
            (outlets, "input"),
            (date_from, "change"),
            (date_to, "change"),
            (date_from, "submit"),  # Enter in a date field: also when it holds text that is not a date
            (date_to, "submit"),
            (rerank, "input"),
            (include_undated, "input"),
            (collapse, "input"),
        ):
            getattr(control, event)(refilter, [question, *filters], outputs, js=DATES_JS, api_visibility="private")

        def on_results_click(
            text: str,
            n: float,
            chosen: Any,
            start: Any,
            end: Any,
            rerank_on: bool,
            undated_on: bool,
            collapse_on: bool,
            audit_on: bool,
            on_screen: Any,
            event: gr.EventData,
        ):
            data = getattr(event, "_data", None) or {}
            skip = gr.skip()
            if "clear" in data or "undated" in data:  # a filter chip's ×, or "Include undated articles"
                if "clear" in data:
                    chosen, start, end, undated_on = logic.clear_filter(data["clear"], chosen, start, end, undated_on)
                else:
                    undated_on = True
                page, found = skip, skip
                if (text or "").strip():
                    options = (rerank_on, undated_on, collapse_on, audit_on)
                    page, found = service.ask_page(text, n, chosen, start, end, *options)
                return skip, hidden_reader, chosen, start, end, undated_on, page, found, "", ""
            quiet = (skip,) * 7
            try:
                if "mark" in data:  # ✓ / ✗ on a card
                    done = service.desk.mark(on_screen, data["mark"])
                    return (*quiet, skip, "", web.render_message(done, kind="note"))
                if "download" in data:  # the download bar: the picked hits (or all) as a file
                    payload = json.dumps(service.desk.download(on_screen, data["download"]).to_dict())
                    return (*quiet, skip, payload, "")
            except QAError as error:
                return (*quiet, skip, "", web.render_message(str(error)))
            return (service.article_html(data), gr.Column(visible=True), *quiet[2:], skip, "", skip)

        results.click(
            on_results_click,
            [question, *filters, shown],
            [reader, reader_column, outlets, date_from, date_to, include_undated, results, shown, download_box, notice],
            js=DATES_JS,
            api_visibility="private",
        ).then(None, [download_box], None, js=DOWNLOAD_JS)

        batch_answers = gr.State([])
        run_batch.click(
            service.batch, [pasted, *filters], [batch_table, batch_answers], js=DATES_JS, api_visibility="private"
        )

        def batch_file(found: list[Any]) -> str:
            return json.dumps(download_batch(found).to_dict()) if found else ""

        save_batch.click(batch_file, [batch_answers], [download_box], api_visibility="private").then(
            None, [download_box], None, js=DOWNLOAD_JS
        )

        def open_article(event: gr.EventData) -> tuple[str, Any, Any]:
            return service.article_html(getattr(event, "_data", None)), gr.Column(visible=True), gr.Tabs(selected="ask")

        articles.click(open_article, None, [reader, reader_column, tabs], api_visibility="private")
        close.click(lambda: hidden_reader, None, reader_column, api_visibility="private")

        def ask_api(
            question: str,
            k: int = DEFAULT_K,
            outlets: list[str] | None = None,
            date_from: str | None = None,
            date_to: str | None = None,
            include_undated: bool = False,
            rerank: bool = False,
            collapse: bool = True,
        ) -> str:
            """Answer a question with the page's options: the JSON text `qa ask --json` prints (a JSON
            string, because gradio_client would try to download any returned object with a "path" key)."""
            try:
                return service.ask_json(question, k, outlets, date_from, date_to, include_undated, rerank, collapse)
            except QAError as error:  # the caller's mistake: a clear message, no traceback on the console
                raise gr.Error(error_line(error, service.retriever.index_dir), print_exception=False) from None

        gr.api(ask_api, api_name="ask")
    return demo
