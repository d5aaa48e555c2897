"""`--engine dask` gives the same bytes as the single process; the command line keeps its contract."""
import datetime as dt
import json

from click.testing import CliRunner

from eligibility.batch import run_file
from eligibility.batch.evaluate import EvaluateJob
from eligibility.batch.locate import LocateJob
from qpv_cli.main import qpv

from test_evaluate import VARIANTS, write_rows
from test_runner import write_points


def test_dask_local_cluster_output_is_identical(tmp_path):
    src = tmp_path / "in.csv"
    write_points(src, 120, bad_every=11)
    locate = lambda r: LocateJob(r, date=dt.date(2024, 1, 1), traces=True, keep=("id",))  # noqa: E731
    run_file(locate, src, tmp_path / "one.csv", chunk_size=13, traces=tmp_path / "one.jsonl", show_progress=False)
    s = run_file(locate, src, tmp_path / "dask.csv", chunk_size=13, traces=tmp_path / "dask.jsonl",
                 engine="dask", workers=2, processes=False, show_progress=False)
    assert s["engine"] == "dask" and s["rows"] == 120
    assert (tmp_path / "one.csv").read_bytes() == (tmp_path / "dask.csv").read_bytes()
    assert (tmp_path / "one.jsonl").read_bytes() == (tmp_path / "dask.jsonl").read_bytes()
    ev = tmp_path / "ev.csv"
    write_rows(ev, VARIANTS * 3)
    job = lambda r: EvaluateJob("emplois-francs", r)  # noqa: E731
    run_file(job, ev, tmp_path / "ev1.parquet", chunk_size=5, show_progress=False)
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        s = run_file(job, ev, tmp_path / "ev2.parquet", chunk_size=5, engine="dask",
                     scheduler=cluster.scheduler_address, show_progress=False)  # an existing cluster, by address
    assert s["rows"] == 36
    assert (tmp_path / "ev1.parquet").read_bytes() == (tmp_path / "ev2.parquet").read_bytes()


def test_cli_json_summary_and_logs_on_stderr(tmp_path):
    src = tmp_path / "in.csv"
    write_points(src, 30, bad_every=10)
    res = CliRunner().invoke(qpv, ["batch", "locate", str(src), "-o", str(tmp_path / "o.parquet"), "--json",
                                   "--chunk-size", "8"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    # 6 bad lines, and the 2 points of the Atlantic that are not bad lines (outside France: an error row, as
    # `qpv locate` alone refuses them)
    assert summary["rows"] == 30 and summary["errors"] == 8 and summary["read"]["separator"] == ";"
    assert "séparateur point-virgule" in res.stderr and "lignes" in res.stderr  # detection + plain progress log


def test_cli_text_summary_counts_in_french_words(tmp_path):
    """People read the text summary: counts per status in French, the codes stay in the file and the JSON."""
    src = tmp_path / "in.csv"
    write_points(src, 30, bad_every=10)
    res = CliRunner().invoke(qpv, ["batch", "locate", str(src), "-o", str(tmp_path / "o.csv"), "--no-progress"])
    assert res.exit_code == 0, res.output
    counts = [line.strip().rsplit(" : ", 1)[0] for line in res.stdout.splitlines() if line.startswith("    ")]
    assert "ligne en erreur" in counts and set(counts) <= {
        "dans un quartier prioritaire", "hors quartier prioritaire", "à proximité immédiate d'une limite",
        "territoire non couvert", "ligne en erreur"}, counts
    rows = tmp_path / "e.csv"
    write_rows(rows, VARIANTS)
    res = CliRunner().invoke(qpv, ["batch", "evaluate", "emplois-francs", str(rows), "-o", str(tmp_path / "e-out.csv"),
                                   "--no-progress"])
    assert res.exit_code == 0, res.output
    counts = [line.strip().rsplit(" : ", 1)[0] for line in res.stdout.splitlines() if line.startswith("    ")]
    assert "ligne en erreur" in counts and set(counts) <= {
        "éligible", "non éligible", "indéterminé", "hors du champ d'application", "ligne en erreur"}, counts


def test_cli_text_summary_names_an_encoding_that_is_not_utf8(tmp_path):
    src = tmp_path / "in.csv"
    src.write_bytes("lon;lat;date;ville\n1,3536373;44,01929;2025-01-01;Béziers\n".encode("cp1252"))
    res = CliRunner().invoke(qpv, ["batch", "locate", str(src), "-o", str(tmp_path / "o.csv"), "--no-progress"])
    assert res.exit_code == 0 and "détecté : encodage Windows-1252" in res.stdout, res.output


def test_cli_bad_input_exits_2_with_a_french_message(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("a;b\n1;2\n", encoding="utf-8")
    runner = CliRunner()
    res = runner.invoke(qpv, ["batch", "locate", str(src), "-o", str(tmp_path / "o.csv"), "--date", "2024-01-01"])
    assert res.exit_code == 2 and "colonnes de position absentes" in res.stderr and "Traceback" not in res.output
    res = runner.invoke(qpv, ["batch", "evaluate", "emplois-francs", str(tmp_path / "absent.csv"), "-o",
                              str(tmp_path / "o.csv")])
    assert res.exit_code == 2 and "introuvable" in res.stderr
    res = runner.invoke(qpv, ["batch", "locate", str(src), "-o", str(tmp_path / "o.xlsx"), "--date", "2024-01-01"])
    assert res.exit_code == 2
    res = runner.invoke(qpv, ["batch", "evaluate", "inconnu", str(src), "-o", str(tmp_path / "o.csv")])
    assert res.exit_code == 2, res.output
