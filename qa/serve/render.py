"""Answers and index facts as text for people (the JSON shape lives in ``to_dict`` methods)."""

from __future__ import annotations

import shutil
import textwrap

from qa.index.dense import DenseInfo
from qa.index.manifest import Manifest, QdrantInfo
from qa.records import Answer, Hit
from qa.serve.export import Asked, undated_note
from qa.settings import NO_HITS, NOT_CONFIDENT, RRF_FUSION

OCR_NOTE = "OCR text, read from a scanned page: check it against the original before quoting"
SKIPPED_SHOWN = 200  # skipped files `qa info` lists one per line
_BOLD, _RESET = "\033[1;33m", "\033[0m"


def _marked(hit: Hit, color: bool) -> str:
    start, end = hit.highlight
    open_mark, close_mark = (_BOLD, _RESET) if color else ("**", "**")
    text = hit.passage.text
    return text[:start] + open_mark + text[start:end] + close_mark + text[end:]


def format_hit(hit: Hit, color: bool = False, width: int | None = None) -> str:
    width = width or min(100, shutil.get_terminal_size((100, 20)).columns)
    scores = ", ".join(f"{name} {value:.3f}" for name, value in hit.scores.items())
    head = f"{hit.rank}. {hit.citation}" + (f"\n   {hit.article.url}" if hit.article.url else "")
    if hit.passage.ocr:
        head += f"\n   [{OCR_NOTE}]"
    body = "\n".join(
        textwrap.fill(line, width, initial_indent="   ", subsequent_indent="   ")
        for line in _marked(hit, color).split("\n")
    )
    if hit.also_in:
        body += "\n   Also ran in:" + "".join(f"\n   – {copy.citation}" for copy in hit.also_in)
    return f"{head}\n{body}\n   score {hit.score:.4f} ({scores})"


def correction_note(answer: Answer) -> str | None:
    """ "Showing results for Gujranwala (you typed Gujranwla)." when spelling correction changed the question."""
    if not answer.corrections:
        return None
    words = ", ".join(f"{fix.searched} (you typed {fix.typed})" for fix in answer.corrections)
    return f"Showing results for {words}."


def format_answer(answer: Answer, color: bool = False) -> str:
    lines = [f"Q: {answer.question}"]
    note = correction_note(answer)
    if note:
        lines[0] += f"\n{note}"
    if answer.undated_excluded:
        lines.append(f"{undated_note(answer.undated_excluded)} Add --include-undated to search undated articles too.")
    if not answer.hits:
        lines.append(NO_HITS)
    elif not answer.confident:
        lines.append(NOT_CONFIDENT)
    lines.extend(format_hit(hit, color) for hit in answer.hits)
    return "\n\n".join(lines)


def format_asked(asked: Asked, color: bool = False) -> str:
    """A question of a batch (with its id) and its answer, or the error it got."""
    if asked.answer is None:
        label = f" [{asked.id}]" if asked.id else ""
        return f"Q{label}: {asked.question}\nerror: {asked.error}"
    text = format_answer(asked.answer, color)
    return text.replace("Q: ", f"Q [{asked.id}]: ", 1) if asked.id else text


def _describe_dense(dense: DenseInfo | None) -> str:
    if dense is None or dense.exact:
        return "exact (FAISS IndexFlatIP)"
    check = dense.check
    measured = f"; recall@10 {check.recall_at_10:.3f} on {check.probes} sentence probes" if check else ""
    cells = f"{dense.nprobe} of {dense.nlist} cells searched"
    return f"approximate (FAISS {dense.index}, {cells}, exact re-ranking{measured})"


def _describe_copies(manifest: Manifest) -> str:
    copies = manifest.duplicates
    if copies is None:
        return "not grouped (rebuild to group them)"
    return (
        f"{copies.grouped_passages:,} passages in {copies.groups:,} groups "
        f"(word-pair Jaccard ≥ {copies.threshold}, MinHash LSH, {copies.num_perm} permutations)"
    )


def _describe_qdrant(info: QdrantInfo) -> str:
    where = info.url or f"local folder {info.path}"
    weights = "tf parts, Qdrant's IDF modifier" if info.sparse == "idf" else "BM25 weights"
    return f"Qdrant collection {info.collection} (alias {info.alias}) at {where}; sparse vectors: {weights}"


def format_manifest(manifest: Manifest, index_dir: str) -> str:
    model = manifest.model
    if model is None:
        semantic = f"off — {manifest.semantic_off_reason}"
    elif model.self_trained is not None:
        trained = model.self_trained
        semantic = (
            f"on — {manifest.semantic_layer()}: {trained.steps:,} steps over {trained.pairs:,} pairs, "
            f"seed {trained.seed}"
            + (
                " — stopped early: the machine was too busy to finish in time; rebuild to retrain"
                if trained.stopped_early
                else ""
            )
        )
    else:
        revision = f", revision {model.revision[:12]}" if model.revision else ""
        semantic = f"on — {model.name} (pretrained, {model.dimension} dimensions{revision})"
    fusion = manifest.fusion or RRF_FUSION
    lexical = manifest.lexical
    rows = [
        ("index", index_dir),
        ("mode", manifest.mode),
        ("semantic search", semantic),
        ("query prompt", repr(model.query_prompt) if model else "—"),
        ("vector index", _describe_dense(manifest.dense) if model and manifest.qdrant is None else "—"),
        *([("search backend", _describe_qdrant(manifest.qdrant))] if manifest.qdrant is not None else []),
        (
            "hybrid fusion",
            (
                f"score interpolation, lexical weight {fusion.lexical_weight}"
                if fusion.method == "interpolation"
                else f"reciprocal rank fusion, k = {fusion.k}"
            )
            if model
            else "—",
        ),
        (
            "lexical",
            f"BM25 {lexical.method} k1={lexical.k1} b={lexical.b}, "
            f"stopwords {lexical.stopwords}, stemmer {lexical.stemmer}",
        ),
        ("articles", str(manifest.articles)),
        ("passages", str(manifest.passages)),
        ("wire copies", _describe_copies(manifest)),
        ("passage size", f"≤ {manifest.chunking.max_tokens} tokens ({manifest.chunking.token_counter})"),
        ("corpus", f"{manifest.corpus.path} ({len(manifest.corpus.files)} files)"),
        ("built", f"{manifest.created_at} by qa {manifest.qa_version} (index format {manifest.format_version})"),
        ("libraries", ", ".join(f"{name} {version}" for name, version in manifest.versions.items())),
    ]
    skipped = manifest.skipped()
    rows.append(("skipped", f"{len(skipped)} file(s), not indexed" + (":" if skipped else "")))
    width = max(len(name) for name, _ in rows)
    lines = [f"{name:<{width}}  {value}" for name, value in rows]
    lines.extend(f"  {skip.path}: {skip.reason}" for skip in skipped[:SKIPPED_SHOWN])
    if len(skipped) > SKIPPED_SHOWN:
        lines.append(f"  … and {len(skipped) - SKIPPED_SHOWN:,} more (qa info --json lists them all)")
    return "\n".join(lines)
