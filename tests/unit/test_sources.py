"""Recipients files: formats, suffixes, gzip, row numbers of bad rows, URIs and object storage."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest

from airflow_provider_tencent_sms.compact import CompactAudience, compact_audience
from airflow_provider_tencent_sms.sources import format_of, open_recipients, read_rows


def audience_of(path: Path | str, fmt: str | None = None, **kwargs: object) -> CompactAudience:
    with open_recipients(path) as stream:
        return compact_audience(read_rows(stream, format_of(str(path), fmt), **kwargs))  # type: ignore[arg-type]


def numbers(audience: CompactAudience) -> list[str]:
    return [f"+{n}" for part in audience.parts for n in part.numbers]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("list.csv", "csv"),
        ("LIST.CSV", "csv"),
        ("list.csv.gz", "csv"),
        ("s3://bucket/export/list.jsonl", "jsonl"),
        ("list.ndjson.gz", "jsonl"),
        ("numbers.txt", "text"),
    ],
)
def test_format_from_the_suffix(name: str, expected: str) -> None:
    assert format_of(name) == expected


def test_an_unknown_suffix_asks_for_recipients_format() -> None:
    with pytest.raises(ValueError, match="recipients_format='csv'"):
        format_of("export.dat")
    assert format_of("export.dat", "text") == "text"
    with pytest.raises(ValueError, match="must be one of csv, jsonl, text"):
        format_of("list.csv", "xlsx")


def test_csv_with_header_local_formats_and_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text(
        "name,phone_number\nA,+8613800138000\nB,138 0013 8001\nC,+8613800138000\nD,+16502530000\n",
        encoding="utf-8",
    )
    audience = audience_of(path)
    assert sorted(numbers(audience)) == ["+16502530000", "+8613800138000", "+8613800138001"]
    assert audience.duplicates == 1
    assert {part.mainland_china for part in audience.parts} == {True, False}
    assert all(part.mainland_china == (part.numbers[0] // 10**11 == 86) for part in audience.parts)


def test_a_spreadsheet_byte_order_mark_does_not_rename_the_first_column(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("phone_number,name\r\n+8613800138000,A\r\n".encode("utf-8-sig"))
    assert numbers(audience_of(path)) == ["+8613800138000"]


def test_personalised_csv_groups_rows_by_their_parameters(tmp_path: Path) -> None:
    path = tmp_path / "codes.csv"
    path.write_text(
        'phone_number,name,code\n+8613800138000,"Li, Wei",1234\n+8613800138001,Wang,99\n'
        '+8613800138002,Wang,99\n+8613800138000,"Li, Wei",1234\n'
    )
    audience = audience_of(path, param_columns=["name", "code"])
    groups = {part.params: sorted(f"+{n}" for n in part.numbers) for part in audience.parts}
    assert groups == {
        ("Li, Wei", "1234"): ["+8613800138000"],
        ("Wang", "99"): ["+8613800138001", "+8613800138002"],
    }
    assert audience.duplicates == 1


def test_a_single_parameter_column(tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    path.write_text("phone_number,code\n+8613800138000,42\n")
    assert [part.params for part in audience_of(path, param_columns=["code"]).parts] == [("42",)]


def test_the_same_number_with_two_parameter_sets_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "clash.csv"
    path.write_text("phone_number,code\n+8613800138000,1\n+8613800138000,2\n")
    with pytest.raises(ValueError, match=r"\+86138\*\*\*\*8000 is in more than one row"):
        audience_of(path, param_columns=["code"])


def test_an_empty_parameter_names_its_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("phone_number,code\n+8613800138000,1\n+8613800138001,\n")
    with pytest.raises(ValueError, match="Row 3: column 'code' is an empty string"):
        audience_of(path, param_columns=["code"])
    audience = audience_of(path, param_columns=["code"], allow_empty_params=True)
    assert sorted(part.params for part in audience.parts) == [("",), ("1",)]


def test_a_csv_header_without_the_columns_says_which(tmp_path: Path) -> None:
    path = tmp_path / "no-phone.csv"
    path.write_text("mobile,name\n+8613800138000,A\n")
    with pytest.raises(ValueError, match="no column 'phone_number'"):
        audience_of(path)
    with pytest.raises(ValueError, match="no column 'code'"):
        audience_of(_write(tmp_path, "p.csv", "phone_number\n1\n"), param_columns=["code"])


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_bad_rows_and_invalid_numbers_are_reported_by_row_masked(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "bad.csv",
        "name,phone_number\nA,+8613800138000\nB,12345\nshort\n\nC,+8613800138001\nD,not a number 13800138002\n",
    )
    audience = audience_of(path)
    assert numbers(audience) == ["+8613800138000", "+8613800138001"]
    assert audience.invalid_count == 3
    assert audience.positions_are_rows
    # Rows as a person counts them: the header is row 1, the blank line (row 5) is skipped, not invalid.
    assert audience.invalid_entries == (
        (3, "****45"),
        (4, "(has 1 fields where the header needs 2)"),
        (7, "138****8002"),
    )
    assert "13800138002" not in repr(audience.invalid_entries)


def test_jsonl_with_parameters_and_bad_lines(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "list.jsonl",
        '{"phone_number": "+8613800138000", "code": 1234}\n'
        "\n"
        "not json\n"
        '{"phone_number": 8613800138001, "code": "99"}\n'
        '["+8613800138002"]\n',
    )
    audience = audience_of(path, param_columns=["code"])
    assert {part.params: [f"+{n}" for n in part.numbers] for part in audience.parts} == {
        ("1234",): ["+8613800138000"],
        ("99",): ["+8613800138001"],
    }
    assert audience.invalid_entries == (
        (3, "(is not valid JSON)"),
        (5, "(is not a JSON object with a 'phone_number' string)"),
    )


def test_jsonl_row_without_a_parameter_key_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "list.jsonl", '{"phone_number": "+8613800138000"}\n')
    with pytest.raises(ValueError, match="Row 1 has no key 'code'"):
        audience_of(path, param_columns=["code"])


def test_plain_text_skips_blank_lines_and_counts_them_in_row_numbers(tmp_path: Path) -> None:
    path = _write(tmp_path, "numbers.txt", "+8613800138000\n\n  13800138001  \nabc\n")
    audience = audience_of(path)
    assert numbers(audience) == ["+8613800138000", "+8613800138001"]
    assert audience.invalid_entries == ((4, "****"),)


def test_plain_text_takes_no_parameters() -> None:
    with pytest.raises(ValueError, match="use CSV or JSON Lines"):
        read_rows(io.StringIO(""), "text", ["code"])


def test_gzip_files_are_read_as_a_stream(tmp_path: Path) -> None:
    path = tmp_path / "list.csv.gz"
    with gzip.open(path, "wt") as out:
        out.write("phone_number\n")
        out.writelines(f"+86138{i:08d}\n" for i in range(70_000))
    audience = audience_of(path)
    assert audience.recipients == 70_000


def test_chunks_keep_row_numbers_across_chunk_boundaries(tmp_path: Path) -> None:
    lines = ["+8613800138000"] * 65_540 + ["bad"]
    path = _write(tmp_path, "many.txt", "\n".join(lines) + "\n")
    audience = audience_of(path)
    assert audience.duplicates == 65_539
    assert audience.invalid_entries == ((65_541, "****"),)


def test_file_uri_and_object_storage_path(tmp_path: Path) -> None:
    from airflow.sdk import ObjectStoragePath

    path = _write(tmp_path, "list.txt", "+8613800138000\n")
    assert numbers(audience_of(path.as_uri())) == ["+8613800138000"]
    assert numbers(audience_of(ObjectStoragePath(path.as_uri()))) == ["+8613800138000"]  # type: ignore[arg-type]


def test_a_non_local_filesystem_through_object_storage() -> None:
    """fsspec's in-memory filesystem stands in for s3:// or gs://: the same code path, no local file."""
    import fsspec
    from airflow.sdk import ObjectStoragePath
    from airflow.sdk.io import attach

    memory = fsspec.filesystem("memory")
    memory.pipe("/campaign/list.csv.gz", gzip.compress(b"phone_number\n+8613800138000\n+16502530000\n"))
    attach("memory", fs=memory)
    try:
        audience = audience_of(ObjectStoragePath("memory:///campaign/list.csv.gz"))  # type: ignore[arg-type]
        assert sorted(numbers(audience)) == ["+16502530000", "+8613800138000"]
    finally:
        memory.rm("/campaign", recursive=True)


def test_crlf_lines_and_a_quoted_field_with_a_line_break(tmp_path: Path) -> None:
    crlf = _write(tmp_path, "crlf.csv", "")
    crlf.write_bytes(b"phone_number,name\r\n+8613800138000,A\r\n\r\n+8613800138001,B\r\n")
    assert numbers(audience_of(crlf)) == ["+8613800138000", "+8613800138001"]
    quoted = _write(tmp_path, "quoted.csv", 'name,phone_number\n"two\nlines",+8613800138000\nB,bad\n')
    audience = audience_of(quoted)
    assert numbers(audience) == ["+8613800138000"]
    # A record with a line break inside is one row.
    assert audience.invalid_entries == ((3, "****"),)
