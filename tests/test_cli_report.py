"""`core report` and friends on the command line (issue 42): a study run's report is written and
summarised with its validation score; --out that is a folder, a .pdf or in a missing folder gets a
one-line error and writes nothing; a study name is called a study name; TensorFlow's start-up lines
stay off the output; a sentence's minus signs are all real minus signs."""

from __future__ import annotations

from core.evaluation import wording
from core.evaluation.facts import Paired
from tests.conftest import run_cli

NOISE = ("absl::InitializeLog", "oneDNN", "cuda drivers", "Traceback", "sparse_mat_mul")


def test_report_of_a_study_run_and_bad_targets(with_reference_runs, tmp_path):
    env = {"STUDIO_ARTIFACTS": str(with_reference_runs)}
    out = tmp_path / "r.html"
    done = run_cli("report", "--run", "ref-ablation-fast-width-s1", "--out", str(out), env=env)
    assert done.returncode == 0, done.stderr
    assert "on validation (a study run, never scored on test)" in done.stdout and out.stat().st_size > 0
    assert not any(n in done.stdout + done.stderr for n in NOISE), done.stderr[-500:]
    (tmp_path / "folder.html").mkdir()
    for target, said in (
        (tmp_path / "r.pdf", "--out writes an HTML file"),
        (tmp_path / "folder.html", "is a folder"),
        (tmp_path / "missing" / "r.html", "does not exist"),
    ):
        bad = run_cli("report", "--out", str(target), env=env)
        assert bad.returncode == 2 and said in bad.stderr and len(bad.stderr.strip().splitlines()) == 1, bad.stderr
        assert not target.is_file()
    checked = run_cli("runs", "check", env=env)
    assert not any(n in checked.stdout + checked.stderr for n in NOISE), checked.stderr[-500:]


def test_a_study_name_is_called_a_study_name():
    for args in (("tune", "cnn", "--study", "../../etc", "--trials", "1"), ("ablate", "show", "../../etc")):
        done = run_cli(*args)
        assert done.returncode == 2 and "invalid study name" in done.stderr and "run id" not in done.stderr


def test_a_comparison_sentence_uses_one_minus_sign():
    result = {
        "a": "a",
        "b": "b",
        "label_a": "A",
        "label_b": "B",
        "accuracy_a": 0.9,
        "accuracy_b": 0.9003,
        "difference": -0.0003,
        "difference_ci95": [-0.0036, 0.003],
        "mcnemar_p": 0.9,
        "a_right_b_wrong": 10,
        "b_right_a_wrong": 13,
        "both_right": 8990,
        "both_wrong": 987,
    }
    said = wording.verdict(Paired.of(result))
    assert "−0.03" in said and "−0.36" in said and "-0." not in said
