from crosswalk.errors import AccessDenied, InputFileError, MappingError, Problem, ProblemCollector


def test_problem_names_file_row_and_field():
    p = Problem("not a date", file="clients.csv", row=17, field="DOB", value="13/45/1990")
    assert str(p) == "clients.csv, row 17, field 'DOB': not a date"


def test_error_lists_every_problem():
    c = ProblemCollector()
    c.add("unknown key", file="hfs.yaml", row=3, field="colums")
    c.add("missing key", file="hfs.yaml", field="source_record_id")
    try:
        c.raise_if_any(MappingError, "hfs.yaml is not a valid mapping")
    except MappingError as e:
        text = str(e)
        assert "row 3" in text and "source_record_id" in text
        assert e.to_dict()["status"] == 422
        assert len(e.to_dict()["problems"]) == 2
    else:
        raise AssertionError("expected MappingError")


def test_no_problems_no_error():
    ProblemCollector().raise_if_any(InputFileError, "never raised")


def test_access_denied_is_403():
    assert AccessDenied("no").to_dict()["status"] == 403
