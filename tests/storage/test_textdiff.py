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


def test_runs_of_changed_words_are_grouped_like_git_word_diff() -> None:
    """Words changed one after another are one change, not one bracket pair per word."""
    old = "Port strike: container ships queue offshore as the strike enters week two."
    new = "Port strike: talks with harbor board collapse as the strike enters week two."
    assert render_plain(diff_words(old, new)) == (
        "Port strike: [-container ships queue offshore-]{+talks with harbor board collapse+} "
        "as the strike enters week two."
    )


def test_a_word_that_stays_still_separates_two_changes() -> None:
    assert render_plain(diff_words("a b c d e", "a x c y e")) == "a [-b-]{+x+} c [-d-]{+y+} e"


def test_a_line_break_still_separates_two_changes() -> None:
    """Paragraphs stay visible: a run of changes ends at a line break."""
    plain = render_plain(diff_words("One two\nthree four", "One six\nseven four"))
    assert plain == "One [-two-]{+six+}\n[-three-]{+seven+} four"


def test_a_replacement_loses_no_character_of_either_text() -> None:
    """A space only the old text had stays inside the old run: the old text reads
    "days while", not "dayswhile"."""
    old = "stopped work for eight days while ships wait at anchor."
    new = "stopped work for eight days; talks with the board broke down."
    segments = diff_words(old, new)
    assert render_plain(segments) == (
        "stopped work for eight days[- while ships wait at anchor-]"
        "{+; talks with the board broke down+}."
    )
    assert "".join(s.text for s in segments if s.op != "insert") == old
    assert "".join(s.text for s in segments if s.op != "delete") == new
