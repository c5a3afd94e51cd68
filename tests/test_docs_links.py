"""The README and docs/ link to files and headings that exist, and the configuration page is complete."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]

FENCE = re.compile(r"^(```|~~~).*?^\1", re.DOTALL | re.MULTILINE)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def prose(text: str) -> str:
    """The text a reader sees as links: fenced blocks out, inline code reduced to its words."""
    text = FENCE.sub("", text)
    return INLINE_CODE.sub(lambda m: m.group(0).strip("`"), text)


def github_anchor(heading: str) -> str:
    """The id GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = INLINE_CODE.sub(lambda m: m.group(0).strip("`"), heading).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    found: set[str] = set()
    for heading in HEADING.findall(FENCE.sub("", page.read_text(encoding="utf-8"))):
        base = github_anchor(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def relative_links(page: Path) -> list[str]:
    return [
        target for target in LINK.findall(prose(page.read_text(encoding="utf-8")))
        if not re.match(r"^[a-z][a-z0-9+.-]*:", target)
    ]


def test_the_pages_exist_and_link_somewhere():
    assert (ROOT / "README.md").is_file()
    assert len(PAGES) > 1
    assert all(relative_links(page) for page in PAGES)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_resolves_to_a_file_and_heading(page: Path):
    broken = []
    for target in relative_links(page):
        path_part, _, fragment = target.partition("#")
        target_path = (page.parent / path_part).resolve() if path_part else page
        if not target_path.exists():
            broken.append(f"{target}: no file {target_path}")
        elif fragment and target_path.suffix == ".md" and fragment not in anchors(target_path):
            broken.append(f"{target}: no heading #{fragment} in {target_path.name}")
    assert broken == []


def test_readme_links_every_docs_page():
    linked = {
        (ROOT / target.partition("#")[0]).resolve()
        for target in relative_links(ROOT / "README.md")
    }
    unlinked = [page.name for page in DOCS.glob("*.md") if page.resolve() not in linked]
    assert unlinked == []


def test_configuration_page_lists_every_setting_the_app_reads():
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", (DOCS / "configuration.md").read_text(encoding="utf-8")))
    names = {field.alias or name.upper() for name, field in Settings.model_fields.items()}
    assert names - documented == set()


def test_github_anchor_drops_punctuation_and_code_marks():
    assert github_anchor("The studio's API (`gradio_client`)") == "the-studios-api-gradio_client"
    assert github_anchor("The app↔worker contract") == "the-appworker-contract"
    assert github_anchor("`doctor`") == "doctor"
