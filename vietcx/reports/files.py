"""Writing rows to CSV, XLSX or JSON, batch by batch, so exports of any size stay small in memory."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from pathlib import Path

from tqdm import tqdm

FORMATS = ("csv", "xlsx", "json")


def write_rows(
    batches: Iterable[list[dict]], columns: list[str], fmt: str, out: Path, total: int, progress: bool = True
) -> int:
    """Writes every batch to `out` in `fmt` with a progress bar; returns the number of rows."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with tqdm(total=total, unit="rows", disable=not progress, desc=f"export {out.name}") as bar:
        if fmt == "csv":
            with open(
                out, "w", encoding="utf-8-sig", newline=""
            ) as handle:  # BOM: Excel shows Vietnamese right
                table = csv.DictWriter(handle, fieldnames=columns)
                table.writeheader()
                for batch in batches:
                    table.writerows(batch)
                    written += len(batch)
                    bar.update(len(batch))
        elif fmt == "json":
            with open(out, "w", encoding="utf-8") as handle:
                handle.write("[")
                for batch in batches:
                    for row in batch:
                        handle.write(
                            ("\n" if written == 0 else ",\n")
                            + json.dumps(row, ensure_ascii=False, default=str)
                        )
                        written += 1
                    bar.update(len(batch))
                handle.write("\n]\n")
        else:
            import xlsxwriter

            book = xlsxwriter.Workbook(str(out), {"constant_memory": True, "strings_to_urls": False})
            sheet = book.add_worksheet(out.stem[:31] or "data")
            sheet.write_row(0, 0, columns)
            for batch in batches:
                for row in batch:
                    written += 1
                    sheet.write_row(written, 0, [row[column] for column in columns])
                bar.update(len(batch))
            book.close()
    return written
