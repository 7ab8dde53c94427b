"""One Dovecot 2.3 instance with its own generated config, run dir and log."""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .certs import ServerCert
from .ports import wait_for_port

MAIL_UID = 65534  # nobody/nogroup: Dovecot refuses to store mail as root
_PR_SET_PDEATHSIG = 1
_UNIX_SOCKET_PATH_MAX = 100  # sun_path is 108 bytes, minus some slack


@dataclass(frozen=True)
class Listener:
    service: str  # "imap-login" or "pop3-login"
    name: str  # "imap", "imaps", "pop3"
    port: int
    ssl: bool = False


@dataclass(frozen=True)
class Shared:
    """What every instance of one lab has in common."""

    host: str
    alerts_dict_conf: Path
    users_dict_conf: Path
    mail_root: Path
    oauth2_conf: Path | None = None  # SASL XOAUTH2/OAUTHBEARER checked by token introspection
    connections: int = 0  # more than Dovecot's defaults allow (about 100 TLS sessions): benchmarks/scale.py


class DovecotInstance:
    def __init__(
        self,
        name: str,
        directory: Path,
        shared: Shared,
        listeners: list[Listener],
        cert: ServerCert | None,
    ) -> None:
        self.name = name
        self.directory = directory
        self.shared = shared
        self.listeners = listeners
        self.cert = cert
        self.log_path = directory / "dovecot.log"
        self.stderr_path = directory / "stderr.log"
        self.conf_path = directory / "dovecot.conf"
        # Unix socket paths must fit in 108 bytes; fall back to a short temp dir.
        self._own_tmp: Path | None = None
        self._run_dir = directory / "run"
        if len(str(self._run_dir)) + 30 > _UNIX_SOCKET_PATH_MAX:
            self._own_tmp = Path(tempfile.mkdtemp(prefix="localmail-"))
            self._own_tmp.chmod(0o755)  # Dovecot's unprivileged processes connect in here
            self._run_dir = self._own_tmp / "run"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "state").mkdir(exist_ok=True)
        (self._run_dir / "master.pid").unlink(missing_ok=True)  # left by a killed earlier run
        self.conf_path.write_text(self._config())
        dovecot = shutil.which("dovecot") or "/usr/sbin/dovecot"
        with self.stderr_path.open("wb") as stderr:
            self._proc = subprocess.Popen(
                [dovecot, "-F", "-c", str(self.conf_path)],
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
                start_new_session=True,  # own process group: stop() can kill every child
                preexec_fn=_die_with_parent,
            )

    def wait_ready(self, deadline: float) -> None:
        for listener in self.listeners:
            if not wait_for_port(self.shared.host, listener.port, deadline, self._running):
                problem = f"did not open its {listener.name} port {listener.port} in time"
                if not self._running():
                    problem = "exited while starting"
                raise RuntimeError(f"Dovecot '{self.name}' {problem}.\n{self.diagnostics()}")

    def stop(self) -> None:
        self.halt()
        if self._own_tmp is not None:
            shutil.rmtree(self._own_tmp, ignore_errors=True)

    def halt(self) -> None:
        """Kill Dovecot (master and every child) but keep its directories: start() may follow."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            # A graceful SIGTERM makes the master wait ~5 s for its children; the
            # lab holds no state worth a clean shutdown (mail is on disk already).
            # The master is not reaped yet, so its process group id is still ours.
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    @property
    def running(self) -> bool:
        return self._running()

    def doveadm(self, *args: str, timeout: float = 60.0) -> str:
        """Run `doveadm -c <this config> args...` against the running instance; its stdout."""
        doveadm = shutil.which("doveadm") or "/usr/bin/doveadm"
        done = subprocess.run(
            [doveadm, "-c", str(self.conf_path), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"doveadm {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}"
            )
        return done.stdout

    def diagnostics(self) -> str:
        parts = [f"config: {self.conf_path}"]
        for path in (self.stderr_path, self.log_path):
            if path.exists():
                tail = path.read_text(errors="replace").splitlines()[-20:]
                parts.append(f"--- {path} ---\n" + "\n".join(tail))
        return "\n".join(parts)

    def _running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _config(self) -> str:
        protocols = sorted({listener.service.removesuffix("-login") for listener in self.listeners})
        ssl = "no"
        mechanisms, password_only, oauth2 = "plain login", "", ""
        if self.shared.oauth2_conf is not None:
            mechanisms = "plain login xoauth2 oauthbearer"
            # a token is never compared with a password; "none": lookups without a login (doveadm, static userdb)
            password_only = "\n  mechanisms = plain login none"
            oauth2 = f"""
# Access tokens: Dovecot POSTs token=...&client_id=&client_secret= to the introspection URL and
# logs in the user named by the answer's "email" when "active" is true.
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {self.shared.oauth2_conf}
}}"""
        if self.cert is not None:
            ssl = f"yes\nssl_cert = <{self.cert.cert}\nssl_key = <{self.cert.key}"
        return f"""\
# Generated by localmail for the '{self.name}' instance.
instance_name = localmail-{self.name}-{os.getpid()}
base_dir = {self._run_dir}
state_dir = {self.directory / "state"}
log_path = {self.log_path}
protocols = {" ".join(protocols)}
listen = {self.shared.host}
ssl = {ssl}
disable_plaintext_auth = yes
auth_mechanisms = {mechanisms}
auth_cache_size = 0
auth_failure_delay = 0
auth_verbose = yes
login_greeting = Dovecot ready.
mail_location = maildir:~/Maildir
mail_fsync = never
mail_privileged_group =
mail_max_userip_connections = 100
# "[user ip IDLE]" in the imap process's title: MailLab.in_idle() reads it
verbose_proctitle = yes
# IMAP sync tests: CONDSTORE/QRESYNC, IDLE, MOVE, UIDPLUS, ENABLE and SPECIAL-USE
# are built into Dovecot 2.3's imap (no mail_plugins). IDLE: a change by another
# session arrives through inotify at once; without inotify Dovecot polls every
# mailbox_idle_check_interval. "* OK Still here" every imap_idle_notify_interval.
imap_idle_notify_interval = 1 secs
mailbox_idle_check_interval = 1 secs
namespace inbox {{
  inbox = yes
{_special_folders()}}}
first_valid_uid = {MAIL_UID}
last_valid_uid = {MAIL_UID}
first_valid_gid = {MAIL_UID}
last_valid_gid = {MAIL_UID}
# Alert users: a correct password must still fail, with the alert as reason.
# (`nologin reason=...` would answer NO [CONTACTADMIN]; a failure carrying a
# reason is what imap-login turns into NO [ALERT].)
passdb {{
  driver = dict
  args = {self.shared.alerts_dict_conf}
  result_success = return-fail{password_only}
}}
passdb {{
  driver = dict
  args = {self.shared.users_dict_conf}{password_only}
}}{oauth2}
userdb {{
  driver = static
  args = uid={MAIL_UID} gid={MAIL_UID} home={self.shared.mail_root}/%u
}}
# No growing delays after failed logins from the relay's address (anvil auth penalty).
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
{self._services()}"""

    def _services(self) -> str:
        blocks = []
        defaults = {"imap-login": ("imap", "imaps"), "pop3-login": ("pop3", "pop3s")}
        for service in sorted({listener.service for listener in self.listeners}):
            lines = []
            for name in defaults[service]:
                match = [x for x in self.listeners if (x.service, x.name) == (service, name)]
                port = match[0].port if match else 0  # port 0 disables a default listener
                ssl = "\n    ssl = yes" if match and match[0].ssl else ""
                lines.append(f"  inet_listener {name} {{\n    port = {port}{ssl}\n  }}")
            if service == "imap-login" and self.shared.connections:
                # a few login processes proxy every TLS session, instead of one process each
                lines += ["  service_count = 0", "  process_min_avail = 2",
                          f"  client_limit = {self.shared.connections}"]
            blocks.append(f"service {service} {{\n" + "\n".join(lines) + "\n}\n")
        if self.shared.connections:
            blocks.append(f"service imap {{\n  process_limit = {self.shared.connections}\n}}\n")
            blocks.insert(0, f"default_client_limit = {self.shared.connections * 2}\n"
                             f"default_process_limit = {self.shared.connections}\n")
        return "\n".join(blocks)


# Folders every user has from the first login, with their RFC 6154 flags.
SPECIAL_FOLDERS = {
    "Sent": "\\Sent",
    "Drafts": "\\Drafts",
    "Trash": "\\Trash",
    "Junk": "\\Junk",
    "Archive": "\\Archive",
}


def _special_folders() -> str:
    return "".join(
        f"  mailbox {name} {{\n    special_use = {flag}\n    auto = subscribe\n  }}\n"
        for name, flag in SPECIAL_FOLDERS.items()
    )


def write_dict_conf(path: Path, dict_file: Path, prefix: str) -> None:
    """A dict passdb config reading JSON objects stored under `<prefix>/<user>`."""
    path.write_text(
        f"""\
uri = file:{dict_file}
default_pass_scheme = PLAIN
iterate_disable = yes
key passdb {{
  key = {prefix}/%u
  format = json
}}
passdb_objects = passdb
"""
    )


def write_oauth2_conf(path: Path, introspection_url: str) -> None:
    """The oauth2 passdb's settings: RFC 7662 introspection, the user named by the answer's email."""
    path.write_text(
        f"""\
introspection_mode = post
introspection_url = {introspection_url}
username_attribute = email
active_attribute = active
active_value = true
force_introspection = yes
"""
    )


def _die_with_parent() -> None:
    """Runs in the child: SIGTERM Dovecot if the Python process dies without stop().

    Linux ties this to the thread that forked, so start the lab from a thread
    that outlives it (normally the main thread).
    """
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
