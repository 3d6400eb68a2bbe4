"""scripts/import_reference_curves.py: the release's W&B exports become the loader's CSV files."""

import importlib.util
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "import_reference_curves.py"
spec = importlib.util.spec_from_file_location("import_reference_curves", SCRIPT)
importer = importlib.util.module_from_spec(spec)
spec.loader.exec_module(importer)


def test_a_wandb_export_becomes_tidy_rows_with_its_source(tmp_path, monkeypatch):
    release = tmp_path / "OctoThinker"
    folder = release / "plot" / "data" / "octothinker" / "1b"
    folder.mkdir(parents=True)
    run = "rl.grpo_llama.1b_decay_long.short.mix.20B_math.8k_0421_1311"
    (folder / "acc_math500.csv").write_text(
        f'Step,{run} - val/test_score/MATH500,{run} - val/test_score/MATH500__MIN,{run} - val/test_score/MATH500__MAX\n'
        '0,0.114,0.114,0.114\n4,0.16,0.16,0.16\n')
    (folder / "length_math500.csv").write_text(f"Step,{run} - response_length/MATH500\n0,512.25\n")
    (folder / "read.py").write_text("not data\n")
    subprocess.run(["git", "init", "-q", str(release)], check=True)
    subprocess.run(["git", "-C", str(release), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q",
                    "--allow-empty", "-m", "x"], check=True)
    out = tmp_path / "out"
    importer.main([str(release), "--out", str(out), "--only", "octothinker/1b"])
    lines = (out / "octothinker-1b.csv").read_text().splitlines()
    assert lines[0].startswith("# GAIR-NLP/OctoThinker@") and "(Apache-2.0)" in lines[0]
    assert lines[1] == f"# curve hybrid: W&B run {run}"   # `long.short.mix` is the hybrid branch
    assert lines[2:] == ["curve,benchmark,metric,step,value", "hybrid,math500,accuracy,0,11.4",
                         "hybrid,math500,accuracy,4,16.0", "hybrid,math500,length,0,512.25"]
    assert importer.curve_name("rl.grpo_llama.3b_analysis_mm.web.pro.20B_math.8k_0411_1333") == "mm.web.pro.20B"
    assert importer.curve_name("rl.grpo_qwen.3b_math.8k_0411_1954") == "qwen.3b"
