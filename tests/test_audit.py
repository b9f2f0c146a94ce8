"""The audit log: where it is, how to turn it off, and what one line records."""

from __future__ import annotations

import json

from qa.search.retriever import Retriever
from qa.serve.audit import AuditLog, read_audit


def test_audit_log_location_is_documented_and_can_be_turned_off(user_data_dir, monkeypatch, tmp_path):
    assert AuditLog.default().path == user_data_dir / "audit.jsonl"
    monkeypatch.setenv("QA_AUDIT_LOG", str(tmp_path / "mine.jsonl"))
    assert AuditLog.default().path == tmp_path / "mine.jsonl"
    monkeypatch.setenv("QA_AUDIT_LOG", "off")
    assert AuditLog.default() is None


def test_a_record_pins_question_filters_index_and_citations(newsroom_index, tmp_path):
    retriever = Retriever.load(newsroom_index)
    options = {"outlets": ["Metro Post"], "date_from": None, "rerank": False, "collapse": True}
    answer = retriever.ask("Who rescued families from rooftops?", k=2, **options)
    log = AuditLog(tmp_path / "sub" / "audit.jsonl")
    log.record(answer, source="cli", retriever=retriever, options=options, k=2)
    (line,) = read_audit(log.path)
    assert set(line) == {
        "time",
        "source",
        "question",
        "filters",
        "k",
        "mode",
        "index",
        "manifest_checksum",
        "confident",
        "citations",
    }
    assert line["source"] == "cli" and line["k"] == 2
    assert line["filters"] == {"outlets": ["Metro Post"], "collapse": True}
    recorded = json.loads((newsroom_index / "manifest.json").read_text())["checksum"]
    assert line["manifest_checksum"] == recorded and line["index"] == str(newsroom_index.resolve())
    first = line["citations"][0]
    hit = answer.hits[0]
    assert first == {
        "rank": 1,
        "citation": hit.full_citation,
        "article_id": hit.article.id,
        "paragraph": hit.passage.paragraph,
        "char_start": hit.passage.char_start,
        "char_end": hit.passage.char_end,
        "passage_sha256": hit.passage.sha256,
    }
    assert json.loads(log.path.read_text().splitlines()[0]) == line


def test_an_unwritable_log_warns_once_and_answers_anyway(newsroom_index, tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("")
    log = AuditLog(blocker / "audit.jsonl")  # a folder that cannot exist
    retriever = Retriever.load(newsroom_index)
    answer = retriever.ask("levy", k=1)
    for _ in range(2):
        log.record(answer, source="api", retriever=retriever, options={}, k=1)
    warnings = [r.getMessage() for r in caplog.records if "audit log" in r.getMessage()]
    assert len(warnings) == 1 and "cannot be written" in warnings[0] and "QA_AUDIT_LOG" in warnings[0]
