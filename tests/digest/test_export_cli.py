"""`roundtable export` and `roundtable digest` as a facilitator runs them, on the demo round."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from docx import Document

from tests.helpers import run_cli


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    folder = tmp_path_factory.mktemp("demo")
    result = run_cli("demo", "--dir", str(folder), cwd=folder)
    assert result.returncode == 0, result.stderr
    assert f"Synthesis export: {folder / 'round-1-synthesis.md'}" in result.stdout
    assert f"Synthesis export: {folder / 'round-1-synthesis.docx'}" in result.stdout
    assert "New since the last digest:" in result.stdout
    return folder, {"DATABASE_URL": f"sqlite:///{folder / 'roundtable-demo.db'}"}


def test_it_exports_word_by_default_name_in_the_current_folder(
    demo: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    _, env = demo
    result = run_cli("export", "--round", "1", "--format", "docx", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    path = Path(result.stdout.strip())
    assert path == tmp_path / "round-1-synthesis.docx"
    word = Document(str(path))
    headings = [p.text for p in word.paragraphs if p.style.name.startswith("Heading")]
    assert any("Who needs to be bought in" in h for h in headings)


def test_it_exports_markdown_with_its_chart_csv_and_html(
    demo: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    _, env = demo
    md = run_cli("export", "--round", "1", "--format", "md", "--out", str(tmp_path / "s.md"),
             cwd=tmp_path, env=env)
    assert md.returncode == 0, md.stderr
    assert md.stdout.splitlines() == [str(tmp_path / "s.md"),
                                      str(tmp_path / "round-1-support-factors.png")]
    assert md.stderr == ""  # the folder was there
    text = (tmp_path / "s.md").read_text(encoding="utf-8")
    assert "](<round-1-support-factors.png>)" in text
    assert (tmp_path / "round-1-support-factors.png").read_bytes().startswith(b"\x89PNG")
    out = run_cli("export", "--round", "1", "--format", "csv", cwd=tmp_path, env=env)
    rows = list(csv.DictReader(io.StringIO(Path(out.stdout.strip()).read_text("utf-8-sig"))))
    assert len(rows) == 71 and rows[0]["role"]  # the demo is by role: no names
    html = run_cli("export", "--round", "1", "--format", "html", cwd=tmp_path, env=env)
    assert Path(html.stdout.strip()).read_text("utf-8").startswith("<!DOCTYPE html>")


def test_an_export_into_a_folder_not_there_yet_says_it_made_it_and_each_file_written(
    demo: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    _, env = demo
    md = run_cli("export", "--round", "1", "--format", "md", "--out", "board/march/s.md",
                 cwd=tmp_path, env=env)
    assert md.returncode == 0, md.stderr
    assert md.stderr == "Created the folder board\n"
    assert md.stdout.splitlines() == ["board/march/s.md",
                                      "board/march/round-1-support-factors.png"]
    assert sorted(p.name for p in (tmp_path / "board/march").iterdir()) == [
        "round-1-support-factors.png", "s.md"]
    again = run_cli("export", "--round", "1", "--format", "csv", "--out", "board/all.csv",
                    cwd=tmp_path, env=env)
    assert (again.stdout, again.stderr) == ("board/all.csv\n", "")


def test_it_prints_the_digest_as_markdown_json_and_slack_blocks(
    demo: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    _, env = demo
    blocks = run_cli("digest", "--round", "1", "--format", "blocks", cwd=tmp_path, env=env)
    assert blocks.returncode == 0, blocks.stderr
    messages = json.loads(blocks.stdout)
    assert len(messages) == 7 and all(m["text"] and len(m["blocks"]) <= 50 for m in messages)
    as_json = run_cli("digest", "--round", "1", "--format", "json", cwd=tmp_path, env=env)
    data = json.loads(as_json.stdout)
    assert data["since_last"]["previous_period"] == "demo-week-1"
    md = run_cli("digest", "--round", "1", "--format", "md", cwd=tmp_path, env=env)
    assert md.stdout.startswith("# SEL pharmacy system leadership")


def test_it_says_what_posting_needs_without_slack_settings(
    demo: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    _, env = demo
    result = run_cli("digest", "--round", "1", "--post", cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert result.stderr.startswith("roundtable: ") and "SLACK_BOT_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr


def test_it_refuses_an_unknown_round_in_one_line(
    demo: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    _, env = demo
    result = run_cli("export", "--round", "99", "--format", "md", cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert result.stderr.strip() == "roundtable: there is no round 99"


def test_it_posts_the_digest_to_slack_and_records_it_as_the_new_baseline(
    tmp_path: Path,
) -> None:
    from tests.slack_api_stub import SlackStub

    assert run_cli("demo", "--dir", str(tmp_path), cwd=tmp_path).returncode == 0
    stub = SlackStub()
    stub.add_channel("C0DEMOLEAD", [])
    stub.start()
    try:
        env = {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'roundtable-demo.db'}",
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": "secret",
            "SLACK_API_URL": stub.base_url,
        }
        posted = run_cli("digest", "--round", "1", "--post", cwd=tmp_path, env=env)
        assert posted.returncode == 0, posted.stderr
        assert len(stub.posted("C0DEMOLEAD")) == 7
        assert stub.violations == []
    finally:
        stub.stop()
    again = run_cli("digest", "--round", "1", "--format", "json", cwd=tmp_path, env=env)
    after = json.loads(again.stdout)
    assert after["since_last"]["previous_period"].startswith("posted-")
    assert after["since_last"]["new_answers"] == 0
