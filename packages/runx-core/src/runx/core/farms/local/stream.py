"""Plain `-i`: a job's output streamed live to this terminal and appended to its run's job.log.

When runx's stdout is a terminal, the job writes to a pseudo-terminal of its own (it still sees a
terminal: progress bars, colours and line buffering behave as without runx) and runx copies what it
writes to both; otherwise its stdout and stderr are pipes copied to runx's stdout and stderr. The
job's stdin stays this terminal's (a breakpoint() still works)."""
from __future__ import annotations

import os
import select
import threading
from pathlib import Path
from typing import Callable, Dict, List, Optional

__all__ = ["Streamed"]


def _copy_window_size(source: int, target: int) -> None:
    try:
        import fcntl
        import termios

        size = fcntl.ioctl(source, termios.TIOCGWINSZ, b"\0" * 8)
        fcntl.ioctl(target, termios.TIOCSWINSZ, size)
    except (ImportError, OSError):
        pass


def _raw_output(fd: int) -> None:
    """No output processing on the job's pseudo-terminal: its `\n` reaches the real terminal (which
    makes it `\r\n` itself) and job.log as written."""
    try:
        import termios

        attrs = termios.tcgetattr(fd)
        attrs[1] &= ~termios.OPOST
        termios.tcsetattr(fd, termios.TCSANOW, attrs)
    except (ImportError, OSError):
        pass


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class Streamed:
    """A started job's output, copied to where runx's own goes and to `log` (appended): by the thread that
    waits for the job (`copy_until`), and by a thread of its own once that one has to do something else
    (`copy_in_background`, while an interrupted job is being stopped)."""

    def __init__(self, log: Path) -> None:
        self.use_pty = os.isatty(1)
        self.child_fds: List[int] = []
        self.routes: Dict[int, int] = {}  # our read end -> the terminal fd it is echoed to
        self.log_file = open(log, "ab")  # here, so a run directory that is gone fails the start, not the copying
        if self.use_pty:
            import pty

            primary, secondary = pty.openpty()
            _copy_window_size(1, secondary)
            _raw_output(secondary)
            self.child_fds = [secondary]
            self.routes = {primary: 1}
        else:
            out_r, out_w = os.pipe()
            self.child_fds = [out_w]
            self.routes = {out_r: 1}
        if self.use_pty and os.isatty(2):
            self.child_fds.append(self.child_fds[0])
        else:  # stderr kept apart: runx's own stderr is not the terminal its stdout is
            err_r, err_w = os.pipe()
            self.child_fds.append(err_w)
            self.routes[err_r] = 2
        self.open_fds = dict(self.routes)
        self.echo = {fd: True for fd in self.routes.values()}
        self.thread: Optional[threading.Thread] = None
        self.done = threading.Event()

    def popen_kwargs(self) -> dict:
        """The job's stdout and stderr, for subprocess.Popen."""
        return {"stdout": self.child_fds[0], "stderr": self.child_fds[1]}

    def started(self) -> None:
        """The job has its ends: close ours of them."""
        for fd in set(self.child_fds):
            os.close(fd)

    def copy_until(self, ended: Callable[[], bool]) -> None:
        """Copy in this thread until the job has closed its output, or `ended()` and nothing came for a
        moment (something it started may keep the output open)."""
        while self.open_fds:
            ready, _, _ = select.select(list(self.open_fds), [], [], 0.1)
            if not ready and ended():
                return
            for fd in ready:
                self._pass_on(fd)

    def copy_in_background(self) -> None:
        """Go on copying in a thread of its own until finish()."""
        if self.thread is None:
            self.thread = threading.Thread(target=self.copy_until, args=(self.done.is_set,), name="runx-job-output",
                                           daemon=True)
            self.thread.start()

    def finish(self, timeout: float = 5.0) -> None:
        """The job ended: let a background copy take what is left (until nothing comes for a moment), then close."""
        self.done.set()
        if self.thread is not None:
            self.thread.join(timeout)
            if self.thread.is_alive():  # still busy copying: its files stay open for it
                return
        for fd in self.open_fds:
            os.close(fd)
        self.open_fds = {}
        self.log_file.close()

    def _pass_on(self, fd: int) -> None:
        """What the job wrote on `fd`: to runx's terminal fd (while that is open) and to job.log."""
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: the pseudo-terminal's last writer closed it
            data = b""
        if not data:
            os.close(fd)
            del self.open_fds[fd]
            return
        target = self.routes[fd]
        if self.echo[target]:
            try:
                _write_all(target, data)
            except OSError:  # runx's output is gone (a closed pipe): keep logging
                self.echo[target] = False
        self.log_file.write(data)
        self.log_file.flush()
