"""The bounded memo of answers to client-chosen input (util/memo.py)."""

from events_app.util.memo import ClientMemo


def test_kept_answers_are_plain_lookups_none_included() -> None:
    memo: ClientMemo[str, str | None] = ClientMemo(3)
    memo.keep("es-ES", "es")
    memo.keep("xx", None)
    assert memo["es-ES"] == "es"
    assert "xx" in memo and memo["xx"] is None
    assert memo.get("fr") is None and "fr" not in memo


def test_a_full_memo_is_emptied_before_the_next_answer() -> None:
    memo: ClientMemo[int, int] = ClientMemo(3)
    for n in range(3):
        memo.keep(n, n * n)
    assert len(memo) == 3
    memo.keep(3, 9)
    assert dict(memo) == {3: 9}
    memo.keep(3, 10)  # a new answer for a kept key replaces it
    assert dict(memo) == {3: 10}
