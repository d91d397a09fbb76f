"""The quality bench reads a labelled file of someone else's as it comes from a spreadsheet."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LABELLED = ROOT / "bench" / "data" / "2026-12-04-keep-staff.csv"  # one question, six themes
BENCH = ROOT / "bench" / "digest_quality.py"


def bench(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(BENCH), "--no-loqo", *map(str, args)],
                          capture_output=True, text=True, timeout=300, check=False)


def question_row(output: str, prompt: str) -> list[str]:
    rows = [line for line in output.splitlines() if line.startswith(f"| {prompt} |")]
    assert rows, output
    return [cell.strip() for cell in rows[0].strip("|").split("|")]


def test_a_spreadsheets_file_with_its_own_labels_and_question_is_scored(tmp_path: Path) -> None:
    with LABELLED.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    non_answers = sum(r["theme"] == "noise" for r in rows)
    assert non_answers >= 2
    theirs = tmp_path / "theirs.csv"
    # Excel's "CSV UTF-8": a byte-order mark; their own headings and label for a non-answer.
    with theirs.open("w", newline="", encoding="utf-8-sig") as f:
        out = csv.writer(f)
        out.writerow(["ID", " Prompt_ID", "Theme", "Role", "Text", "Question"])
        for r in rows:
            out.writerow([r["id"], "their-question",
                          "Not an answer" if r["theme"] == "noise" else r["theme"],
                          r["role"], r["text"],
                          "What would keep pharmacy staff in their posts?"])

    run = bench("--data", theirs, "--non-answer-label", "not an answer")

    assert run.returncode == 0, run.stderr
    cells = question_row(run.stdout, "their-question")
    assert cells[5].endswith(f"/{non_answers}")  # non-answers set aside, of those labelled
    assert int(cells[3].split("/")[1].split()[0]) == len(
        {r["theme"] for r in rows} - {"noise"})  # themes recovered, of those labelled


def test_a_file_without_the_needed_columns_is_refused_in_a_line(tmp_path: Path) -> None:
    theirs = tmp_path / "theirs.csv"
    theirs.write_text("id,prompt_id,answer\n1,q,Protected time\n", encoding="utf-8")

    run = bench("--data", theirs)

    assert run.returncode != 0
    assert run.stderr.strip().splitlines() == [
        f"digest_quality: {theirs}: no column theme, text (a labelled file has id, prompt_id, "
        "theme, text; role and question are optional)"]
