"""What the pages say of a file the drop zone refused (``presenters.uploads``)."""

from kei_drive.presenters.uploads import MAX_GPX_MB, refused_files


def test_each_refused_file_is_named_with_what_to_do():
    lines = refused_files(
        [
            {"name": "year.gpx", "codes": ["file-too-large"]},
            {"name": "photo.jpg", "codes": ["file-invalid-type"]},
            {"name": "odd.gpx", "codes": ["custom"]},
            "not a record",
        ]
    )
    assert lines[0].startswith(f"year.gpx: larger than the {MAX_GPX_MB} MB")
    assert "kei-drive trips import" in lines[0]
    assert lines[1] == "photo.jpg: not a GPX file (.gpx)"
    assert lines[2] == "odd.gpx: not sent (custom)"
    assert lines[3] == "a file: not sent (refused)"
    assert refused_files([], "hint") == []
