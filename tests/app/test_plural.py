from bot.app.plural import counted


def test_one_is_singular_and_every_other_count_plural() -> None:
    assert counted(1, "problem") == "1 problem"
    assert counted(0, "problem") == "0 problems"
    assert counted(2, "check") == "2 checks"
    assert counted(12_345, "byte") == "12,345 bytes"
    assert counted(3, "copy", "copies") == "3 copies"
