"""The ``hazwatch`` command line (Typer)."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import orjson
import typer
import uvicorn

from hazwatch.api.app import create_app
from hazwatch.auth.password import WeakPasswordError, hash_password
from hazwatch.cli.evaluate import evaluate_app
from hazwatch.cli.options import ConfigOpt, DatabaseOpt, DataDirOpt, fail, settings_of
from hazwatch.cli.plume import plume
from hazwatch.cli.warn import warn_app
from hazwatch.connectors.base import ConnectorError
from hazwatch.connectors.config_file import (
    ConnectorConfigError,
    ConnectorEntry,
    load_connectors,
)
from hazwatch.connectors.mqtt.dynsec import BrokerAdmin, DynsecError, bootstrap_config
from hazwatch.connectors.probe import probe
from hazwatch.connectors.simulator.demo import select_incidents
from hazwatch.connectors.simulator.incident import IncidentError
from hazwatch.demo import prepare_demo
from hazwatch.domain.role import Role
from hazwatch.gateway import GatewayConfigError, load_gateway_config, run_gateway
from hazwatch.plant.errors import PlantFileError
from hazwatch.plant.file import dump_plant, load_plant
from hazwatch.runtime.clock import AnchoredClock, Clock, WallClock, wall_now
from hazwatch.settings import Settings, SimulatorSettings
from hazwatch.storage.database import Database
from hazwatch.storage.plant_repository import PlantRepository
from hazwatch.storage.user_repository import UserRepository

T = TypeVar("T")

app = typer.Typer(no_args_is_help=True, add_completion=False, help="hazwatch: safety supervision")
db_app = typer.Typer(no_args_is_help=True, help="Database maintenance")
plant_app = typer.Typer(no_args_is_help=True, help="Plant declarations (YAML)")
user_app = typer.Typer(no_args_is_help=True, help="Users and their roles")
connector_app = typer.Typer(no_args_is_help=True, help="Connectors to PLCs, servers, brokers")
broker_app = typer.Typer(
    no_args_is_help=True,
    help="Device accounts and topic rights at a Mosquitto with dynamic security",
)
app.add_typer(db_app, name="db")
app.add_typer(plant_app, name="plant")
app.add_typer(user_app, name="user")
app.add_typer(connector_app, name="connector")
app.add_typer(broker_app, name="broker")
app.add_typer(warn_app, name="warn")
app.add_typer(evaluate_app, name="evaluate")
app.command("plume")(plume)


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    data_dir: Annotated[Path, typer.Option(help="folder for the demo database")] = Path(
        "hazwatch-demo"
    ),
    speed: Annotated[
        float, typer.Option(help="simulated time runs this many times faster", min=0.1, max=3600)
    ] = 1.0,
    admin_password: Annotated[
        str | None, typer.Option(help="password of the demo's 'admin' (default: generated)")
    ] = None,
    seed: Annotated[int, typer.Option(help="seed of the simulator")] = 0,
    incidents: Annotated[
        str | None,
        typer.Option(
            help="scripted incidents to play: keys, each optionally @ start in simulated "
            "seconds (chlorine-leak@60,lpg-overfill); '' for none; default: the whole script"
        ),
    ] = None,
) -> None:
    """Run the demo: embedded SQLite, the built-in chemical-park simulator, the web UI."""

    settings = Settings(
        data_dir=data_dir,
        host=host,
        port=port,
        simulator=SimulatorSettings(enabled=True, speed=speed, seed=seed, incidents=incidents),
    )
    _check_incidents(settings)
    password = admin_password or secrets.token_urlsafe(9)
    try:
        clock = prepare_demo(settings, admin_password=password)
    except ValueError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"hazwatch demo on http://{host}:{port}/  (simulated time x{speed:g})")
    typer.echo("  user: admin")
    if admin_password is None:
        typer.echo(f"  password: {password}")
    _serve(settings, clock)


@app.command()
def serve(
    config: Annotated[Path, typer.Option("--config", "-c", help="settings file", exists=True)],
    host: Annotated[str | None, typer.Option(help="overrides the settings file")] = None,
    port: Annotated[int | None, typer.Option(help="overrides the settings file")] = None,
) -> None:
    """Run hazwatch with a settings file."""

    settings = settings_of(config, host=host, port=port)
    if settings.plant_file is not None:
        _import(settings, settings.plant_file)
    _check_incidents(settings)
    simulator = settings.simulator
    clock: Clock = WallClock()
    if simulator.enabled and (simulator.epoch_ms is not None or simulator.speed != 1):
        clock = AnchoredClock(simulator.speed, simulator.epoch_ms or wall_now())
    _serve(settings, clock)


def _check_incidents(settings: Settings) -> None:
    chosen = settings.simulator.incidents
    if chosen is not None:
        try:
            select_incidents(chosen)
        except IncidentError as exc:
            raise fail(str(exc)) from exc


def _connectors(settings: Settings) -> list[ConnectorEntry]:
    """The connectors of the settings' connectors file and plant file, validated."""
    entries: list[ConnectorEntry] = []
    try:
        for path in (settings.plant_file, settings.connectors_file):
            if path is not None:
                entries += load_connectors(path)
    except ConnectorConfigError as exc:
        raise fail(str(exc)) from exc
    names = [e.name for e in entries]
    if len(set(names)) != len(names):
        raise fail("two connectors share a name across the plant and connectors files")
    return entries


def _serve(settings: Settings, clock: Clock) -> None:
    connectors = _connectors(settings)
    uvicorn.run(
        create_app(settings, clock=clock, connectors=connectors),
        host=settings.host,
        port=settings.port,
        log_level="info",
    )


@db_app.command("upgrade")
def db_upgrade(
    config: ConfigOpt = None, data_dir: DataDirOpt = None, database_url: DatabaseOpt = None
) -> None:
    """Create or migrate the database schema to the newest version."""

    settings = settings_of(config, data_dir=data_dir, database_url=database_url)
    db = Database.open(settings.resolved_database_url)
    try:
        db.upgrade()
    finally:
        db.close()
    typer.echo("database is up to date")


def _import(settings: Settings, file: Path) -> None:

    try:
        spec = load_plant(file)
    except PlantFileError as exc:
        raise fail(str(exc)) from exc
    db = Database.open(settings.resolved_database_url)
    try:
        db.upgrade()
        summary = PlantRepository(db).save(spec)
    finally:
        db.close()
    if not summary.changed:
        typer.echo(f"imported {file}: nothing changed")
        return
    typer.echo(
        f"imported {file}: {summary.nodes_created} nodes created, {summary.nodes_updated} updated;"
        f" {summary.tags_created} tags created, {summary.tags_updated} updated;"
        f" {summary.inventories_changed} inventories changed;"
        f" places or resources of {summary.parks_changed} parks changed"
    )
    if summary.orphaned:
        typer.echo(f"kept {len(summary.orphaned)} stored tags the file no longer declares:")
        for key in summary.orphaned:
            typer.echo(f"  {key}")


@plant_app.command("import")
def plant_import(
    file: Annotated[Path, typer.Argument(help="plant YAML file", exists=True, dir_okay=False)],
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Validate a plant file and store it (re-importing the same file changes nothing)."""
    _import(settings_of(config, data_dir=data_dir, database_url=database_url), file)


@plant_app.command("export")
def plant_export(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="file to write (default: stdout)")
    ] = None,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Write the stored plant as YAML (it imports back unchanged)."""

    settings = settings_of(config, data_dir=data_dir, database_url=database_url)
    db = Database.open(settings.resolved_database_url)
    try:
        db.upgrade()
        text = dump_plant(PlantRepository(db).export())
    finally:
        db.close()
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="user name")],
    role: Annotated[str, typer.Option(help="admin, operator or viewer")] = "viewer",
    scope: Annotated[
        str | None,
        typer.Option(help="scope node keys from the region down, e.g. demo-region/demo-park"),
    ] = None,
    password: Annotated[
        str | None, typer.Option(help="password (default: asked for)", hide_input=True)
    ] = None,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Add a user with a role on one node of the scope tree (default: the region)."""

    try:
        the_role = Role(role)
    except ValueError:
        raise fail(f"unknown role {role!r}: use admin, operator or viewer") from None
    secret = password or typer.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        password_hash = hash_password(secret)
    except WeakPasswordError as exc:
        raise fail(str(exc)) from exc
    settings = settings_of(config, data_dir=data_dir, database_url=database_url)
    db = Database.open(settings.resolved_database_url)
    try:
        db.upgrade()
        node = PlantRepository(db).node_by_keys(scope.split("/") if scope else None)
        if node is None:
            raise fail(
                f"no scope node {scope!r}" if scope else "no plant yet: import a plant first"
            )
        users = UserRepository(db)
        if users.get(username) is not None:
            raise fail(f"user {username!r} exists already")
        users.add(username, password_hash, the_role, node.id)
    finally:
        db.close()
    typer.echo(f"added {username} as {the_role.value} on {node.kind.value} {node.key}")


@app.command()
def gateway(
    config: Annotated[
        Path, typer.Option("--config", "-c", help="gateway file (YAML)", exists=True)
    ],
) -> None:
    """Run the edge gateway: connectors at the plant, a disk queue, forwarding upstream."""

    try:
        settings = load_gateway_config(config)
    except GatewayConfigError as exc:
        raise fail(str(exc)) from exc
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    asyncio.run(run_gateway(settings))


@connector_app.command("test")
def connector_test(
    config: Annotated[
        Path, typer.Argument(help="connectors file, plant file or gateway file (YAML)")
    ],
    name: Annotated[str | None, typer.Option(help="only the connector of this name")] = None,
    count: Annotated[int, typer.Option(help="stop after this many readings", min=1)] = 10,
    timeout: Annotated[float, typer.Option(help="give up after this many seconds", min=0.1)] = 15,
) -> None:
    """Connect with each configured connector, read a few values and print them."""

    try:
        entries = load_connectors(config)
    except ConnectorConfigError as exc:
        raise fail(str(exc)) from exc
    if name is not None:
        entries = [e for e in entries if e.name == name]
    if not entries:
        raise fail(f"{config}: no connector{f' named {name!r}' if name else ''} configured")
    failed = 0
    for entry in entries:
        result = asyncio.run(probe(entry, count=count, timeout_s=timeout, say=typer.echo))
        failed += not result.ok
    if failed:
        raise typer.Exit(code=1)


BrokerHost = Annotated[str, typer.Option("--host", help="the broker")]
BrokerPort = Annotated[int, typer.Option("--port", help="the broker's port")]
AdminUser = Annotated[str, typer.Option("--admin-user", help="the dynamic-security administrator")]
AdminPassword = Annotated[
    str,
    typer.Option(
        "--admin-password",
        envvar="HAZWATCH_BROKER_ADMIN_PASSWORD",
        help="the administrator's password (or HAZWATCH_BROKER_ADMIN_PASSWORD)",
    ),
]


def _broker(
    host: str, port: int, user: str, password: str, work: Callable[[BrokerAdmin], Awaitable[T]]
) -> T:
    async def run() -> T:
        async with BrokerAdmin(host=host, port=port, username=user, password=password) as admin:
            return await work(admin)

    try:
        return asyncio.run(run())
    except (ConnectorError, DynsecError) as exc:
        raise fail(str(exc)) from exc


@broker_app.command("init")
def broker_init(
    file: Annotated[Path, typer.Argument(help="the plugin's configuration file to write")],
    admin_user: AdminUser = "admin",
    admin_password: Annotated[
        str | None, typer.Option(help="the administrator's password (default: generated)")
    ] = None,
) -> None:
    """Write the dynamic-security plugin's first configuration: one administrator."""

    if file.exists():
        raise fail(f"{file} exists: the plugin keeps its accounts there")
    password = admin_password or secrets.token_urlsafe(18)
    file.write_bytes(
        orjson.dumps(bootstrap_config(admin_user, password), option=orjson.OPT_INDENT_2)
    )
    file.chmod(0o600)
    typer.echo(f"wrote {file}; administrator {admin_user!r}")
    if admin_password is None:
        typer.echo(f"  password: {password}")


@broker_app.command("platform")
def broker_platform(
    username: Annotated[str, typer.Argument(help="the platform's account at the broker")],
    admin_password: AdminPassword,
    host: BrokerHost = "127.0.0.1",
    port: BrokerPort = 1883,
    admin_user: AdminUser = "admin",
) -> None:
    """Create (or reset) the platform's account: it may read all readings and link states."""

    password = secrets.token_urlsafe(24)
    _broker(
        host,
        port,
        admin_user,
        admin_password,
        lambda admin: admin.ensure_platform_client(username, password),
    )
    typer.echo(f"platform account {username!r}\n  password: {password}")


@broker_app.command("device-add")
def broker_device_add(
    device: Annotated[str, typer.Argument(help="the device's equipment key (its username)")],
    admin_password: AdminPassword,
    host: BrokerHost = "127.0.0.1",
    port: BrokerPort = 1883,
    admin_user: AdminUser = "admin",
) -> None:
    """Create a device's account: it may publish only under its own enterprise's topics."""

    password = _broker(host, port, admin_user, admin_password, lambda a: a.create_device(device))
    typer.echo(f"device {device!r}\n  password: {password}")


@broker_app.command("device-remove")
def broker_device_remove(
    device: Annotated[str, typer.Argument(help="the device's equipment key")],
    admin_password: AdminPassword,
    host: BrokerHost = "127.0.0.1",
    port: BrokerPort = 1883,
    admin_user: AdminUser = "admin",
) -> None:
    """Remove a device's account; the broker disconnects it."""

    _broker(host, port, admin_user, admin_password, lambda a: a.delete_device(device))
    typer.echo(f"device {device!r} removed")


@broker_app.command("devices")
def broker_devices(
    admin_password: AdminPassword,
    host: BrokerHost = "127.0.0.1",
    port: BrokerPort = 1883,
    admin_user: AdminUser = "admin",
) -> None:
    """List the device accounts and their enterprises."""

    for d in _broker(host, port, admin_user, admin_password, lambda a: a.list_devices()):
        typer.echo(f"{d.key}  {d.enterprise}{'  (disabled)' if d.disabled else ''}")


def main() -> None:
    app()
