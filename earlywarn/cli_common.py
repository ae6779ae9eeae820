"""What every command-line module shares: the two consoles, the progress bar, dates from options."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

err = Console(stderr=True)
out = Console()


def progress_bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err, transient=False)


def today():
    from earlywarn.config import local_today

    return local_today()


def parse_day(value: str, option: str):
    """A date option, or a Chinese message naming the option and exit code 2."""
    from earlywarn.parsing import parse_date

    try:
        return parse_date(value)
    except ValueError as exc:
        err.print(f"[red]{option}：{exc}[/red]")
        raise typer.Exit(2) from None
