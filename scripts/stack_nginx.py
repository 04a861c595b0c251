"""Rendering nginx/nginx.conf.template outside Docker, the way the nginx
image's envsubst step does inside it, and preparing the static files the way
the image's build does. Used by scripts/stack.py and the offline checks."""
from __future__ import annotations

import gzip
import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "nginx" / "nginx.conf.template"
PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")
# Text assets nginx serves precompressed (gzip_static); the Dockerfile's nginx
# stage compresses the same suffixes.
PRECOMPRESSED = (".css", ".js", ".map", ".svg", ".json", ".txt", ".html")


class TemplateError(ValueError):
    pass


def render_nginx(values: dict[str, str], template: Path = TEMPLATE) -> str:
    """Fill the template's placeholders. Every one must have a value: envsubst
    would leave a misspelt one in place for nginx to choke on at start."""
    text = template.read_text()
    missing = sorted(set(PLACEHOLDER.findall(text)) - set(values))
    if missing:
        raise TemplateError(f"no value for {', '.join(missing)} in {template.name}")
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def upstream_servers(addresses: list[str]) -> str:
    # max_fails=0: nginx never marks a replica down; the template's upstream
    # block says why. docker-compose.yml gives the same for "web".
    return " ".join(f"server {address} max_fails=0;" for address in addresses)


def precompressed_copy(source: Path, target: Path) -> None:
    """Copy static/ with a .gz beside each text asset, as the nginx image has it."""
    shutil.copytree(source, target)
    for path in target.rglob("*"):
        if path.is_file() and path.suffix in PRECOMPRESSED:
            with path.open("rb") as raw, gzip.open(path.with_name(path.name + ".gz"), "wb", compresslevel=9) as packed:
                shutil.copyfileobj(raw, packed)
