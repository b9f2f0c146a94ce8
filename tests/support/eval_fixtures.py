"""Tiny evaluation datasets written to disk in the real formats: a BEIR folder and a SQuAD v1.1 file."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

BEIR_DOCS = [
    ("d1", "Vitamin D and bone density", "Vitamin D supplements increase bone mineral density in older adults."),
    ("d2", "Statins and muscle pain", "Statin therapy is associated with muscle pain in a minority of patients."),
    ("d3", "Coffee and sleep", "Drinking coffee late in the day delays sleep onset and shortens deep sleep."),
    ("d4", "Exercise and mood", "Regular aerobic exercise reduces symptoms of depression and anxiety."),
    ("d5", "", "Smoking damages the lungs and raises the risk of lung cancer."),
    ("d6", "Salt and blood pressure", "A diet high in salt raises blood pressure in most adults."),
]
BEIR_QUERIES = [
    ("q1", "Vitamin D supplements improve bone density."),
    ("q2", "Statins cause muscle pain."),
    ("q3", "Coffee delays sleep."),
    ("q4", "Smoking causes lung cancer."),
    ("q5", "High salt intake raises blood pressure."),
    ("q9", "A query with judgements only in the train split."),
]
BEIR_TEST = [("q1", "d1", 1), ("q2", "d2", 1), ("q3", "d3", 1), ("q4", "d5", 1), ("q4", "d3", 0), ("q5", "d6", 2)]
BEIR_TRAIN = [("q9", "d4", 1)]


def write_beir(folder: Path, gzipped: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = "".join(json.dumps({"_id": i, "title": t, "text": x, "metadata": {}}) + "\n" for i, t, x in BEIR_DOCS)
    if gzipped:
        with gzip.open(folder / "corpus.jsonl.gz", "wt", encoding="utf-8") as handle:
            handle.write(lines)
    else:
        (folder / "corpus.jsonl").write_text(lines, encoding="utf-8")
    (folder / "queries.jsonl").write_text(
        "".join(json.dumps({"_id": i, "text": t, "metadata": {}}) + "\n" for i, t in BEIR_QUERIES), encoding="utf-8"
    )
    (folder / "qrels").mkdir(exist_ok=True)
    for split, rows in (("test", BEIR_TEST), ("train", BEIR_TRAIN)):
        text = "query-id\tcorpus-id\tscore\r\n" + "".join(f"{q}\t{d}\t{s}\r\n" for q, d, s in rows)
        (folder / "qrels" / f"{split}.tsv").write_bytes(text.encode())
    return folder


SQUAD_ARTICLES = [
    (
        "Super_Bowl_50",
        [
            (
                "Super Bowl 50 was an American football game to determine the champion of the National Football "
                "League for the 2015 season. The Denver Broncos defeated the Carolina Panthers 24 to 10.",
                ["Which team won Super Bowl 50?", "Who lost to the Denver Broncos?"],
            ),
            (
                "The game was played on February 7, 2016, at Levi's Stadium in Santa Clara, California.",
                ["Where was Super Bowl 50 played?"],
            ),
        ],
    ),
    (
        "Oxygen",
        [
            (
                "Oxygen is a chemical element with symbol O and atomic number 8. It is a highly reactive nonmetal.",
                ["What is the atomic number of oxygen?"],
            ),
            (
                "Oxygen was discovered independently by Carl Wilhelm Scheele and Joseph Priestley in the 1770s.",
                ["Who discovered oxygen?"],
            ),
        ],
    ),
    (
        "Warsaw",
        [
            (
                "Warsaw is the capital and largest city of Poland, standing on the Vistula River.",
                ["On which river does Warsaw stand?"],
            ),
        ],
    ),
]


def write_squad(path: Path) -> Path:
    data = []
    number = 0
    for title, paragraphs in SQUAD_ARTICLES:
        entry = {"title": title, "paragraphs": []}
        for context, questions in paragraphs:
            qas = []
            for question in questions:
                number += 1
                qas.append({"id": f"id{number}", "question": question, "answers": [{"text": "x", "answer_start": 0}]})
            entry["paragraphs"].append({"context": context, "qas": qas})
        data.append(entry)
    path.write_text(json.dumps({"data": data, "version": "1.1"}), encoding="utf-8")
    return path
