"""The README's backend table says what the backend table in the code says."""

from pathlib import Path

from portrait_style.engine.backends import BACKENDS

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_lists_every_backend_row_with_its_precisions_and_options():
    rows = [line for line in README.read_text().splitlines() if line.startswith("| `")]
    table = {}
    for line in rows:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 5 and cells[0].strip("`") in {k.name for k in BACKENDS}:
            device = cells[1].split(",")[0]
            table[(cells[0].strip("`"), device)] = (cells[2], cells[3])
    assert list(table) == [(k.name, k.device) for k in BACKENDS]  # same rows, same order
    for kind in BACKENDS:
        precisions, options = table[(kind.name, kind.device)]
        assert precisions == ", ".join(kind.precisions), kind
        assert options == ", ".join(kind.options), kind
