"""The `confident` rule: its evidence, its per-model thresholds, and calibrating it with and without the answers."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from qa.evaluate.calibration import Evidence, fit_rule, leave_out_units
from qa.evaluate.evaldata import load_eval_set
from qa.search import confidence
from qa.search.confidence import DEFAULT_MIN_COVERAGE, ConfidenceRule, rule_for
from qa.search.retriever import Retriever
from qa.serve.cli import main
from tests.support.eval_fixtures import write_beir, write_squad


def _evidence(coverage, cosine=None):
    cosine = [math.nan] * len(coverage) if cosine is None else cosine
    return Evidence(np.array(coverage, dtype=float), np.array(cosine, dtype=float))


@pytest.mark.parametrize(
    "rule,coverage,cosine,expected",
    [
        (ConfidenceRule(0.5), 0.5, None, True),
        (ConfidenceRule(0.5), 0.49, None, False),
        (ConfidenceRule(0.5), 0.49, 0.99, False),  # no cosine threshold: a cosine is no evidence
        (ConfidenceRule(0.5, 0.8), 0.1, 0.8, True),
        (ConfidenceRule(0.5, 0.8), 0.1, 0.79, False),
        (ConfidenceRule(0.5, 0.8), 0.1, None, False),
    ],
)
def test_rule_decides_on_coverage_or_a_calibrated_cosine(rule, coverage, cosine, expected):
    assert rule.decide(coverage, cosine) is expected
    assert bool(_evidence([coverage], [math.nan if cosine is None else cosine]).decide(rule)[0]) is expected


def test_fit_keeps_false_alarms_under_the_limit_and_catches_the_most():
    answerable = _evidence([0.2, 0.55, 0.6, 0.7, 0.8, 0.9, 0.9, 1.0, 1.0, 1.0])
    unanswerable = _evidence([0.1, 0.3, 0.4, 0.5, 0.6, 0.65, 0.3, 0.2, 0.1, 0.0])
    # 10 % allowed: one answerable question (0.2) may fall below; the threshold is the next coverage, 0.55
    assert fit_rule(answerable, unanswerable, 0.10) == ConfidenceRule(0.55, None)
    assert fit_rule(answerable, unanswerable, 0.0) == ConfidenceRule(0.2, None)


def test_fit_uses_a_cosine_only_when_it_catches_more():
    # answerable questions with low coverage have high cosines: a cosine rescue lets the coverage bar rise
    answerable = _evidence([0.1, 0.2, 0.9, 0.9, 0.95, 1.0], [0.9, 0.85, 0.5, 0.6, 0.7, 0.8])
    unanswerable = _evidence([0.3, 0.5, 0.6, 0.7, 0.8, 0.4], [0.2, 0.3, 0.1, 0.2, 0.3, 0.25])
    rule = fit_rule(answerable, unanswerable, 0.0)
    assert rule == ConfidenceRule(1.0, 0.5)  # every answerable question rescued by its cosine, none unanswerable
    assert answerable.decide(rule).all() and not unanswerable.decide(rule).any()


def test_leave_out_units_are_squad_articles(tmp_path):
    eval_set = load_eval_set(write_squad(tmp_path / "dev.json"))
    units = leave_out_units(eval_set)
    assert [(groups, numbers) for groups, numbers in units] == [({"1"}, [0, 1, 2]), ({"2"}, [3, 4]), ({"3"}, [5])]


def test_too_many_sources_become_one_build_without_all_of_them(tmp_path):
    eval_set = load_eval_set(write_beir(tmp_path / "beir"))
    assert leave_out_units(eval_set, max_rebuilds=2) == [({"d1", "d2", "d3", "d5", "d6"}, [0, 1, 2, 3, 4])]


def test_rule_for_a_model_and_mode_comes_from_the_per_model_table(monkeypatch):
    default = ConfidenceRule(DEFAULT_MIN_COVERAGE, None)
    assert rule_for(None, "hybrid") == rule_for("some/uncalibrated-model", "dense") == default
    monkeypatch.setitem(confidence.MODEL_RULES, "some/model", {"dense": ConfidenceRule(0.2, 0.62)})
    assert rule_for("some/model", "dense") == ConfidenceRule(0.2, 0.62)
    assert rule_for("some/model", "hybrid") == rule_for("some/model", "lexical") == default


def test_evidence_is_what_the_rule_sees(lexical_index):
    retriever = Retriever.load(lexical_index)
    answer = retriever.ask("How many traffickers did the FIA arrest in Gujranwala?", k=3)
    coverage, cosine = retriever.evidence(answer.question, answer.hits)
    # every informative word but "many" is in the answering paragraph
    assert DEFAULT_MIN_COVERAGE < coverage < 1.0 and cosine is None and answer.confident
    coverage, _ = retriever.evidence("boiling point of liquid nitrogen", retriever.search("boiling nitrogen", k=3))
    assert coverage < DEFAULT_MIN_COVERAGE


def test_a_calibrated_model_cosine_rescues_a_question_without_shared_words(hybrid_index, static_model_dir, monkeypatch):
    question = "zzyzx quixotic frobnication"  # no word of it is in the corpus: coverage 0
    plain = Retriever.load(hybrid_index)
    assert plain.confidence_rule("hybrid").min_cosine is None and not plain.ask(question, k=3).confident
    name = plain.manifest.model.name
    monkeypatch.setitem(confidence.MODEL_RULES, name, {"hybrid": ConfidenceRule(DEFAULT_MIN_COVERAGE, -1.0)})
    calibrated = Retriever.load(hybrid_index)
    assert calibrated.confidence_rule("hybrid").min_cosine == -1.0
    assert calibrated.ask(question, k=3, mode="hybrid").confident
    assert not calibrated.ask(question, k=3, mode="lexical").confident  # lexical mode: the lexical rule


def test_keyword_answers_weigh_cosines_when_their_calibrated_rule_does(hybrid_index, monkeypatch):
    """A linear lexical-mode rule needs the hits' cosines: the question is then encoded even in lexical mode."""
    question = "Who lobbied the embassy in Beijing?"
    plain = Retriever.load(hybrid_index)
    assert all("dense" not in hit.scores for hit in plain.ask(question, k=3, mode="lexical").hits)
    assert not plain.ask("Beijing zzyzx quixotic frobnication", k=3, mode="lexical").confident
    name = plain.manifest.model.name
    rule = ConfidenceRule(coverage_weight=0.0, cosine_weight=1.0, bias=2.0)  # confident whenever there is a cosine
    monkeypatch.setitem(confidence.MODEL_RULES, name, {"lexical": rule})
    calibrated = Retriever.load(hybrid_index)
    answer = calibrated.ask("Beijing zzyzx quixotic frobnication", k=3, mode="lexical")  # low coverage
    assert answer.confident and all("dense" in hit.scores for hit in answer.hits)
    assert calibrated.rank_many([question], k=3, mode="lexical")[0][0].tolist() == [
        plain.passages.index(hit.passage) for hit in plain.ask(question, k=3, mode="lexical").hits
    ]


def test_eval_confidence_reports_both_rates(tmp_path, capsys):
    assert main(["eval", str(write_squad(tmp_path / "dev.json")), "--confidence", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)["confidence"]["lexical"]
    assert found["rule"] == {"min_coverage": DEFAULT_MIN_COVERAGE, "min_cosine": None}
    assert (found["questions"], found["rebuilds"]) == (6, 3)
    # every question shares its key words with its own paragraph only: removing its article removes them
    assert (found["not_confident_answerable"], found["not_confident_unanswerable"]) == (0.0, 1.0)
    assert found["fitted"]["not_confident_answerable"] == 0.0


def test_an_explicit_rule_applies_in_every_mode(hybrid_index):
    strict = Retriever.load(hybrid_index)
    strict.confidence = ConfidenceRule(1.01)
    assert not strict.ask("How many traffickers did the FIA arrest in Gujranwala?", k=3, mode="hybrid").confident


def test_eval_confidence_per_mode_with_a_tiny_model(tmp_path, capsys, static_model_dir):
    squad = write_squad(tmp_path / "dev.json")
    args = ["eval", str(squad), "--mode", "lexical", "--mode", "hybrid", "--model", str(static_model_dir)]
    assert main([*args, "--confidence"]) == 0
    out = capsys.readouterr().out
    assert "\nlexical  in use (coverage ≥ 0.46)" in out and "\nhybrid   in use (coverage ≥ 0.46)" in out
    assert "(6 questions; 3 rebuilds without their source)" in out


def test_linear_rule_is_fitted_when_cosines_separate_what_coverage_cannot():
    """Coverage alone cannot tell these apart; a cosine can: the fitted rule uses both, within the false-alarm limit."""
    rng = np.random.default_rng(0)
    coverage = rng.uniform(0.2, 0.9, 400)
    answerable = Evidence(coverage, rng.uniform(0.45, 0.9, 400))
    unanswerable = Evidence(rng.uniform(0.2, 0.9, 400), rng.uniform(0.1, 0.5, 400))
    rule = fit_rule(answerable, unanswerable, 0.04)
    assert rule.linear and rule.cosine_weight > 0
    assert 1 - answerable.decide(rule).mean() <= 0.04 + 1e-9
    assert 1 - unanswerable.decide(rule).mean() > 0.8
    assert rule.decide(0.5, 0.9) and not rule.decide(0.5, 0.1) and rule.decide(0.5, None) == (rule.min_coverage <= 0.5)
