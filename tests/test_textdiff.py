"""Word-level diffs of versions."""

from __future__ import annotations

from storage.textdiff import diff_words, render_plain


def test_changed_word_is_marked_alone() -> None:
    segments = diff_words("The strike began nine days ago.", "The strike began eight days ago.")
    assert render_plain(segments) == "The strike began [-nine-]{+eight+} days ago."


def test_punctuation_is_its_own_token() -> None:
    assert render_plain(diff_words("Mara Lindqvist", "Mara Lindqvist, Tom Okafor")) == (
        "Mara Lindqvist{+, Tom Okafor+}"
    )


def test_added_paragraph_keeps_its_line_break_outside_the_marks() -> None:
    plain = render_plain(diff_words("One.\nTwo.", "One.\nTwo.\nCorrection: three."))
    assert plain == "One.\nTwo.\n{+Correction: three.+}"


def test_identical_text_has_no_changes() -> None:
    assert all(s.op == "equal" for s in diff_words("same words", "same words"))


def test_removed_word_keeps_the_spacing() -> None:
    assert render_plain(diff_words("a b c", "a c")) == "a [-b-] c"


def test_removed_paragraph_stays_on_its_own_line() -> None:
    assert render_plain(diff_words("One.\nTwo.", "One.")) == "One.\n[-Two.-]"
