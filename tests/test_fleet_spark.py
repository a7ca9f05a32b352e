"""costkit.fleet on Apache Spark in local mode: every table equal to DuckDB's, to the cent.

Run by `make test-spark` (part of `make test`), which installs the spark extra and sets
COSTKIT_REQUIRE_SPARK=1, so that a missing PySpark or Java fails instead of skipping.
"""

import os
import shutil

import pandas as pd
import pytest
from fleet_cases import assert_same, fleet_tables

from costkit import monitoring as mo

REQUIRED = os.environ.get("COSTKIT_REQUIRE_SPARK") == "1"
# PySpark 4.0 passes pandas 3 a keyword pandas deprecated; nothing of ours to act on
pytestmark = pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")


def _skip_or_fail(why):
    if REQUIRED:
        pytest.fail(f"COSTKIT_REQUIRE_SPARK=1 but {why}")
    pytest.skip(why)


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    try:
        import ibis  # noqa: F401
        import pyspark  # noqa: F401
    except ImportError as exc:
        _skip_or_fail(f"{exc.name} is not installed (pip install 'costkit[spark]')")
    if not shutil.which("java") and not os.environ.get("JAVA_HOME"):
        _skip_or_fail("no Java: Spark needs a JDK 17 or 21 (apt-get install openjdk-17-jre)")
    from pyspark.sql import SparkSession

    from costkit import fleet as fl

    os.environ.setdefault("PYSPARK_PYTHON", __import__("sys").executable)
    warehouse = tmp_path_factory.mktemp("spark-warehouse")
    session = (SparkSession.builder.master("local[2]").appName("costkit-tests")
               .config("spark.sql.session.timeZone", "UTC").config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "4")
               .config("spark.sql.warehouse.dir", str(warehouse)).getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield fl.connect("spark", session=session)
    session.stop()


@pytest.fixture(scope="module")
def week(tmp_path_factory):
    """The sample week's shape with gaps, as CSV and as daily Parquet files."""
    d = tmp_path_factory.mktemp("spark-week")
    w = mo.synthetic_telemetry(days=7, replicas=24, freq="10min", seed=5)
    for day, part in w.telemetry.groupby(w.telemetry.timestamp.dt.date):
        part.to_parquet(d / f"tel-{day}.parquet", index=False)
    for day, part in w.bill.groupby(w.bill.ChargePeriodStart.dt.date):
        part.to_parquet(d / f"bill-{day}.parquet", index=False)
    return {"telemetry": str(d / "tel-*.parquet"), "bill": str(d / "bill-*.parquet")}


def test_the_bundled_sample_week_on_spark_equals_duckdb_to_the_cent(spark):
    from costkit import fleet as fl

    files = mo.sample_files()  # CSV: Spark infers the schema, DuckDB sniffs it
    on_spark = fleet_tables(files["telemetry"], files["bill"], spark)
    on_duckdb = fleet_tables(files["telemetry"], files["bill"], fl.connect(threads=1))
    assert_same(on_duckdb, on_spark)


def test_a_week_of_parquet_on_spark_equals_duckdb_to_the_cent(spark, week):
    from costkit import fleet as fl

    on_spark = fleet_tables(week["telemetry"], week["bill"], spark)
    on_duckdb = fleet_tables(week["telemetry"], week["bill"], fl.connect(threads=1))
    assert_same(on_duckdb, on_spark)
    assert len(on_spark["alerts"]) > 0  # the week's incident and idle night are found
    assert on_spark["report"].set_index("check").at["missing samples", "rows"] > 0


def test_a_session_outside_utc_is_refused(spark):
    from costkit import fleet as fl

    session = spark._session
    session.conf.set("spark.sql.session.timeZone", "Asia/Shanghai")
    try:
        with pytest.raises(ValueError, match="costkit works in UTC"):
            fl.connect("spark", session=session)
    finally:
        session.conf.set("spark.sql.session.timeZone", "UTC")


def test_spark_refuses_bad_telemetry_as_duckdb_does(spark):
    from costkit import fleet as fl
    from costkit._tables import DataFileError

    bad = pd.DataFrame({"timestamp": pd.date_range("2026-11-02", periods=3, freq="min",
                                                   tz="UTC"),
                        "replica_id": "r1", "gpu_utilization": [0.2, 0.3, 0.4],
                        "requests": [1.0, -1.0, 2.0]})
    with pytest.raises(DataFileError, match="replica 'r1' at .*'requests'.* negative"):
        fl.read_telemetry(bad, con=spark)


def test_the_default_interval_on_spark_is_exact_to_the_microsecond(spark):
    """Spark's epoch is whole seconds: its steps come from a date difference instead, and
    the median step of 250.001 ms is DuckDB's."""
    from costkit import fleet as fl

    tel = pd.DataFrame({"timestamp": pd.Timestamp("2026-11-02", tz="UTC")
                        + pd.to_timedelta(range(0, 250_001 * 30, 250_001), unit="us"),
                        "replica_id": "r1", "gpu_utilization": 0.5, "requests": 1.0})
    assert fl.read_telemetry(tel, con=spark).interval == pd.Timedelta(microseconds=250_001)
    assert fl.read_telemetry(tel, con=fl.connect(threads=1)).interval == pd.Timedelta(
        microseconds=250_001)


def test_naive_csv_times_are_reported_on_spark_as_on_duckdb(spark, tmp_path):
    from costkit import fleet as fl

    df = pd.DataFrame({"timestamp": ["2026-11-02 00:00:00", "2026-11-02 00:01:00",
                                     "2026-11-02 00:02:00"],
                       "replica_id": "r1", "gpu_utilization": [0.2, 0.3, 0.4],
                       "requests": [1.0, 2.0, 3.0]})
    path = tmp_path / "naive.csv"
    df.to_csv(path, index=False)
    on_spark = fl.read_telemetry(path, con=spark).report
    on_duckdb = fl.read_telemetry(path, con=fl.connect(threads=1)).report
    pd.testing.assert_frame_equal(on_spark, on_duckdb)
    assert "timestamps without a zone" in set(on_spark.check)


def test_a_bill_in_yuan_with_lines_of_no_category_on_spark_equals_duckdb(spark, tmp_path):
    """Issue 32's bill rules on Spark: the yuan converted at the day's rate (the one rule of
    costkit.bill_lines.usd_rates), lines without a ChargeCategory reported, not lost."""
    from costkit import fleet as fl
    from costkit.billing import NO_CATEGORY

    w = mo.synthetic_telemetry(days=2, replicas=6, freq="15min", seed=7)
    bill = w.bill.assign(BillingCurrency="CNY")
    bill["ChargeCategory"] = bill["ChargeCategory"].astype(object)
    bill.loc[bill.index[:4], "ChargeCategory"] = None
    bill.to_parquet(tmp_path / "bill.parquet", index=False)
    got = {}
    for name, con in (("spark", spark), ("duckdb", fl.connect(threads=1))):
        b = fl.bill_hours(str(tmp_path / "bill.parquet"), con=con)
        got[name] = (float(con.execute(b.table.effective_cost.sum())), b.fx,
                     b.not_usage.set_index("charge_category").loc[NO_CATEGORY, "lines"])
    assert got["spark"][0] == pytest.approx(got["duckdb"][0], rel=1e-12)
    assert got["spark"][1:] == got["duckdb"][1:] and got["spark"][2] == 4
    assert "1 CNY = 0.143148 USD" in got["spark"][1][0]


def test_a_csv_bill_on_spark_has_the_tags_duckdb_reads(spark):
    """FOCUS CSV doubles a quote inside a quoted field ("{""team"": ""recs""}"); Spark's
    reader took the doubled quotes as text until costkit.bill_lines refused such tags (issue
    31): now Spark reads them as RFC 4180 says, and both engines give the same tags."""
    from costkit import fleet as fl
    from costkit._tables import bundled_path

    path = str(bundled_path("focus_bill_sample.csv"))
    tables = []
    for con in (spark, fl.connect(threads=1)):
        b = fl.bill_hours(path, con=con)
        tables.append(fl._execute(con, b.table.select("resource_id", "hour", "tags"))
                      .sort_values(["resource_id", "hour"]).reset_index(drop=True))
    pd.testing.assert_frame_equal(*tables, check_dtype=False)  # ns (Spark) and us (DuckDB)
    assert tables[0]["tags"].str.startswith('{"team": ').all()
