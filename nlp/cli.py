"""`parcours` command line: `parcours analyze reviews.csv --text-column avis -o analysed.jsonl`."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, TextIO

import typer
from tqdm import tqdm

from nlp.errors import ParcoursError
from nlp.readers import FeedbackRow, RowError, read_rows

# markdown: help paragraphs are reflowed to the terminal's width (in "rich" mode a docstring's own line breaks stay)
cli = typer.Typer(
    help="Parcours: customer feedback to a customer-journey map.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
)


def _version(shown: bool) -> None:
    if shown:
        from importlib import metadata

        try:
            version = metadata.version("parcours")
        except metadata.PackageNotFoundError:
            version = "dev (not installed)"
        typer.echo(f"parcours {version}")
        raise typer.Exit()


@cli.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Parcours: customer feedback to a customer-journey map."""


@cli.command()
def analyze(
    input_path: Annotated[Path, typer.Argument(metavar="INPUT", help="A CSV export or a .jsonl file.")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Output .jsonl (default: stdout).")] = None,
    text_column: Annotated[str | None, typer.Option(help="Column (or JSON field) holding the text.")] = None,
    id_column: Annotated[str | None, typer.Option(help="Column holding the id (default: the row number).")] = None,
    model: Annotated[str | None, typer.Option(help="Model name under models/ or a model directory.")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Texts analysed per batch.")] = 256,
) -> None:
    """Analyse every row of INPUT into journey segments and mentions, one JSON line per valid row.

    Rows that cannot be read are reported on stderr with their line number and skipped; the exit
    code is 1 when any row was rejected, 2 when the file itself cannot be read.
    """
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    from nlp.pipeline import load_pipeline

    errors: list[RowError] = []

    def valid_rows() -> Iterator[tuple[str, str]]:
        for item in read_rows(input_path, text_column, id_column):
            if isinstance(item, RowError):
                errors.append(item)
                where = f" (column '{item.column}')" if item.column else ""
                typer.echo(f"{input_path}:{item.line}{where}: {item.reason}; row skipped", err=True)
            else:
                assert isinstance(item, FeedbackRow)
                yield item.id, item.text

    try:
        pipeline = load_pipeline(model)
        sink: TextIO = output.open("w", encoding="utf-8") if output else sys.stdout
        written = 0
        with tqdm(desc="analysing", unit=" rows", file=sys.stderr, disable=None) as progress:
            for analysis in pipeline.analyze_stream(valid_rows(), batch_size=batch_size):
                sink.write(json.dumps(analysis.to_dict(), ensure_ascii=False) + "\n")
                written += 1
                progress.update(1)
        if output:
            sink.close()
    except ParcoursError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error
    typer.echo(f"{written} rows analysed, {len(errors)} rejected", err=True)
    if errors:
        raise typer.Exit(1)


def main() -> None:
    """Run the `parcours` command line."""
    cli()
