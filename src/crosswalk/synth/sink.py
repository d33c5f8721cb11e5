"""Writing a state chunk by chunk, so memory stays flat however many people there are.

CSV extracts are appended (the header once), Parquet files grow by row groups through one
writer each, and the small Excel extracts are buffered and written at the end.
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import xlsxwriter

from crosswalk.synth.extracts import Extract


class Sink:
    def __init__(self) -> None:
        self._parquet: dict[Path, pq.ParquetWriter] = {}
        self._excel: dict[Path, tuple[Extract, list[pl.DataFrame]]] = {}
        self._csv_started: set[Path] = set()
        self.rows: dict[Path, int] = {}

    def extract(self, e: Extract, frame: pl.DataFrame, path: Path) -> None:
        self.rows[path] = self.rows.get(path, 0) + len(frame)
        if e.format == "xlsx":
            self._excel.setdefault(path, (e, []))[1].append(frame)
        elif e.format == "parquet":
            self.parquet(frame, path)
        else:
            buf = io.BytesIO()
            frame.write_csv(
                buf,
                separator=e.delimiter,
                null_value="",
                include_header=path not in self._csv_started,
            )
            data = buf.getvalue()
            if e.encoding != "utf-8":
                text = data.decode("utf-8")
                data = text.encode("latin-1") if e.encoding == "latin-1" else text.encode("utf-8")
                if e.encoding == "utf-8-sig" and path not in self._csv_started:
                    data = b"\xef\xbb\xbf" + data
            with path.open("ab" if path in self._csv_started else "wb") as f:
                f.write(data)
            self._csv_started.add(path)

    def parquet(self, frame: pl.DataFrame, path: Path) -> None:
        table = frame.to_arrow()
        writer = self._parquet.get(path)
        if writer is None:
            schema = pa.schema(
                [
                    f.with_type(pa.string())
                    if pa.types.is_null(f.type) or pa.types.is_large_string(f.type)
                    else f
                    for f in table.schema
                ]
            )
            writer = pq.ParquetWriter(path, schema, compression="zstd", write_statistics=False)
            self._parquet[path] = writer
        writer.write_table(table.cast(writer.schema))

    def close(self) -> None:
        for writer in self._parquet.values():
            writer.close()
        for path, (_, frames) in self._excel.items():
            write_excel(pl.concat(frames), path)
        self._parquet.clear()
        self._excel.clear()


def write_excel(frame: pl.DataFrame, path: Path) -> None:
    """One worksheet named after the file, with a fixed creation time so bytes repeat."""
    workbook = xlsxwriter.Workbook(str(path))
    workbook.set_properties({"created": datetime(2026, 1, 1)})
    frame.write_excel(workbook=workbook, worksheet=path.stem, autofit=False, table_style=None)
    workbook.close()


def write(e: Extract, frame: pl.DataFrame, path: Path) -> None:
    """Write one whole extract file in the agency's format."""
    sink = Sink()
    sink.extract(e, frame, path)
    sink.close()
