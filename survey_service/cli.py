"""The `survey-service` command: one click group calling the same services as the web layer."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Literal, TypeVar

import click

from analysis import INTERVAL_METHODS
from analysis.design import DEFAULT_CONFIDENCE_LEVEL, DEFAULT_TARGET, DesignType, IntervalMethod, NationalWeighting
from survey_service.core.errors import SurveyServiceError
from survey_service.core.settings import Settings, load_settings
from survey_service.db.engine import connected
from survey_service.db.migrate import migrate
from survey_service.surveys.tables import Survey

T = TypeVar("T")
DB_HELP = "SQLite database file (default: SURVEY_DATABASE_URL, else survey.db)."
PUBLIC_URL_HELP = (
    "The address the links point to, as the service is served (default: SURVEY_PUBLIC_URL; "
    "the demo prints the command with its own address)."
)


def _settings(db: str | None, **changes) -> Settings:
    return load_settings().with_changes(database_url=db, **changes)


def run_with_database(settings: Settings, work: Callable[[], Awaitable[T]], *, migrated: bool = True) -> T:
    """Bind the engine, run `work`, and turn service errors into a clear message and exit code 1."""

    async def main() -> T:
        async with connected(settings):
            if migrated and not await Survey.table_exists():
                raise click.ClickException(
                    f"数据库 {settings.database_url} 尚未初始化，请先运行 survey-service migrate。"
                )
            return await work()

    try:
        return asyncio.run(main())
    except SurveyServiceError as exc:
        raise click.ClickException(exc.message) from exc
    except OSError as exc:
        raise click.ClickException(f"无法连接数据库：{exc}") from exc


@click.group()
@click.version_option(package_name="survey-service")
def main() -> None:
    """社会认可度调查服务 (survey-service)."""


@main.command("migrate")
@click.option("--db", help=DB_HELP)
def migrate_command(db: str | None) -> None:
    """Create or update the database schema; on a database from before tamper evidence was keyed,
    record where its unkeyed hash chain ends and seal each round's current record (said below)."""
    from survey_service.integrity.service import record_chain_switch
    from survey_service.integrity.state import seal_baseline

    async def work():
        await migrate()
        return await record_chain_switch(), await seal_baseline()

    through, sealed = run_with_database(_settings(db), work, migrated=False)
    click.echo("数据库结构已是最新 (migrations applied).")
    if through:
        click.echo(
            f"答卷 1–{through} 是密钥启用之前的无密钥哈希链：已在密钥下记录其终点，此后的答卷按密钥链接 "
            f"(responses up to {through} were chained without the key; their end is now recorded under it)."
        )
    for round_id in sealed:
        click.echo(
            f"第 {round_id} 轮：现有的设置、名册、链接与审核记录已作为基线封存 "
            f"(round {round_id}: its current settings, roster, links and decisions sealed as the baseline)."
        )


@main.command()
@click.option("--db", help=DB_HELP)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
def serve(db: str | None, host: str, port: int, workers: int) -> None:
    """Serve the survey with N web workers (on SQLite, beside one writer process that commits every
    worker's answers)."""
    _serve(_settings(db, public_url=_public_url(host, port)), host, port, workers)


def _serve(settings: Settings, host: str, port: int, workers: int) -> None:
    import tempfile

    import uvicorn

    from survey_service.ledger.writer_process import WriterProcess

    # Workers are separate processes: they read the same settings from the environment.
    os.environ["SURVEY_DATABASE_URL"] = settings.database_url
    os.environ["SURVEY_PUBLIC_URL"] = settings.public_url
    writer = None
    if not settings.is_postgres:
        # SQLite: one process commits every worker's answers (ledger/writer_process.py).
        socket_dir = Path(tempfile.mkdtemp(prefix="survey-writer-"))
        writer = WriterProcess(settings.sqlite_path, socket_dir / "writer.sock", settings.write_batch_size)
        os.environ["SURVEY_WRITER_SOCKET"] = str(writer.socket_path)
    # uvicorn stops gracefully on SIGTERM (a service manager's stop), then raises the signal again;
    # with the default action the process would end there, skipping the cleanup below. As an
    # exception, the writer process is stopped after the web workers and its socket removed.
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        if writer is not None:
            writer.start()
        uvicorn.run(
            "survey_service.app:app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
            access_log=False,
            proxy_headers=False,
        )
    finally:
        if writer is not None:
            writer.stop()
            writer.socket_path.parent.rmdir()


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _public_url(host: str, port: int) -> str:
    """The address links and QR codes carry: SURVEY_PUBLIC_URL when set, else the address served."""
    given = os.environ.get("SURVEY_PUBLIC_URL")
    if given:
        return given.rstrip("/")
    address = _reachable_address(host)
    return f"http://{f'[{address}]' if ':' in address else address}:{port}"


def _reachable_address(host: str) -> str:
    """The address to print in links: a wildcard bind is reached at this machine's own address."""
    if host not in ("0.0.0.0", "::", ""):
        return host
    try:
        return socket.gethostbyname(socket.gethostname())
    except OSError:
        return "127.0.0.1"


@main.command()
@click.option("--db", help="SQLite database file (default: SURVEY_DATABASE_URL, else survey-demo.db).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--admin-password",
    envvar="SURVEY_ADMIN_PASSWORD",
    help="Password of the bureau account `admin`, also read from SURVEY_ADMIN_PASSWORD (which, unlike the "
    "command line, other users of the machine cannot see) (default: a generated one, printed once; kept on a rerun).",
)
@click.option(
    "--admin-password-file",
    type=click.File("r", encoding="utf-8"),
    help="A file whose first line is the password of `admin`.",
)
@click.option("--empty", is_flag=True, help="Start without the simulated answers.")
@click.option("--no-serve", is_flag=True, help="Create the demo data and exit.")
def demo(
    db: str | None,
    host: str,
    port: int,
    admin_password: str | None,
    admin_password_file,
    empty: bool,
    no_serve: bool,
) -> None:
    """A demo county (乌恰县, 20 schools) with an open round of about 1,500 simulated answers, served at once."""
    from survey_service.core.resources import questionnaires_dir
    from survey_service.demo.previous import ensure_previous_demo_round
    from survey_service.demo.service import ensure_demo_round
    from survey_service.demo.simulate import fill_demo_round
    from survey_service.distribution.service import list_links
    from survey_service.questionnaire import load_questionnaires

    if admin_password_file is not None:
        admin_password = admin_password_file.readline().rstrip("\r\n")
    if admin_password == "":
        raise click.UsageError("--admin-password 不能为空 (must not be empty).")
    settings = _settings(
        db or os.environ.get("SURVEY_DATABASE_URL") or "survey-demo.db", public_url=_public_url(host, port)
    )

    async def prepare():
        await migrate()
        questionnaires = load_questionnaires(questionnaires_dir())
        survey_id = await ensure_demo_round(questionnaires)
        if not empty:
            click.echo("生成模拟答卷 (simulating answers)…", err=True)
        filled = None if empty else await fill_demo_round(settings, survey_id, questionnaires)
        # Last year's round of the county, the open round's 对比轮次 (与上一轮对比); not with --empty.
        previous = None if empty else await ensure_previous_demo_round(settings, survey_id, questionnaires)
        password = await _demo_admin(admin_password)
        return survey_id, await list_links(survey_id, settings.public_url), filled, previous, password

    click.echo(f"演示数据库 (demo database): {settings.database_url}", err=True)
    survey_id, links, filled, previous, password = run_with_database(settings, prepare, migrated=False)
    click.echo(f"调查轮次 (round) {survey_id}: {len(links)} 个链接 (links). 示例 (examples):")
    shown = [link for link in links if link.school_code in ("WQ01", "WQ19")] + [
        link for link in links if not link.school_code
    ]
    for link in shown:
        click.echo(f"  {link.school_name} · {link.group_label}: {link.url}")
    database = "" if settings.is_postgres else f" --db {settings.database_url}"
    click.echo(f"全部链接 (all links): survey-service links export{database} --public-url {settings.public_url}")
    click.echo(f"二维码 (QR codes): survey-service qr export{database} --public-url {settings.public_url} --out qr")
    if filled is None:
        click.echo("答卷 (answers): 未生成模拟答卷 (--empty: none simulated).")
    elif filled.existing:
        click.echo(f"答卷 (answers): 已有 {filled.existing} 份，未再生成 (kept, none added).")
    else:
        click.echo(
            f"模拟答卷 (simulated answers): {filled.answers} 份，其中 {filled.flagged} 份被标记待审核 (flagged)，"
            f"用时 {filled.seconds:.1f} 秒；页面上标为“演示数据” (marked as demo data)."
        )
    if previous is not None:
        previous_id, before = previous
        click.echo(
            f"上一年度轮次 (last year's round) {previous_id}: {before.answers or before.existing} 份模拟答卷，"
            f"已结束，为本轮的对比轮次 (compared with in 与上一轮对比)."
        )
    console = f"{settings.public_url}/console"
    click.echo(f"控制台 (console): {console}")
    click.echo(
        f"结果 (results): {console}/rounds/{survey_id}/results · 报告 (report): {console}/rounds/{survey_id}/report"
    )
    if password is None:
        click.echo(
            "教育局账号 (bureau account): admin 已存在，密码未更改 (exists; password unchanged; --admin-password PW sets it)."
        )
    elif admin_password:
        click.echo("教育局账号 (bureau account): admin，密码为 --admin-password 所给 (password set).")
    else:
        click.echo(f"教育局账号 (bureau account): admin  密码 (password, shown once): {password}")
    if not no_serve:
        click.echo(f"正在服务 (serving) {settings.public_url} — Ctrl+C 停止 (stop).", err=True)
        _serve(settings, host, port, 1)


async def _demo_admin(password: str | None) -> str | None:
    """The demo's bureau account `admin`: given this password, or created with a generated one (returned
    to print once); None when it exists already and no password was given (left as it is)."""
    from survey_service.accounts.passwords import generate_password
    from survey_service.accounts.service import account_exists, set_bureau_password

    if password is None:
        if await account_exists("admin"):
            return None
        password = generate_password()
    await set_bureau_password("admin", password)
    return password


@main.command()
@click.option("--db", help=DB_HELP)
@click.option(
    "--checkpoint",
    "checkpoint_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A checkpoint to check the database against (repeatable): a printed report (Markdown), the line "
    "copied from a report or workbook, or JSON. Those the database keeps are always checked.",
)
def verify(db: str | None, checkpoint_files: tuple[Path, ...]) -> None:
    """Check the responses' keyed hash chain, every round's sealed record (settings, roster, links,
    review decisions, change log), every signed checkpoint and the tallies: exit 0 when all hold, 1
    naming each problem."""
    from survey_service.integrity.service import verify_chain, verify_checkpoint, verify_tallies
    from survey_service.integrity.state import verify_state
    from survey_service.ledger.checkpoints import UnreadableCheckpoint, parse, stored

    given = []
    for file in checkpoint_files:
        try:
            given += parse(file.read_text(encoding="utf-8", errors="replace"))
        except UnreadableCheckpoint as exc:
            raise click.ClickException(f"{file}: {exc}") from exc

    def progress(checked: int, total: int) -> None:
        click.echo(f"\r校验哈希链 (verifying) {checked}/{total}", err=True, nl=False)

    async def everything():
        chain = await verify_chain(progress)
        rounds = [row["id"] for row in await Survey.select(Survey.id).order_by(Survey.id)]
        states = {round_id: await verify_state(round_id) for round_id in rounds}
        seen, checkpoints = set(), []
        for checkpoint in [*await stored(), *given]:
            if checkpoint.line() not in seen:
                seen.add(checkpoint.line())
                checkpoints.append((checkpoint, await verify_checkpoint(checkpoint, chain)))
        return chain, states, checkpoints, await verify_tallies()

    report, states, checkpoints, wrong = run_with_database(_settings(db), everything)
    click.echo("", err=True)
    failed = False
    if report.intact:
        click.echo(f"哈希链完整 (chain intact): {report.checked} 份答卷。")
        if report.unkeyed:
            click.echo(
                f"其中 {report.unkeyed} 份来自密钥启用之前，由其后的第一个加密钥链接担保 (sealed before the key)."
            )
    else:
        failed = True
        if report.switch_problem:
            click.echo(f"哈希链 (chain): {report.switch_problem}", err=True)
        for broken in report.broken:
            click.echo(
                f"哈希链断裂 (chain broken) at response {broken.response} (第 {broken.survey} 轮答卷 {broken.response}): "
                f"{broken.reason}",
                err=True,
            )
        if report.more_broken:
            click.echo(f"…… 另有 {report.more_broken} 份答卷同样不符 (and {report.more_broken} more).", err=True)
        if report.broken:
            click.echo(f"{report.checked} 份答卷完好 (responses intact).", err=True)
    for problems in states.values():
        for problem in problems:
            failed = True
            click.echo(f"封存记录不符 (sealed record): {problem}", err=True)
    if states and not any(states.values()):
        click.echo(f"{len(states)} 轮的设置、名册、链接与审核记录与封存记录一致 (sealed records agree)。")
    for checkpoint, problems in checkpoints:
        for problem in problems:
            failed = True
            click.echo(f"检查点不符 (checkpoint): {problem}", err=True)
        if not problems:
            click.echo(f"检查点相符 (checkpoint holds): {checkpoint.line()[:120]}…")
    for round_id, mismatches in wrong.items():
        for m in mismatches:
            failed = True
            click.echo(
                f"统计汇总与答卷不符 (tally disagrees): round {round_id}, link {m.link}, "
                f"{m.questionnaire_id} {m.questionnaire_version}: {m.stored_returned} tallied, "
                f"{m.counted_returned} stored; 有效 (valid) {m.stored_valid} tallied, {m.counted_valid} stored; "
                f"剔除 (excluded) {m.stored_excluded} tallied, {m.counted_excluded} stored",
                err=True,
            )
    if not wrong:
        click.echo("统计汇总与答卷一致 (tallies agree with the responses)。")
    if failed:
        sys.exit(1)


@main.command()
@click.option("--db", help=DB_HELP)
@click.option("--survey", "survey_id", type=int, help="Round id (default: every round).")
def retally(db: str | None, survey_id: int | None) -> None:
    """Rebuild the result tallies from the stored responses (after data was changed outside the service)."""
    from survey_service.integrity.service import retally as rebuild

    for round_id, count in run_with_database(_settings(db), lambda: rebuild(survey_id)).items():
        click.echo(f"已重建第 {round_id} 轮的统计汇总：{count} 组 (tallies rebuilt).")


@main.command()
@click.option("--db", help=DB_HELP)
@click.option("--survey", "survey_id", type=int, help="Round id.")
@click.option("--expired", is_flag=True, help="Every round closed longer ago than SURVEY_SIGNAL_RETENTION_DAYS.")
def purge(db: str | None, survey_id: int | None, expired: bool) -> None:
    """Remove the device, network and browser hashes of a round (after it is over)."""
    from survey_service.integrity.service import purge_expired, purge_signals

    if (survey_id is None) == (not expired):
        raise click.UsageError("请给出 --survey ID 或 --expired 之一 (one of --survey ID or --expired).")
    settings = _settings(db)
    if survey_id is None:  # --expired
        purged = run_with_database(settings, lambda: purge_expired(settings.signal_retention_days))
    else:
        purged = {survey_id: run_with_database(settings, lambda: purge_signals(survey_id))}
    for round_id, count in purged.items():
        click.echo(f"已清除第 {round_id} 轮 {count} 份答卷的设备与网络哈希 (signal hashes purged).")
    if not purged:
        click.echo(f"没有结束超过 {settings.signal_retention_days} 天的调查轮次 (nothing to purge).")


@main.group()
def user() -> None:
    """Console accounts (控制台账号)."""


@user.command("add")
@click.option("--db", help=DB_HELP)
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice(["bureau", "school"]), help="bureau: 教育局; school: 学校.")
@click.option("--school", "school_code", help="The school code of a school operator (学校代码).")
@click.option("--password", help="At least 8 characters (default: a generated one, printed once).")
def user_add(db: str | None, username: str, role: str, school_code: str | None, password: str | None) -> None:
    """Add a console account: bureau staff, or a school's operator."""
    from survey_service.accounts.passwords import generate_password
    from survey_service.accounts.service import account_spec, add_account

    generated = password is None
    try:
        spec = account_spec(
            username=username,
            role=role,
            school_code=school_code,
            password=generate_password() if generated else password,
        )
    except SurveyServiceError as exc:
        raise click.UsageError(exc.message) from exc
    run_with_database(_settings(db), lambda: add_account(spec))
    click.echo(f"已添加账号 {username}（{'教育局' if role == 'bureau' else f'学校 {school_code}'}）。")
    if generated:
        click.echo(f"初始密码 (password, shown once): {spec.password}")


@main.group()
def links() -> None:
    """The links of a round."""


@links.command("export")
@click.option("--db", help=DB_HELP)
@click.option("--survey", "survey_id", type=int, help="Round id (default: the newest).")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="File (default: standard output).")
@click.option("--public-url", metavar="URL", help=PUBLIC_URL_HELP)
def links_export(db: str | None, survey_id: int | None, fmt: str, out: Path | None, public_url: str | None) -> None:
    """Export the links as CSV (standard output by default) or XLSX."""
    from survey_service.core.manifest import write_with_manifest
    from survey_service.distribution.export import links_csv, links_xlsx

    if fmt == "xlsx" and out is None and sys.stdout.isatty():
        raise click.UsageError("XLSX 是二进制文件，请用 --out 指定文件 (use --out FILE for xlsx).")
    settings = _settings(db)
    url = _export_url(public_url)
    rows = run_with_database(settings, lambda: _round_links(survey_id, url))
    data = links_xlsx(rows) if fmt == "xlsx" else links_csv(rows).encode("utf-8")
    if out is None:
        sys.stdout.buffer.write(data)
    else:
        sidecar = write_with_manifest(out, data)
        click.echo(f"已导出 {len(rows)} 个链接到 {out}（校验文件 {sidecar.name}）", err=True)


def _export_url(given: str | None) -> str:
    """The address exported links and QR codes carry: --public-url, else SURVEY_PUBLIC_URL. Without
    either the default address is used, with a warning: it only opens on this machine."""
    url = given or os.environ.get("SURVEY_PUBLIC_URL")
    if url:
        if not url.startswith(("http://", "https://")):
            raise click.BadParameter(
                "须以 http:// 或 https:// 开头 (must start with http:// or https://).", param_hint="--public-url"
            )
        return url.rstrip("/")
    url = Settings().public_url
    click.echo(
        f"注意 (warning): 未给出 --public-url，也未设置 SURVEY_PUBLIC_URL，链接使用 {url}，只能在本机打开 "
        "(links point at this machine only; give the address the service is served at).",
        err=True,
    )
    return url


async def _round_links(survey_id: int | None, public_url: str):
    from survey_service.distribution.service import list_links
    from survey_service.surveys.service import resolve_round

    return await list_links(await resolve_round(survey_id), public_url)


@main.group()
def qr() -> None:
    """QR codes of the links."""


@qr.command("export")
@click.option("--db", help=DB_HELP)
@click.option("--survey", "survey_id", type=int, help="Round id (default: the newest).")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["png", "svg"]), default="png", show_default=True)
@click.option("--public-url", metavar="URL", help=PUBLIC_URL_HELP)
def qr_export(db: str | None, survey_id: int | None, out: Path, fmt: str, public_url: str | None) -> None:
    """One QR code file per link captioned with its school and group, named by them."""
    from survey_service.core.manifest import MANIFEST_NAME, manifest
    from survey_service.distribution.export import qr_filenames
    from survey_service.distribution.kit import caption_lines
    from survey_service.distribution.qr import captioned

    settings = _settings(db)
    url = _export_url(public_url)
    rows = run_with_database(settings, lambda: _round_links(survey_id, url))
    out.mkdir(parents=True, exist_ok=True)
    with click.progressbar(rows, label="生成二维码 (QR codes)", file=sys.stderr) as bar:
        images = [captioned(row.url, caption_lines(row), fmt) for row in bar]
    made = images[0][0] if images else fmt  # SVG when PNG was asked for and no CJK font was found
    written = dict(zip(qr_filenames(rows, made), (data for _, data in images)))
    for name, data in written.items():
        (out / name).write_bytes(data)
    if made != fmt:
        click.echo(
            "未找到中文字体，二维码改存为 SVG（说明文字为文本）；安装 fonts-wqy-microhei 或 fonts-noto-cjk 后可生成 PNG"
            " / no CJK font found: wrote SVG with text captions instead of PNG",
            err=True,
        )
    (out / MANIFEST_NAME).write_text(manifest(written), encoding="utf-8")
    click.echo(f"已生成 {len(rows)} 个二维码到 {out}（校验文件 {MANIFEST_NAME}）", err=True)


def _write_output(data: bytes, out: Path | None, what: str) -> None:
    if out is None:
        sys.stdout.buffer.write(data)
    else:
        out.write_bytes(data)
        click.echo(f"已写入{what}：{out}", err=True)


def _render_result(result, fmt: str, labels: dict[str, str], title: str = "", parts=None) -> bytes:
    import msgspec

    if fmt == "json":
        return msgspec.json.format(msgspec.json.encode(result), indent=2) + b"\n"
    if fmt == "xlsx":
        from survey_service.results.workbook import report_xlsx

        return report_xlsx(result, labels)
    from survey_service.results.markdown import report_markdown

    return report_markdown(result, labels, title, parts).encode("utf-8")


@main.command()
@click.option("--db", help=DB_HELP)
@click.option("--survey", "survey_id", type=int, help="Round id (default: the newest).")
@click.option("--format", "fmt", type=click.Choice(["json", "md", "xlsx"]), default="md", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="File (default: standard output).")
@click.option("--ci", "method", type=click.Choice(INTERVAL_METHODS), help="Interval method (default: logit).")
@click.option(
    "--compare",
    "previous_id",
    type=int,
    help="An earlier round of the same county to compare with (default: the round's 对比轮次, if set).",
)
def report(
    db: str | None,
    survey_id: int | None,
    fmt: str,
    out: Path | None,
    method: IntervalMethod | None,
    previous_id: int | None,
) -> None:
    """The round's 社会认可度 against its target, with breakdowns (JSON, Markdown or XLSX), and 与上一轮对比
    where a previous round is named."""
    from survey_service.core.resources import questionnaires_dir
    from survey_service.ledger.checkpoints import checkpoint_markdown
    from survey_service.ledger.checkpoints import issue as issue_checkpoint
    from survey_service.questionnaire import load_questionnaires
    from survey_service.results.comparison import with_comparison
    from survey_service.results.service import item_labels, round_result_by_questionnaire
    from survey_service.results.workbook_process import build
    from survey_service.surveys.service import record_export, resolve_round

    if fmt == "xlsx" and out is None and sys.stdout.isatty():
        raise click.UsageError("XLSX 是二进制文件，请用 --out 指定文件 (use --out FILE for xlsx).")
    settings = _settings(db)
    questionnaires = load_questionnaires(questionnaires_dir())

    async def work():
        round_id = await resolve_round(survey_id)
        demo = await Survey.exists().where((Survey.id == round_id) & (Survey.demo == True))  # noqa: E712
        result, parts = await round_result_by_questionnaire(round_id, method, questionnaires=questionnaires)
        await with_comparison(round_id, result, parts, previous_id, method, questionnaires)  # 与上一轮对比
        await record_export(round_id, f"命令行报告（{fmt}）", actor="命令行")  # a closed round's first export
        # The workbook signs its own checkpoint (results/workbook_process.py).
        checkpoint = None if fmt == "xlsx" else await issue_checkpoint(round_id, f"命令行报告（{fmt}）")
        return round_id, result, parts, demo, checkpoint

    round_id, result, parts, demo, checkpoint = run_with_database(settings, work)
    if fmt == "xlsx":  # the console's results workbook, the same file the bureau downloads
        content = build(settings, round_id, questionnaires, previous_id)
    elif fmt == "json":
        import msgspec

        signed = msgspec.to_builtins(result) | {"checkpoint": msgspec.to_builtins(checkpoint)}
        content = msgspec.json.format(msgspec.json.encode(signed), indent=2) + b"\n"
    else:
        # The demo round's answers are simulated: its printed report says so in its title.
        title = "社会认可度调查结果（演示数据：答卷为系统模拟生成）" if demo else ""
        content = _render_result(result, fmt, item_labels(questionnaires), title, parts)
        content += checkpoint_markdown(checkpoint).encode("utf-8")
    _write_output(content, out, "报告")


@main.command("import")
@click.option("--db", help=DB_HELP)
@click.option("--survey", "survey_id", type=int, help="Round id (default: the newest).")
@click.option("--from", "source", required=True, type=click.Choice(["wjx"]), help="What the file is: a 问卷星 export.")
@click.argument("export", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--map",
    "map_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The export's mapping (TOML): identity and school columns, item columns and ids, scale.",
)
@click.option("--unmatched", default="error", show_default=True, type=click.Choice(["error", "skip"]))
def import_command(
    db: str | None,
    survey_id: int | None,
    source: str,
    export: Path,
    map_file: Path | None,
    unmatched: Literal["error", "skip"],
) -> None:
    """Import a 问卷星 export (.xlsx or .csv) into a round: all of it, or nothing on any problem."""
    from survey_service.core.resources import questionnaires_dir
    from survey_service.questionnaire import load_questionnaires
    from survey_service.results.wjx_import import import_export
    from survey_service.surveys.service import resolve_round

    settings = _settings(db)
    questionnaires = load_questionnaires(questionnaires_dir())
    map_content = map_file.read_bytes() if map_file else None

    async def work():
        round_id = await resolve_round(survey_id)
        return round_id, await import_export(
            settings, questionnaires, round_id, export.name, export.read_bytes(), map_content, unmatched
        )

    round_id, (plan, outcome) = run_with_database(settings, work)
    click.echo("\n".join(plan.summary()), err=True)
    click.echo(
        f"已导入第 {round_id} 轮：新增 {outcome.stored} 份答卷（来源：问卷星导入），"
        f"{outcome.already} 份此前已导入，未重复保存。"
    )


@main.command()
@click.argument("responses", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--schools",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Roster (CSV or XLSX, as the console imports): code,name,students,parents,teachers,principals[,stage,location].",
)
@click.option("--population", multiple=True, metavar="GROUP=N", help="Population of a county-level group (repeatable).")
@click.option("--weights", metavar="GROUP=W,...", help="Group weights; groups not named get 0 (default: parents 0.5).")
@click.option(
    "--target", default=DEFAULT_TARGET, show_default=True, type=click.FloatRange(0, 1, min_open=True, max_open=True)
)
@click.option(
    "--level",
    "confidence_level",
    default=DEFAULT_CONFIDENCE_LEVEL,
    show_default=True,
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    help="Confidence level, a fraction.",
)
@click.option("--ci", "method", default="logit", show_default=True, type=click.Choice(INTERVAL_METHODS))
@click.option("--design", default="strata", show_default=True, type=click.Choice(["strata", "clusters"]))
@click.option(
    "--questionnaire",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Questionnaire file mapping option labels in item columns (else a `score` column gives y).",
)
@click.option(
    "--map",
    "map_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A 问卷星 export's mapping (TOML): identity and school columns, item columns, scale.",
)
@click.option(
    "--unmatched",
    default="error",
    show_default=True,
    type=click.Choice(["error", "skip"]),
    help="A 问卷星 answer whose school or identity is unknown: refuse the file, or leave it out (reported).",
)
@click.option(
    "--previous",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The previous round's answers (same format, same roster): adds 与上一轮对比.",
)
@click.option(
    "--previous-questionnaire",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The questionnaire the previous round answered (default: --questionnaire); changed items are 不可比.",
)
@click.option(
    "--resident-population",
    type=click.IntRange(0, 100_000_000),
    default=0,
    help="常住人口: sizes the national check's sample (迎检预判); without it the national minimum of 600.",
)
@click.option(
    "--national-weighting",
    type=click.Choice(["respondents", "round"]),
    default="respondents",
    show_default=True,
    help="迎检预判: the national figure weighs groups by respondents, or by these group weights.",
)
@click.option("--format", "fmt", type=click.Choice(["json", "md"]), default="md", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="File (default: standard output).")
def analyze(
    responses: Path,
    schools: Path,
    population: tuple[str, ...],
    weights: str | None,
    target: float,
    confidence_level: float,
    method: IntervalMethod,
    design: DesignType,
    questionnaire: Path | None,
    map_file: Path | None,
    unmatched: Literal["error", "skip"],
    previous: Path | None,
    previous_questionnaire: Path | None,
    resident_population: int,
    national_weighting: NationalWeighting,
    fmt: str,
    out: Path | None,
) -> None:
    """The same analysis for answers collected elsewhere (CSV files, or a 问卷星 export as downloaded)."""
    from analysis import Settings as AnalysisSettings
    from survey_service.questionnaire import QuestionnaireError, load_questionnaire
    from survey_service.results import csv_input
    from survey_service.results.wjx_analysis import item_labels, read_wjx_answers
    from survey_service.results.wjx_input import looks_like_wjx

    try:
        form = load_questionnaire(questionnaire) if questionnaire else None
        roster = csv_input.read_roster(schools)
        if wjx := looks_like_wjx(responses):
            answers, mapping, mapped = read_wjx_answers(responses, roster, map_file, unmatched)
            click.echo("\n".join(mapped), err=True)
        else:
            answers = csv_input.read_answers(responses, roster, form)
        settings = AnalysisSettings(
            target=target,
            confidence_level=confidence_level,
            method=method,
            design=design,
            group_weights=csv_input.parse_weights(weights),
            resident_population=resident_population,
            national_weighting=national_weighting,
        )
        result = csv_input.analyse_files(roster, answers, settings, csv_input.parse_populations(population))
        if previous is not None:  # 与上一轮对比: the previous file read as this one was
            from survey_service.results.previous_file import compare_with_file

            def read_previous(path: Path, previous_form):
                if wjx:
                    return read_wjx_answers(path, roster, map_file, unmatched)[0]
                return csv_input.read_answers(path, roster, previous_form)

            before_form = load_questionnaire(previous_questionnaire) if previous_questionnaire else form
            result.comparison = compare_with_file(
                result,
                responses,
                previous,
                read_previous,
                roster,
                settings,
                csv_input.parse_populations(population),
                form,
                before_form,
            )
    except (SurveyServiceError, QuestionnaireError) as exc:
        raise click.ClickException(str(exc)) from exc
    except ValueError as exc:  # the analysis library's own checks on the design
        raise click.ClickException(f"无法分析：{exc}") from exc
    labels = {item.id: item.text for item in form.rated_items} if form else {}
    if wjx:
        labels = item_labels(mapping)
    _write_output(_render_result(result, fmt, labels, f"社会认可度分析：{responses.name}"), out, "分析结果")
