"""How each of the 13 agencies shapes its extract, and the writers that produce them.

``EXTRACTS`` is data: for every agency, the file format, delimiter, encoding, column
names, name convention, date format, SSN form, sex codes and program codes. Ingest
mappings are written against it and tests check the files against it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from crosswalk.synth import reference as ref


@dataclass(frozen=True)
class Extract:
    agency: str
    format: str  # csv, parquet or xlsx
    client_columns: dict[str, str]  # logical field -> the agency's column name
    event_columns: dict[str, str]
    program_codes: dict[str, str]  # common program -> the agency's code
    sex_codes: dict[str, str]  # M/F/U -> the agency's code
    delimiter: str = ","
    encoding: str = "utf-8"  # utf-8, utf-8-sig (with BOM) or latin-1
    name_style: str = "separate"  # separate, last_first ("LAST, FIRST M") or first_last
    name_case: str = "upper"  # upper or title
    accents: bool = False  # the agency's clerks type Spanish accents (JOSÉ)
    date_format: str = "%Y-%m-%d"
    event_date_format: str = "%Y-%m-%d"
    ssn_style: str = "dashed"  # dashed, digits, last4 or none
    phone_style: str = "dashed"  # dashed, paren, digits or none
    address_style: str = "separate"  # separate or single
    id_prefix: str = ""
    id_width: int = 8
    notes: str = field(default="", compare=False)

    def file(self, kind: str) -> str:
        return f"{kind}.{self.format}"


def _cols(**kw: str) -> dict[str, str]:
    return kw


_SEX_MF = {"M": "M", "F": "F", "U": "U"}
_SEX_NUM = {"M": "1", "F": "2", "U": "9"}
_SEX_WORD = {"M": "Male", "F": "Female", "U": "Unknown"}
_SEX_X = {"M": "M", "F": "F", "U": "X"}
_EVENTS_STD = _cols(
    event_id="EVENT_ID",
    client_id="CLIENT_ID",
    program="PROGRAM",
    service_type="SERVICE_TYPE",
    start="START_DATE",
    end="END_DATE",
    amount="AMOUNT",
    county="COUNTY",
)

EXTRACTS: dict[str, Extract] = {
    e.agency: e
    for e in (
        Extract(
            "hfs",
            "parquet",
            _cols(
                client_id="RECIP_ID",
                first="FIRST_NM",
                middle="MID_INIT",
                last="LAST_NM",
                suffix="SFX",
                dob="BIRTH_DT",
                sex="GENDER_CD",
                ssn="SSN",
                street="ADDR_LINE1",
                city="CITY",
                state="ST",
                zip="ZIP5",
                county="COUNTY_NM",
                phone="PHONE_NUM",
                case_id="CASE_NO",
                medicaid_id="RECIP_ID",
            ),
            _cols(
                event_id="ELIG_SPAN_ID",
                client_id="RECIP_ID",
                program="PGM_CD",
                service_type="ELIG_TYPE",
                start="ELIG_BEGIN",
                end="ELIG_END",
                amount="PAID_AMT",
                county="COUNTY_NM",
            ),
            {"MEDICAID": "MA"},
            _SEX_MF,
            id_prefix="R",
            id_width=9,
            date_format="%Y%m%d",
            event_date_format="%Y%m%d",
            ssn_style="digits",
            phone_style="digits",
            notes="Medicaid eligibility: the recipient id is the Medicaid id.",
        ),
        Extract(
            "fcs",
            "csv",
            _cols(
                client_id="Client ID",
                name="Client Name",
                dob="Date of Birth",
                sex="Sex",
                ssn="SSN",
                street="Street",
                city="City",
                state="State",
                zip="Zip",
                county="County",
                phone="Phone",
                case_id="Case Number",
                household_id="Household ID",
                medicaid_id="Medicaid ID",
            ),
            _cols(
                event_id="Benefit ID",
                client_id="Client ID",
                program="Program",
                service_type="Benefit Type",
                start="Begin Date",
                end="End Date",
                amount="Monthly Amount",
                county="County",
            ),
            {"SNAP": "FS", "TANF": "CA"},
            _SEX_MF,
            name_style="last_first",
            date_format="%m/%d/%Y",
            event_date_format="%m/%d/%Y",
            id_prefix="FC",
            phone_style="paren",
            notes="SNAP and TANF cases; the whole name in one field as 'LAST, FIRST M'.",
        ),
        Extract(
            "sud",
            "csv",
            _cols(
                client_id="PATIENT_NO",
                first="FNAME",
                last="LNAME",
                dob="DOB",
                sex="SEX",
                ssn="SSN4",
                zip="ZIP",
                county="COUNTY",
                medicaid_id="MCD_ID",
            ),
            _cols(
                event_id="ADMISSION_NO",
                client_id="PATIENT_NO",
                program="PROGRAM",
                service_type="LEVEL_OF_CARE",
                start="ADMIT_DT",
                end="DISCHARGE_DT",
                amount="BILLED",
                county="COUNTY",
            ),
            {"SUD_TREATMENT": "SUPR"},
            _SEX_NUM,
            delimiter="|",
            date_format="%m/%d/%Y",
            event_date_format="%m/%d/%Y",
            ssn_style="last4",
            phone_style="none",
            address_style="zip_only",
            id_prefix="SU",
            notes="Substance-use treatment (42 CFR Part 2): last 4 of SSN only, no street address.",
        ),
        Extract(
            "mh",
            "csv",
            _cols(
                client_id="consumer_id",
                first="first_name",
                middle="middle_name",
                last="last_name",
                dob="birth_date",
                sex="gender",
                ssn="ssn",
                address="address",
                county="county",
                phone="phone",
                medicaid_id="medicaid_no",
            ),
            _cols(
                event_id="episode_id",
                client_id="consumer_id",
                program="program_code",
                service_type="service",
                start="open_date",
                end="close_date",
                amount="cost",
                county="county",
            ),
            {"MENTAL_HEALTH": "31"},
            _SEX_WORD,
            delimiter="\t",
            encoding="utf-8-sig",
            name_case="title",
            address_style="single",
            id_prefix="MH",
            notes="Mental health; tab-separated UTF-8 with BOM; one address field.",
        ),
        Extract(
            "dd",
            "xlsx",
            _cols(
                client_id="Individual ID",
                first="First Name",
                last="Last Name",
                dob="DOB",
                sex="Gender",
                ssn="SSN",
                street="Address",
                city="City",
                state="State",
                zip="ZIP",
                county="County",
                phone="Phone",
                medicaid_id="Medicaid #",
            ),
            _cols(
                event_id="Service ID",
                client_id="Individual ID",
                program="Program",
                service_type="Setting",
                start="Start",
                end="End",
                amount="Annual Cost",
                county="County",
            ),
            {"DD_SERVICES": "DDW"},
            _SEX_WORD,
            date_format="%m/%d/%Y",
            event_date_format="%m/%d/%Y",
            name_case="title",
            id_prefix="DD",
            notes="Developmental disabilities; an Excel workbook per file.",
        ),
        Extract(
            "dcfs",
            "csv",
            _cols(
                client_id="PERSON_ID",
                name="FULL_NAME",
                dob="DOB",
                sex="SEX",
                ssn="SSN",
                street="ADDRESS",
                city="CITY",
                zip="ZIP",
                county="COUNTY",
                case_id="CASE_ID",
                household_id="HOME_ID",
                medicaid_id="MEDICAID_ID",
            ),
            _cols(
                event_id="SPELL_ID",
                client_id="PERSON_ID",
                program="SERVICE_CAT",
                service_type="PLACEMENT_TYPE",
                start="SPELL_BEGIN",
                end="SPELL_END",
                amount="MONTHLY_RATE",
                county="COUNTY",
                household_id="PLACEMENT_HOME",
            ),
            {"CHILD_PROTECTIVE": "INV", "FOSTER_CARE": "SUB"},
            _SEX_MF,
            delimiter=";",
            encoding="latin-1",
            name_style="first_last",
            accents=True,
            date_format="%d-%b-%Y",
            event_date_format="%d-%b-%Y",
            id_prefix="",
            id_width=7,
            notes="Child welfare; ';'-separated Latin-1; 'FIRST M LAST' in one field.",
        ),
        Extract(
            "aging",
            "xlsx",
            _cols(
                client_id="Participant",
                first="First",
                last="Last",
                dob="Birthdate",
                sex="Sex",
                ssn="SSN",
                street="Street Address",
                city="City",
                zip="Zip",
                county="County",
                phone="Phone",
            ),
            _cols(
                event_id="Plan ID",
                client_id="Participant",
                program="Program",
                service_type="Service",
                start="Plan Start",
                end="Plan End",
                amount="Monthly Cost",
                county="County",
            ),
            {"AGING_IN_HOME": "CCP", "ADULT_PROTECTIVE": "APS"},
            _SEX_MF,
            date_format="%m/%d/%Y",
            event_date_format="%m/%d/%Y",
            name_case="title",
            id_prefix="AG",
            notes="Community care and adult protective services; Excel.",
        ),
        Extract(
            "idph",
            "parquet",
            _cols(
                client_id="registrant_id",
                first="given_name",
                middle="middle_name",
                last="family_name",
                dob="date_of_birth",
                sex="sex",
                ssn="ssn",
                street="residence_street",
                city="residence_city",
                zip="zip",
                county="county",
                mother_first="mother_given_name",
                mother_last="mother_maiden_name",
                mother_dob="mother_birth_date",
            ),
            _cols(
                event_id="record_id",
                client_id="registrant_id",
                program="record_type",
                service_type="certificate",
                start="event_date",
                end="event_end",
                amount="benefit",
                county="county",
            ),
            {"BIRTH_RECORD": "B", "DEATH_RECORD": "D", "WIC": "WIC"},
            _SEX_X,
            accents=True,
            ssn_style="dashed",
            phone_style="none",
            id_prefix="VR",
            id_width=10,
            notes=(
                "Vital records and WIC: the residence on the certificate; SSN often absent for"
                " newborns; a child's certificate names the mother (given and maiden name, DOB)."
            ),
        ),
        Extract(
            "doc",
            "csv",
            _cols(
                client_id="IDOC_NO",
                name="OFFENDER_NAME",
                dob="DOB",
                sex="SEX",
                ssn="SSN",
                street="ADDRESS_AT_INTAKE",
                city="CITY_AT_INTAKE",
                zip="ZIP_AT_INTAKE",
                county="COMMITTING_COUNTY",
            ),
            _cols(
                event_id="CUSTODY_ID",
                client_id="IDOC_NO",
                program="CUSTODY_TYPE",
                service_type="FACILITY_TYPE",
                start="ADMIT_DATE",
                end="RELEASE_DATE",
                amount="RESTITUTION",
                county="COMMITTING_COUNTY",
            ),
            {"INCARCERATION": "ADM", "PAROLE": "MSR"},
            _SEX_MF,
            name_style="last_first",
            date_format="%m/%d/%Y",
            event_date_format="%m/%d/%Y",
            phone_style="none",
            id_prefix="N",
            id_width=6,
            notes="Adult corrections; the address the person gave at intake; name as 'LAST, FIRST M'.",
        ),
        Extract(
            "djj",
            "csv",
            _cols(
                client_id="youth_id",
                first="first",
                last="last",
                dob="dob",
                sex="sex",
                ssn="ssn",
                street="street",
                city="city",
                zip="zip",
                county="county",
                case_id="court_case",
            ),
            _cols(
                event_id="placement_id",
                client_id="youth_id",
                program="placement",
                service_type="setting",
                start="entry",
                end="exit",
                amount="cost",
                county="county",
            ),
            {"JUVENILE_DETENTION": "DET", "JUVENILE_PROBATION": "PROB"},
            _SEX_NUM,
            delimiter="|",
            encoding="latin-1",
            accents=True,
            date_format="%Y%m%d",
            event_date_format="%Y%m%d",
            name_case="title",
            phone_style="none",
            id_prefix="Y",
            notes="Juvenile justice; pipe-separated Latin-1.",
        ),
        Extract(
            "ides",
            "parquet",
            _cols(
                client_id="claimant_id",
                first="first_name",
                middle="middle_name",
                last="last_name",
                dob="birth_date",
                sex="sex",
                ssn="ssn",
                street="street",
                city="city",
                state="state",
                zip="zip",
                county="county",
                phone="phone",
            ),
            _cols(
                event_id="claim_id",
                client_id="claimant_id",
                program="program",
                service_type="claim_type",
                start="claim_date",
                end="exhaust_date",
                amount="weekly_benefit",
                county="county",
            ),
            {"UI_CLAIM": "UI"},
            _SEX_MF,
            ssn_style="digits",
            id_prefix="C",
            id_width=9,
            notes="Unemployment insurance claims.",
        ),
        Extract(
            "dva",
            "xlsx",
            _cols(
                client_id="Veteran ID",
                name="Veteran Name",
                dob="DOB",
                sex="Sex",
                ssn="SSN",
                address="Mailing Address",
                county="County",
                phone="Phone",
            ),
            _cols(
                event_id="Award ID",
                client_id="Veteran ID",
                program="Benefit",
                service_type="Award Type",
                start="Effective",
                end="Terminated",
                amount="Monthly Award",
                county="County",
            ),
            {"VETERAN_BENEFITS": "VB"},
            _SEX_WORD,
            name_style="last_first",
            name_case="title",
            date_format="%m/%d/%Y",
            event_date_format="%m/%d/%Y",
            address_style="single",
            id_prefix="V",
            notes="Veterans' benefits; Excel; one mailing-address field.",
        ),
        Extract(
            "housing",
            "csv",
            _cols(
                client_id="PersonalID",
                first="FirstName",
                middle="MiddleName",
                last="LastName",
                suffix="NameSuffix",
                dob="DOB",
                sex="Sex",
                ssn="SSN",
                zip="LastZip",
                county="County",
                household_id="HouseholdID",
            ),
            _cols(
                event_id="EnrollmentID",
                client_id="PersonalID",
                program="ProjectType",
                service_type="ServiceType",
                start="EntryDate",
                end="ExitDate",
                amount="Assistance",
                county="County",
            ),
            {"HOMELESS_SERVICES": "1", "HOUSING_ASSISTANCE": "3"},
            _SEX_X,
            ssn_style="digits",
            name_case="title",
            phone_style="none",
            address_style="zip_only",
            id_prefix="H",
            id_width=9,
            notes="Homeless management information system export; sex 'X' for unknown.",
        ),
    )
}


def _name_case(e: Extract, expr: pl.Expr) -> pl.Expr:
    if e.accents:
        expr = expr.replace(ref.ACCENTED)
    return expr.str.to_titlecase() if e.name_case == "title" else expr


def _names(e: Extract) -> list[pl.Expr]:
    c = e.client_columns
    first = _name_case(e, pl.col("first_name"))
    last = _name_case(e, pl.col("last_name"))
    middle = _name_case(e, pl.col("middle_name"))
    suffix = pl.col("name_suffix")
    if e.name_style == "separate":
        out = [first.alias(c["first"]), last.alias(c["last"])]
        if "middle" in c:
            out.append(
                (middle.str.slice(0, 1) if c["middle"] == "MID_INIT" else middle).alias(c["middle"])
            )
        if "suffix" in c:
            out.append(suffix.alias(c["suffix"]))
        else:
            out[1] = pl.concat_str([last, suffix], separator=" ", ignore_nulls=True).alias(
                c["last"]
            )
        return out
    initial = middle.str.slice(0, 1)
    if e.name_style == "last_first":
        whole = pl.concat_str(
            [
                pl.concat_str([last, suffix], separator=" ", ignore_nulls=True),
                pl.concat_str([first, initial], separator=" ", ignore_nulls=True),
            ],
            separator=", ",
        )
    else:
        whole = pl.concat_str([first, initial, last, suffix], separator=" ", ignore_nulls=True)
    return [whole.alias(c["name"])]


def _ssn(e: Extract) -> pl.Expr:
    s = pl.col("ssn_recorded")
    if e.ssn_style == "dashed":
        return pl.concat_str(
            [s.str.slice(0, 3), s.str.slice(3, 2), s.str.slice(5, 4)], separator="-"
        )
    if e.ssn_style == "last4":
        return s.str.slice(5, 4)
    return s


def _phone(e: Extract) -> pl.Expr:
    p = pl.col("phone")
    a, b, c = p.str.slice(0, 3), p.str.slice(3, 3), p.str.slice(6, 4)
    if e.phone_style == "paren":
        return pl.concat_str([pl.lit("("), a, pl.lit(") "), b, pl.lit("-"), c])
    if e.phone_style == "dashed":
        return pl.concat_str([a, b, c], separator="-")
    return p


def client_frame(e: Extract, records: pl.DataFrame) -> pl.DataFrame:
    """The agency's client extract, in its own columns and formats."""
    c = e.client_columns
    cid = pl.lit(e.id_prefix) + pl.col("client_seq").cast(pl.String).str.zfill(e.id_width)
    exprs: list[pl.Expr] = [cid.alias(c["client_id"]), *_names(e)]
    exprs.append(pl.col("dob").dt.strftime(e.date_format).alias(c["dob"]))
    exprs.append(pl.col("sex").replace_strict(e.sex_codes).alias(c["sex"]))
    if "ssn" in c:
        exprs.append(_ssn(e).alias(c["ssn"]))
    if e.address_style == "single":
        exprs.append(
            pl.concat_str(
                [
                    pl.col("address_line"),
                    pl.col("city"),
                    pl.concat_str([pl.lit(ref.STATE_CODE), pl.col("zip")], separator=" "),
                ],
                separator=", ",
            ).alias(c["address"])
        )
    elif e.address_style == "separate":
        exprs.append(pl.col("address_line").alias(c["street"]))
        exprs.append(pl.col("city").alias(c["city"]))
        if "state" in c:
            exprs.append(
                pl.when(pl.col("zip").is_not_null()).then(pl.lit(ref.STATE_CODE)).alias(c["state"])
            )
    if "zip" in c:
        exprs.append(pl.col("zip").alias(c["zip"]))
    if "county" in c:
        exprs.append(pl.col("county").alias(c["county"]))
    if "phone" in c and e.phone_style != "none":
        exprs.append(_phone(e).alias(c["phone"]))
    if "case_id" in c:
        exprs.append(
            (
                pl.lit(e.agency.upper() + "-")
                + (pl.col("household_id") * 7919 % 10_000_019).cast(pl.String)
            ).alias(c["case_id"])
        )
    if "household_id" in c:
        exprs.append(household_number("household_id").alias(c["household_id"]))
    if "medicaid_id" in c and c["medicaid_id"] != c["client_id"]:
        exprs.append(pl.col("medicaid_id").alias(c["medicaid_id"]))
    if "mother_first" in c:
        exprs.append(_name_case(e, pl.col("mother_first_name")).alias(c["mother_first"]))
        exprs.append(_name_case(e, pl.col("mother_last_name")).alias(c["mother_last"]))
        exprs.append(
            pl.from_epoch("mother_dob_day", time_unit="d")
            .dt.strftime(e.date_format)
            .alias(c["mother_dob"])
        )
    order = [
        name for name in dict.fromkeys(c.values()) if name in {x.meta.output_name() for x in exprs}
    ]
    return records.sort("client_seq").select(exprs).select(order)


def household_number(column: str) -> pl.Expr:
    """An agency's household id of a true household (the same in every agency that keeps one)."""
    return pl.lit("HH") + (pl.col(column) * 104_729 % 99_999_989).cast(pl.String)


def event_frame(e: Extract, events: pl.DataFrame) -> pl.DataFrame:
    c = e.event_columns
    fmt = e.event_date_format
    cid = pl.lit(e.id_prefix) + pl.col("client_seq").cast(pl.String).str.zfill(e.id_width)
    extra: list[pl.Expr] = []
    if "household_id" in c:
        # The home a placement is with; a batch without placements has the column empty.
        placed = (
            household_number("placement_household")
            if "placement_household" in events.columns
            else pl.lit(None, pl.String)
        )
        extra.append(placed.alias(c["household_id"]))
    return events.sort("event_seq").select(
        (pl.lit("E") + pl.col("event_seq").cast(pl.String).str.zfill(9)).alias(c["event_id"]),
        cid.alias(c["client_id"]),
        pl.when(pl.col("event_error") == "unknown_program")
        .then(pl.lit("ZZ9"))
        .otherwise(pl.col("program").replace_strict(e.program_codes))
        .alias(c["program"]),
        pl.col("service_type").alias(c["service_type"]),
        pl.when(pl.col("event_error") == "bad_date")
        .then(pl.lit("99/99/99"))
        .otherwise(pl.from_epoch("start_day", time_unit="d").dt.strftime(fmt))
        .alias(c["start"]),
        pl.from_epoch("end_day", time_unit="d").dt.strftime(fmt).alias(c["end"]),
        pl.col("amount").round(2).alias(c["amount"]),
        pl.col("county").alias(c["county"]),
        *extra,
    )
