"""The files kspec reads and writes, and Ctrl-C: docs/security.md, "Files kspec reads and writes".

Each test runs anything that could hang or eat the machine in a subprocess, with a
timeout (and a memory limit where a read could be unbounded), so that a regression
fails the test instead.
"""

import os
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
import time

import pytest
from conftest import ROOT, SPECS

MLP = ROOT / "specs" / "mlp.yaml"
FAST = 60  # seconds: far more than any of these needs, far less than a hang


def kspec(*args, timeout=FAST, **options):
    """`python -m kspec ARGS` in a fresh interpreter that must finish within `timeout`."""
    return python("-m", "kspec", *map(str, args), timeout=timeout, **options)


def script(code, *, timeout=FAST):
    """Run Python code (dedented) in a fresh interpreter with the repository importable."""
    return python("-c", textwrap.dedent(code), timeout=timeout)


def python(*args, timeout, **options):
    return subprocess.run(
        [sys.executable, *args],
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        **options,
    )


def _limit_memory():
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


# Reading --------------------------------------------------------------------


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_a_device_is_refused_at_once_without_reading_it():
    # Before: getsize('/dev/zero') is 0, so the size check passed and read() never ended.
    result = kspec("validate", "--max-file-size", 2**40, "/dev/zero", preexec_fn=_limit_memory)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout.startswith(
        "/dev/zero:1:1: error KS000 cannot read file: it is a character device, not a regular file"
    )
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_a_device_is_never_even_opened(monkeypatch):
    from kspec.source import read_document

    opened = []
    real = os.open
    monkeypatch.setattr(os, "open", lambda path, *a, **k: opened.append(path) or real(path, *a, **k))
    [problem] = read_document("/dev/zero").diagnostics
    assert problem.code == "KS000"
    assert opened == []  # opening some devices (a tape, a terminal) does something


@pytest.mark.parametrize("command", ["validate", "summary", "graph", "compile"])
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path, command):
    fifo = tmp_path / "spec.yaml"
    os.mkfifo(fifo)
    result = kspec(command, fifo)
    assert result.returncode == 2
    assert f"{fifo}:1:1: error KS000 cannot read file: it is a FIFO (named pipe)" in (
        result.stdout + result.stderr
    )


def test_a_fifo_as_transfer_source_is_refused(tmp_path):
    fifo = tmp_path / "base.yaml"
    os.mkfifo(fifo)
    result = kspec("plan", MLP, "--transfer-from", fifo)
    assert result.returncode == 2
    assert "it is a FIFO" in result.stderr


def test_a_fifo_swapped_in_after_the_check_is_still_refused_without_blocking(tmp_path):
    # os.stat says "regular file" (as if the path changed between the check and the open):
    # the open must not block, and the open descriptor is what gets checked.
    fifo, regular = tmp_path / "spec.yaml", tmp_path / "other.yaml"
    os.mkfifo(fifo)
    regular.write_text("kspec: 1\n")
    result = script(f"""
        import os
        real = os.stat
        os.stat = lambda p, *a, **k: real({str(regular)!r}) if str(p) == {str(fifo)!r} else real(p, *a, **k)
        from kspec.source import read_document
        print([d.message for d in read_document({str(fifo)!r}).diagnostics])
        """)
    assert result.returncode == 0, result.stderr
    assert "cannot read file: it is a FIFO (named pipe), not a regular file" in result.stdout


def test_reads_stop_at_the_limit_whatever_size_the_file_reports(tmp_path, monkeypatch):
    from kspec import source

    empty = tmp_path / "empty.yaml"
    empty.write_bytes(b"")

    class Endless:  # a regular file that reports 0 bytes and never ends, like some in /proc
        def __init__(self, path):
            self.fd = os.open(empty, os.O_RDONLY)

        def fileno(self):
            return self.fd

        def read(self, size=-1):
            assert size is not None and size >= 0, "an unbounded read of an endless file"
            return b"a" * size

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            os.close(self.fd)

    monkeypatch.setattr(source, "open_regular", Endless)
    [problem] = source.read_document(str(empty), max_size=1000).diagnostics
    assert (problem.code, problem.message) == ("KS001", "file is over the limit of 1,000 bytes")


def test_a_symbolic_link_to_a_spec_is_read(tmp_path):
    link = tmp_path / "linked.yaml"
    link.symlink_to(MLP)
    assert kspec("validate", link).returncode == 0
    assert kspec("summary", link).returncode == 0


def test_spec_files_raises_for_a_directory_it_cannot_list(tmp_path, monkeypatch):
    from kspec.validate import spec_files

    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "bad.yaml").write_text("broken: [\n")
    real = os.scandir

    def scandir(path="."):
        if os.fspath(path).endswith("sub"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(PermissionError) as caught:
        spec_files([str(tmp_path)])
    assert caught.value.filename == str(tmp_path / "sub")


def _without_root_powers():
    """A command prefix under which a file mode of 0 really keeps this user out."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    prefix = [setpriv, "--inh-caps=-all", "--bounding-set=-all"] if setpriv else None
    if not prefix or subprocess.run([*prefix, "true"], check=False, capture_output=True).returncode != 0:
        pytest.skip("running as root, and cannot drop root's right to read any directory")
    return prefix


def test_an_unreadable_directory_is_exit_2_not_a_silent_skip(tmp_path):
    prefix = _without_root_powers()
    (tmp_path / "good.yaml").write_text(MLP.read_text())
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "bad.yaml").write_text("broken: [\n")
    locked.chmod(0)
    try:
        result = subprocess.run(
            [*prefix, sys.executable, "-m", "kspec", "validate", str(tmp_path)],
            check=False,
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=FAST,
        )
    finally:
        locked.chmod(0o700)
    assert result.returncode == 2, result.stdout
    assert result.stderr == f"kspec: cannot read directory {locked}: Permission denied\n"
    assert "valid" not in result.stdout


# Writing --------------------------------------------------------------------


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_file_gets_the_mode_the_umask_allows(tmp_path, umask_022):
    from kspec.files import write_atomic

    write_atomic(str(tmp_path / "new.py"), "x = 1\n")
    assert _mode(tmp_path / "new.py") == 0o644  # mkstemp made it 0600
    os.umask(0o077)
    write_atomic(str(tmp_path / "private.py"), b"x = 1\n")
    assert _mode(tmp_path / "private.py") == 0o600


@pytest.mark.parametrize("mode", [0o600, 0o755, 0o664])
def test_a_replaced_file_keeps_its_mode(tmp_path, umask_022, mode):
    from kspec.files import write_atomic

    path = tmp_path / "model.py"
    path.write_text("old\n")
    path.chmod(mode)
    write_atomic(str(path), "new\n")
    assert path.read_text() == "new\n"
    assert _mode(path) == mode


def test_writing_to_a_symbolic_link_writes_its_target_and_keeps_the_link(tmp_path, umask_022):
    from kspec.files import write_atomic

    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "model.py"
    target.write_text("old\n")
    target.chmod(0o640)
    link = tmp_path / "model.py"
    link.symlink_to(target)
    write_atomic(str(link), "new\n")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == "new\n"
    assert _mode(target) == 0o640
    assert sorted(os.listdir(tmp_path)) == ["model.py", "real"]  # no temporary file left
    assert os.listdir(tmp_path / "real") == ["model.py"]


def test_a_fifo_or_device_is_never_replaced(tmp_path):
    from kspec.files import NotARegularFile, write_atomic

    fifo = tmp_path / "out.py"
    os.mkfifo(fifo)
    with pytest.raises(NotARegularFile):
        write_atomic(str(fifo), "x = 1\n")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert os.listdir(tmp_path) == ["out.py"]


def test_compile_refuses_a_fifo_as_output_without_hanging(tmp_path):
    fifo = tmp_path / "out.py"
    os.mkfifo(fifo)
    for force in ([], ["--force"]):
        result = kspec("compile", MLP, "-o", fifo, *force)
        assert result.returncode == 2, result.stderr
        assert "it is a FIFO (named pipe), not a regular file" in result.stderr
        assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_only_kspecs_real_header_counts_as_generated(tmp_path):
    out = tmp_path / "model.py"
    out.write_text('"""My notes. Generated by kspec? No: by hand."""\nimport keras\n')
    result = kspec("compile", MLP, "-o", out)
    assert result.returncode == 1
    assert "was not generated by kspec: use --force" in result.stderr
    assert "by hand" in out.read_text()

    assert kspec("compile", MLP, "-o", out, "--force").returncode == 0
    generated = out.read_text()
    assert "Generated by kspec" in generated
    again = kspec("compile", MLP, "--style", "sequential", "-o", out)  # a real one is replaced
    assert again.returncode == 0, again.stderr
    assert out.read_text() != generated


def test_every_module_kspec_generates_carries_the_header():
    from kspec.backends.python.module import is_generated
    from kspec.backends.styles import allowed_styles
    from kspec.compiler import generate
    from kspec.validate import load_text, validate_document, validate_file

    for path in SPECS:
        spec = validate_file(str(path)).spec
        for style in allowed_styles(spec):
            source = generate(spec, style)
            assert is_generated(source), (path, style)
            assert is_generated(source.replace("\n", "\r\n"))  # checked out with CRLF
            assert not is_generated("# edited\n" + source)
    spec = validate_document(load_text(MLP.read_text())).spec
    spec.document.root.text = None  # no source text: no sha256 line
    assert is_generated(generate(spec, "functional"))


def test_compile_writes_through_a_symbolic_link_it_generated(tmp_path):
    target = tmp_path / "model_v1.py"
    link = tmp_path / "model.py"
    assert kspec("compile", MLP, "-o", target).returncode == 0
    link.symlink_to(target.name)
    result = kspec("compile", MLP, "--style", "sequential", "-o", link)
    assert result.returncode == 0, result.stderr
    assert link.is_symlink()
    assert "sequential style" in target.read_text()


# Ctrl-C ---------------------------------------------------------------------

BLOCKING = """
import os, sys, time
import kspec.validate

def blocked(path, max_size):  # stands for a slow disk or a huge spec
    with open({ready!r}, "a") as out:
        out.write(f"{{os.getpid()}}\\n")
    time.sleep(120)

kspec.validate.read_document = blocked
sys.argv = ["kspec", *{args!r}]
import runpy
runpy.run_module("kspec", run_name="__main__")
"""


def _start_blocked(tmp_path, args, count):
    """Start kspec with every spec read blocked; wait until `count` processes are blocked."""
    ready = tmp_path / "ready"
    code = BLOCKING.format(ready=str(ready), args=[str(a) for a in args])
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's job is
    )
    deadline = time.monotonic() + FAST
    while time.monotonic() < deadline:
        pids = ready.read_text().split() if ready.exists() else []
        if len(pids) >= count:
            return process, [int(p) for p in pids]
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    pytest.fail("kspec never reached the blocked read")


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("command", [["summary", MLP], ["compile", MLP], ["validate", MLP]])
def test_ctrl_c_exits_130_with_one_line(tmp_path, command):
    process, _ = _start_blocked(tmp_path, command, 1)
    os.killpg(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=FAST)
    assert process.returncode == 130  # click says "Aborted!" and exits 1, the status of a bad spec
    assert err == "kspec: interrupted\n"
    assert out == ""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux")
@pytest.mark.parametrize("whom", ["group", "parent"])
def test_ctrl_c_during_parallel_validation_leaves_no_worker_and_no_traceback(tmp_path, whom):
    specs = [tmp_path / f"spec{i}.yaml" for i in range(4)]
    for path in specs:
        path.write_text(MLP.read_text())
    process, pids = _start_blocked(tmp_path, ["validate", "-j", "2", *specs], 2)
    workers = [pid for pid in pids if pid != process.pid]
    assert len(workers) == 1
    try:
        if whom == "group":  # Ctrl-C in a terminal: every process of the job gets SIGINT
            os.killpg(process.pid, signal.SIGINT)
        else:  # kill -INT of kspec alone: its workers must not run on
            os.kill(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=FAST)
        assert process.returncode == 130
        assert (out, err) == ("", "kspec: interrupted\n")
        assert not _alive(workers[0])
    finally:
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_ctrl_c_while_the_command_line_is_still_loading_is_one_line():
    done = script("""
        import builtins, sys
        real_import = builtins.__import__

        def interrupted(name, *args, **kwargs):
            if name == "cli" or name.endswith(".cli"):
                raise KeyboardInterrupt
            return real_import(name, *args, **kwargs)

        builtins.__import__ = interrupted
        from kspec.__main__ import run
        run()
        """)
    assert done.returncode == 130
    assert done.stderr == "kspec: interrupted\n"


@pytest.mark.parametrize("command", ["graph", "compile", "plan"])
def test_o_dev_stdout_into_a_pipe_says_it_cannot_write_a_fifo(command):
    result = kspec(command, MLP, "-o", "/dev/stdout")  # stdout is a pipe here
    assert result.returncode == 2
    assert "cannot write /dev/stdout: it is a FIFO (named pipe), not a regular file" in result.stderr
