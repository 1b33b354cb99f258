"""Docs are executable: every command, option and setting is documented."""

from __future__ import annotations

import click

from matcher.cli import cli
from matcher.settings import SETTINGS
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def commands(group: click.Group, prefix: str = "matcher"):
    for name, cmd in group.commands.items():
        yield f"{prefix} {name}", cmd
        if isinstance(cmd, click.Group):
            yield from commands(cmd, f"{prefix} {name}")


def test_every_command_in_readme_with_help_and_example():
    for full_name, cmd in commands(cli):
        assert f"`{full_name}" in README, f"{full_name} fehlt in README.md"
        assert cmd.help and "Beispiel:" in cmd.help, f"{full_name}: Hilfetext mit Beispiel fehlt"


def test_every_option_in_readme():
    for full_name, cmd in commands(cli):
        for param in cmd.params:
            if isinstance(param, click.Option):
                assert param.opts[-1] in README or param.opts[0] in README, (
                    f"{full_name} {param.opts[0]} fehlt in README.md")


def test_every_setting_in_readme():
    for s in SETTINGS:
        assert f"`{s.name}`" in README and f"`{s.env_var}`" in README, s.name


def test_quick_start_has_the_two_commands():
    quick = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert "make run" in quick and "make test" in quick


def test_every_generated_section_of_the_docs_appears_once():
    """A script rewrites only the first copy of a section, so a second copy would go stale."""
    import re
    from collections import Counter

    for doc in [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]:
        text = doc.read_text(encoding="utf-8")
        starts = Counter(re.findall(r"<!-- ([\w-]+):start -->", text))
        ends = Counter(re.findall(r"<!-- ([\w-]+):end -->", text))
        assert starts == ends, doc.name
        assert [name for name, n in starts.items() if n > 1] == [], doc.name
