"""Wire copies: near-identical passages of different articles are grouped; quotes and short lines are not."""

from __future__ import annotations

import numpy as np
import pytest

from qa.index.duplicates import NO_GROUP, DuplicateSettings, group_duplicates, group_members, jaccard, shingle_hashes

STORY = (
    "The flood barriers along the Riverton embankment failed on Tuesday night after three days of record "
    "rainfall, forcing the evacuation of more than two thousand residents from the lower town."
)


def _words(text: str) -> list[str]:
    return text.lower().replace(",", " ").replace(".", " ").split()


def test_shingles_are_stable_distinct_word_pairs():
    words = _words("one two three four one two")
    hashes = shingle_hashes(words, 2)
    assert len(hashes) == 4  # 5 pairs, one repeated
    assert np.array_equal(hashes, np.unique(hashes))
    assert np.array_equal(hashes, shingle_hashes(words, 2))
    assert len(shingle_hashes(["word"], 2)) == 1  # shorter than a shingle: one shingle of all
    assert jaccard(hashes, hashes) == 1.0


def test_copies_across_articles_group_and_other_passages_do_not():
    texts = [
        STORY,  # 0: the wire original, article 0
        "RIVERTON (AW) — " + STORY,  # 1: a dateline added, article 1
        STORY.replace("residents", "people"),  # 2: a word changed, article 2
        "Asked about the night, the mayor said: " + STORY[:80] + " and more besides, she added later.",  # 3: a quote
        STORY,  # 4: the same paragraph again in article 0 — not a copy elsewhere by itself
        "The ministry did not respond to a request for comment.",  # 5: short, article 3
        "The ministry did not respond to a request for comment.",  # 6: short, article 4
    ]
    owners = [0, 1, 2, 5, 0, 3, 4]
    groups = group_duplicates(texts, owners)
    assert groups[0] == groups[1] == groups[2] == groups[4] != NO_GROUP
    assert groups[3] == groups[5] == groups[6] == NO_GROUP
    assert group_members(groups) == {int(groups[0]): pytest.approx(np.array([0, 1, 2, 4]))}


def test_the_same_text_twice_in_one_article_is_not_a_wire_copy():
    assert list(group_duplicates([STORY, STORY], [7, 7])) == [NO_GROUP, NO_GROUP]


def test_threshold_decides_on_the_exact_jaccard():
    edited = STORY.replace("record rainfall", "heavy rain").replace("lower town", "old harbour district")
    similarity = jaccard(shingle_hashes(_words(STORY), 2), shingle_hashes(_words(edited), 2))  # 5 words of 30 changed
    assert 0.3 < similarity < 0.8
    assert list(group_duplicates([STORY, edited], [0, 1])) == [NO_GROUP, NO_GROUP]
    loose = DuplicateSettings(threshold=0.3)
    assert list(group_duplicates([STORY, edited], [0, 1], loose)) == [0, 0]


def test_group_numbers_follow_first_rows_and_repeat_run_to_run():
    other = "Emergency shelters opened in three schools and the municipal sports hall, the regional government said."
    texts = [other, STORY, other, STORY, "unrelated text " * 10]
    first = group_duplicates(texts, [0, 1, 2, 3, 4])
    assert list(first) == [0, 1, 0, 1, NO_GROUP]
    assert np.array_equal(first, group_duplicates(texts, [0, 1, 2, 3, 4]))
