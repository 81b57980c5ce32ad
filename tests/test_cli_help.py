"""Every flag of every command says in ``--help`` what it does and what it is by default (issue 23):
the test walks each parser below ``softcut`` (commands and their subcommands)."""

from __future__ import annotations

import argparse

from softcut_app.cli import build_parser, subparsers

NOT_FLAGS = (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction)


def _entries(parser: argparse.ArgumentParser) -> dict[str, str]:
    """Each argument's entry in ``parser``'s formatted help, by its first name, unwrapped."""
    formatter = parser._get_formatter()
    entries = {}
    for action in parser._actions:
        if isinstance(action, NOT_FLAGS):
            continue
        text = formatter._expand_help(action) if action.help else ""
        entries[(action.option_strings or [action.dest])[0]] = " ".join(text.split())
    return entries


def test_every_argument_has_a_description():
    missing = [f"{p.prog} {name}" for p in subparsers(build_parser()) for name, text in _entries(p).items() if not text]
    assert missing == []


def test_every_optional_flag_shows_its_default():
    missing = []
    for parser in subparsers(build_parser()):
        entries = _entries(parser)
        for action in parser._actions:
            if isinstance(action, NOT_FLAGS) or not action.option_strings or action.required:
                continue
            if "default" not in entries[action.option_strings[0]]:
                missing.append(f"{parser.prog} {action.option_strings[0]}")
    assert missing == []


def test_the_defaults_shown_are_the_real_ones():
    parser = build_parser()
    cut = next(p for p in subparsers(parser) if p.prog.endswith(" cut"))
    text = " ".join(cut.format_help().split())
    defaults = vars(parser.parse_args(["cut", "a.png", "-o", "b.png"]))
    assert f"(default: {defaults['refine']})" in text and f"(default: {defaults['device']})" in text
    assert "(information-flow matting)" in text and "where the model runs" in text  # --refine, --device described
    assert "(default: off)" in text  # a switch


def test_help_prints_for_every_command(capsys):
    import pytest

    for parser in subparsers(build_parser()):
        with pytest.raises(SystemExit) as stop:
            parser.parse_args(["--help"])
        assert stop.value.code == 0
        assert "usage:" in capsys.readouterr().out


def test_building_the_parser_imports_no_matting_code():
    """``softcut`` starts fast, so a bad input is refused at once: the parser alone imports neither the
    Object Selection code nor pymatting, and --sam's default is core's."""
    import subprocess
    import sys

    from core.objects.sam import DEFAULT_SAM
    from softcut_app.commands.objects import DEFAULT_SAM as CLI_DEFAULT_SAM

    assert CLI_DEFAULT_SAM == DEFAULT_SAM
    code = "import sys; from softcut_app.cli import build_parser; build_parser(); " \
           "print(sorted(m for m in sys.modules if m.startswith(('core.objects', 'pymatting', 'core.subject'))))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
