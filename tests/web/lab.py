"""A real JupyterLab for the widget's tests and benchmark: offline, on a free loopback port,
a token, its own config folders, serving one folder; and helpers that drive its notebook
through the page (``window.jupyterapp``, exposed for this)."""

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from latentmap.web.background import free_port


class JupyterLab:
    def __init__(self, root: Path, env: dict[str, str] | None = None) -> None:
        self.root, self.token, self.port = root, secrets.token_hex(16), free_port("127.0.0.1")
        self.url = f"http://127.0.0.1:{self.port}"
        home = root / ".jupyter-home"
        news = home / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
        news.parent.mkdir(parents=True, exist_ok=True)
        news.write_text(json.dumps({"fetchNews": "false"}))  # no news toast over the screenshots
        self.env = {
            **os.environ,
            **(env or {}),
            "JUPYTER_CONFIG_DIR": str(home / "config"),
            "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
            "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
            "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
            "IPYTHONDIR": str(home / "ipython"),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }

    def __enter__(self) -> "JupyterLab":
        command = [
            sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}", f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}", "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly", "--allow-root",  # offline; CI runs as root
        ]  # fmt: skip
        self.log = open(self.root / "lab.log", "wb")  # closed in __exit__
        self.server = subprocess.Popen(command, cwd=self.root, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/api/status?token={self.token}", timeout=2):
                    return self
            except OSError:
                if self.server.poll() is not None or time.monotonic() > deadline:
                    self.__exit__()
                    raise RuntimeError(
                        f"JupyterLab did not start: {(self.root / 'lab.log').read_text()[-2000:]}"
                    ) from None
                time.sleep(0.3)

    def __exit__(self, *exc: object) -> None:
        self.server.terminate()
        self.server.wait(timeout=30)
        self.log.close()

    def open(self, page, notebook: str) -> None:
        """Open ``notebook`` (a path under the root) and wait for its kernel."""
        page.goto(f"{self.url}/lab/tree/{notebook}?token={self.token}")
        page.wait_for_function(
            "window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel?.status === 'idle'", polling=250
        )


def write_notebook(path: Path, cells: list[str]) -> None:
    """A notebook of code cells, no outputs."""
    notebook = {
        "cells": [
            {"cell_type": "code", "id": f"c{k}", "metadata": {}, "source": text, "execution_count": None, "outputs": []}
            for k, text in enumerate(cells)
        ],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(notebook, indent=1) + "\n")


def run_cell(page, index: int) -> str:
    """Run cell ``index`` of the open notebook to the end; its output as text."""
    return page.evaluate(
        """async (index) => {
            const panel = window.jupyterapp.shell.currentWidget;
            panel.content.activeCellIndex = index;
            await window.jupyterapp.commands.execute("notebook:run-cell");
            const cell = panel.content.widgets[index];
            return cell.outputArea ? cell.outputArea.node.innerText : "";
        }""",
        index,
    )


WIDGET = "document.querySelector('.latentmap-widget')"


def wait_for_points(page) -> None:
    page.wait_for_function(f"{WIDGET}?.explorer?.state.points?.count > 0", polling=50)
    page.evaluate(f"{WIDGET}.scrollIntoView()")
    page.wait_for_function(f"{WIDGET}.explorer.map.renders > 0", polling=50)
