"""Every benchmark on SQLite and on PostgreSQL at one size, in one table.

    .venv/bin/python bench/run_all.py --size small \
        --postgres postgres://postgres@127.0.0.1:5432/salesplan_bench [--only foundation,reports]
        [--write-readme] [--timeout 900]
    .venv/bin/python bench/run_all.py --size 1m --postgres … [--reuse-company] [--sqlite-only]

Runs each bench/bench_*.py that touches a database twice — with DATABASE_URL unset (its
own SQLite file) and with DATABASE_URL set to `--postgres` (emptied first: give it a
database kept for benchmarks) — at the arguments of `--size` (`small`: a few thousand
records, minutes in all; `1m`: the 1,000,000-account / 5,000,000-deal sizes of the
targets). At `1m` the benchmark company is built once per database (bench/build_company.py:
a SQLite file under var/, and on PostgreSQL the database `--postgres` with `_company`
added to its name) and every script that measures a big company (foundation, reports,
quality lists, forecasting, territories) runs on that company instead of building its
own; `--reuse-company` keeps companies built before. Prints every figure as a JSON line,
then one Markdown table: metric, SQLite, PostgreSQL, target, and the ratio to the naive
baseline where the script measures one. `--write-readme` puts the table into
bench/README.md with the date and the machine's load (`uptime`), between the markers kept
there.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "bench" / "README.md"
START, END = "<!-- summary:start -->", "<!-- summary:end -->"

# Arguments per script and size. bench_alignment is a pure engine (no database).
SIZES: dict[str, dict[str, list[str]]] = {
    "small": {
        "foundation": ["--accounts", "2000", "--requests", "20", "--deep-rows", "1000"],
        "reports": ["--accounts", "3000", "--base-accounts", "1000", "--repeat", "2",
                    "--naive-budget", "30"],
        "territories": ["--accounts", "20000", "--naive-sample", "200"],
        "quality": ["lists", "--accounts", "5000", "--opportunities", "25000", "--teams", "4",
                    "--reps-per-team", "5", "--requests", "2", "--budget", "10"],
        "forecasting": ["--accounts", "3000", "--repeat", "2", "--naive-sample", "100"],
        "import": ["--rows", "5000"],
        "pricing": ["--runs", "10"],
        "proposals": ["--runs", "5"],
        "plan": ["--units", "5000", "--reps", "50", "--milp-units", "200", "--reps-b", "100",
                 "--opportunities", "50000", "--repeat", "2"],
        "marketing": ["--submissions", "300", "--warmup", "20", "--leads", "2000",
                      "--contacts", "1000", "--opportunities", "50000", "--campaigns", "20",
                      "--refresh-opportunities", "5000", "--repeat", "2"],
        "scoring": ["--leads", "5000", "--naive", "100"],
    },
    "1m": {
        # Scripts with `{company}` in their arguments run on the company build_company.py
        # made (the SQLite file, or with DATABASE_URL the PostgreSQL company database).
        "foundation": ["--reuse", "--db", "{company}", "--requests", "20", "--warmup", "3"],
        "reports": ["--reuse", "--db", "{company}", "--repeat", "3", "--naive-budget", "20"],
        "quality": ["lists", "--reuse", "--db", "{company}", "--requests", "3",
                    "--budget", "5"],
        "forecasting": ["--company", "{company}", "--repeat", "3", "--naive-sample", "200"],
        # Last of the company's: it archives the company's alignment while it measures.
        "territories": ["--company", "{company}", "--naive-sample", "2000"],
        "import": [],
        "pricing": [],
        "proposals": [],
        "plan": [],
        "marketing": [],
        "scoring": [],
    },
}

# Sizes whose scripts run on one benchmark company per database: its accounts.
COMPANY_ACCOUNTS = {"1m": 1_000_000}

# Targets (what bench/README.md and the product promise), by metric-name prefix.
TARGETS = {
    "foundation.api.": "p95 ≤ 50 ms", "foundation.page.": "p95 ≤ 50 ms",
    "territories.full_assignment": "≤ 10 s", "territories.what_if": "≤ 5 s",
    "territories.incremental_reassignment": "≤ 1 s", "reports.": "≤ 1 s",
    "pricing.price_lines.cpu_p50": "≤ 50 ms", "proposals.price_and_approve": "≤ 50 ms",
    "proposals.pdf": "≤ 1 s", "plan.allocation": "≤ 2 s", "plan.plan_vs_actual": "≤ 1 s",
    "marketing.capture": "≥ 500 leads/s", "marketing.attribution": "≤ 2 s",
    "quality.lists.": "≤ 1 s", "quality.lists.scale": "", "quality.lists.stage_jumps_sync": "",
    "build_company.build.extrapolated_1m": "≤ 600 s",
    "build_company.build.cpu_extrapolated_1m": "≤ 600 s",
}


def target_of(metric: str) -> str:
    if metric.endswith((".position", ".(wall)", ".(cpu)", ".(run)")):
        return ""
    best = ""
    for prefix in TARGETS:
        if metric.startswith(prefix) and len(prefix) > len(best):
            best = prefix
    return TARGETS.get(best, "")


def run(script: str, args: list[str], database_url: str | None, timeout: float,
        script_file: str = "") -> dict:
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    figures: dict[str, dict] = {}
    started, cpu = time.perf_counter(), _children_cpu()
    path = ROOT / "bench" / (script_file or f"bench_{script}.py")
    try:
        done = subprocess.run([sys.executable, str(path), *args], env=env,
                              capture_output=True, text=True,
                              timeout=timeout, cwd=ROOT, check=False)
        out, failed = done.stdout, done.returncode != 0 and (done.stderr.strip()
                                                             .splitlines() or ["?"])[-1]
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        failed = f"stopped after {timeout:.0f} s"
    for line in out.splitlines():
        try:
            figure = json.loads(line)
        except ValueError:
            continue
        if isinstance(figure, dict) and "metric" in figure:
            figures[f"{script}.{figure['metric']}"] = figure
            print(json.dumps({**figure, "metric": f"{script}.{figure['metric']}",
                              "database": "postgresql" if database_url else "sqlite"}),
                  flush=True)
    if failed:
        figures[f"{script}.(run)"] = {"value": None, "unit": "", "error": str(failed)[:160]}
        print(json.dumps({"metric": f"{script}.(run)", "error": str(failed)[:300],
                          "database": "postgresql" if database_url else "sqlite"}),
              flush=True)
    figures[f"{script}.(wall)"] = {"value": round(time.perf_counter() - started, 1),
                                   "unit": "s", "load_average": round(os.getloadavg()[0], 1)}
    # The script's own processor time (not its database server's): the wall clock on a
    # shared machine also counts the neighbours' turns.
    figures[f"{script}.(cpu)"] = {"value": round(_children_cpu() - cpu, 1), "unit": "s"}
    for name in (f"{script}.(wall)", f"{script}.(cpu)"):
        print(json.dumps({**figures[name], "metric": name,
                          "database": "postgresql" if database_url else "sqlite"}), flush=True)
    return figures


def read_logs(paths: list[str]) -> tuple[dict, dict]:
    """The figures of earlier runs from the JSON lines they printed (e.g. one run per
    database side by side), by database; a later line of a metric wins."""
    found: dict[str, dict[str, dict]] = {"sqlite": {}, "postgresql": {}}
    for path in paths:
        for line in Path(path).read_text().splitlines():
            try:
                figure = json.loads(line)
            except ValueError:
                continue
            if isinstance(figure, dict) and figure.get("database") in found:
                found[figure["database"]][figure["metric"]] = figure
    return found["sqlite"], found["postgresql"]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cell(figure: dict | None) -> str:
    if figure is None:
        return "—"
    if figure.get("error"):
        return "failed: " + figure["error"].replace("|", "/")[:80]
    if figure.get("skipped"):
        return "skipped"
    value = figure.get("value")
    if isinstance(value, float):
        value = f"{value:.4g}"
    text = f"{value} {figure.get('unit', '')}".strip()
    # Processor time and the machine's load beside the wall clock: on a shared machine
    # the wall clock also counts other programs' turns.
    cpu = [f"{figure[k]:.3g} {u}" for k, u in (("cpu_ms_p95" if "p95" in str(
        figure.get("metric", "")) else "cpu_ms_p50", "ms"), ("cpu_seconds", "s"), ("cpu_s", "s"))
        if isinstance(figure.get(k), (int, float))]
    if isinstance(figure.get("server_cpu_seconds"), (int, float)):
        cpu.append(f"server {figure['server_cpu_seconds']:.3g} s")
    notes = ([f"cpu {' + '.join(cpu)}"] if cpu else []) + (
        [f"load {figure['load_average']:.3g}"] if isinstance(figure.get("load_average"),
                                                              (int, float)) else [])
    return f"{text} ({', '.join(notes)})" if notes else text


def ratio(figure: dict | None) -> str:
    if not figure or figure.get("ratio") is None:
        return ""
    return f"{figure['ratio']:.3g}" if isinstance(figure["ratio"], float) \
        else str(figure["ratio"])


def table(sqlite: dict, postgres: dict) -> str:
    rows = ["| metric | SQLite | PostgreSQL | target | ratio to baseline (SQLite / PostgreSQL) |",
            "|---|---|---|---|---|"]
    for metric in dict.fromkeys([*sqlite, *postgres]):
        a, b = sqlite.get(metric), postgres.get(metric)
        r = " / ".join(x for x in (ratio(a), ratio(b)) if x)
        rows.append(f"| {metric} | {cell(a)} | {cell(b)} | {target_of(metric)} | {r} |")
    return "\n".join(rows)


def write_readme(size: str, text: str) -> None:
    uptime = subprocess.run(["uptime"], capture_output=True, text=True,
                            check=False).stdout.strip()
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    block = (f"{START}\nSize `{size}`, {when}, {platform.node() or 'this machine'} "
             f"({os.cpu_count()} cores); load at the end: `{uptime}`.\n\n{text}\n{END}")
    readme = README.read_text()
    if START in readme:
        head, rest = readme.split(START, 1)
        readme = head + block + rest.split(END, 1)[1]
    else:
        readme = readme.rstrip() + "\n\n## Summary: both databases\n\n" + block + "\n"
    README.write_text(readme)


def company_url(postgres: str) -> str:
    """The PostgreSQL database the benchmark company goes in: beside `--postgres`, which
    the other scripts empty."""
    return f"{postgres}_company"


def build_company(size: str, database_url: str | None, sqlite_file: Path,
                  timeout: float) -> dict:
    """The benchmark company at the size's accounts, once per database."""
    args = ["--accounts", str(COMPANY_ACCOUNTS[size])]
    if not database_url:
        args += ["--db", str(sqlite_file)]
    return run("build_company", args, database_url, timeout, script_file="build_company.py")


def run_database(names: list[str], size: str, database_url: str | None, args) -> dict:
    """Every chosen script on one database; at a company size, the company first."""
    figures: dict[str, dict] = {}
    scripts = SIZES[size]
    on_company = [n for n in names if "{company}" in scripts[n]]
    company_db = company_url(database_url) if database_url else None
    sqlite_file = ROOT / "var" / f"company_{size}.sqlite3"
    if on_company and size in COMPANY_ACCOUNTS and not args.reuse_company:
        figures.update(build_company(size, company_db, sqlite_file, args.build_timeout))
    for name in names:
        script_args = [a.replace("{company}", str(sqlite_file)) for a in scripts[name]]
        url = company_db if name in on_company else database_url
        figures.update(run(name, script_args, url, args.timeout))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES_URL", ""),
                        help="A PostgreSQL database kept for benchmarks (emptied); at a "
                             "company size the company goes in the same name + _company.")
    parser.add_argument("--only", default="", help="Comma-separated scripts.")
    parser.add_argument("--timeout", type=float, default=900.0, help="Per script run.")
    parser.add_argument("--build-timeout", type=float, default=3600.0,
                        help="For building the benchmark company.")
    parser.add_argument("--reuse-company", action="store_true",
                        help="Keep the benchmark companies built by an earlier run.")
    parser.add_argument("--databases", default="sqlite,postgresql",
                        help="Which of sqlite,postgresql to run (PostgreSQL needs --postgres).")
    parser.add_argument("--from-logs", nargs="+", metavar="LOG",
                        help="Make the table from the JSON lines of earlier runs instead of "
                             "running anything.")
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args()
    scripts = SIZES[args.size]
    names = [s for s in args.only.split(",") if s] or list(scripts)
    chosen = args.databases.split(",")
    if args.from_logs:
        sqlite, postgres = read_logs(args.from_logs)
    else:
        sqlite = run_database(names, args.size, None, args) if "sqlite" in chosen else {}
        postgres = run_database(names, args.size, args.postgres, args) \
            if args.postgres and "postgresql" in chosen else {}
    text = table(sqlite, postgres)
    print(text)
    if args.write_readme:
        write_readme(args.size, text)


if __name__ == "__main__":
    main()
