#!/usr/bin/env python3
"""Checks docker-compose.yml without a container engine: the app's data dir
(uploaded photos, the SQLite fallback) is on a named volume, so recreating
the container keeps it; and every secret comes from the environment with
`${VAR:?message}`, so compose refuses to start without it instead of
running on a value printed in the repository.

Run from anywhere: tests/compose/check.py [path/to/docker-compose.yml]
"""

import re
import sys
from pathlib import Path

try:
    import yaml
except ImportError:
    sys.exit("tests/compose/check.py needs PyYAML: apt-get install python3-yaml")

ROOT = Path(__file__).resolve().parents[2]
# The data dir the image uses when DATA_DIR is not set (Dockerfile `ENV`).
IMAGE_DATA_DIR = "/var/lib/xianfeng"
# Variables of each service that must never be written in the file.
SECRETS = {
    "app": ["JWT_SECRET", "ID_NUMBER_KEY"],
    "postgres": ["POSTGRES_PASSWORD"],
}
REQUIRED = re.compile(r"\$\{(?P<name>[A-Z0-9_]+):\?[^}]+\}")


def environment(service):
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return env


def mounts(service):
    """(source, target) of each volume of the service, short or long form."""
    for volume in service.get("volumes") or []:
        if isinstance(volume, str):
            source, _, rest = volume.partition(":")
            yield source, rest.split(":")[0]
        else:
            yield volume.get("source"), volume.get("target")


def problems(compose):
    services = compose.get("services") or {}
    named_volumes = compose.get("volumes") or {}
    app = services.get("app")
    if app is None:
        return ["no service `app`"]
    found = []

    data_dir = environment(app).get("DATA_DIR", IMAGE_DATA_DIR)
    on_volume = [source for source, target in mounts(app) if target == data_dir]
    if not on_volume:
        found.append(f"app: no volume mounted at its data dir {data_dir} (uploads are lost when the container is recreated)")
    for source in on_volume:
        if source not in named_volumes:
            found.append(f"app: {source} mounted at {data_dir} is not a named volume under `volumes:`")

    for name, variables in SECRETS.items():
        env = environment(services.get(name) or {})
        for variable in variables:
            value = str(env.get(variable, ""))
            match = REQUIRED.fullmatch(value)
            if not match or match["name"] != variable:
                found.append(f"{name}: {variable} is {value!r}, not ${{{variable}:?…}} from the environment")
    database_url = str(environment(app).get("DATABASE_URL", ""))
    password = re.search(r"://[^:/@]+:([^@]*)@", database_url)
    if password and not REQUIRED.fullmatch(password[1]):
        found.append(f"app: the password in DATABASE_URL is written in the file, not ${{POSTGRES_PASSWORD:?…}}")
    return found


def main():
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docker-compose.yml"
    found = problems(yaml.safe_load(path.read_text()))
    for problem in found:
        print(f"{path.name}: {problem}", file=sys.stderr)
    if found:
        sys.exit(1)
    print(f"{path.name}: app data on a named volume, secrets from the environment")


if __name__ == "__main__":
    main()
