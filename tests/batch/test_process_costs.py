"""Process-level costs of `qpv batch` (issue 13, sys16): the allocator setting of one-command processes and
the final assembly through one reused buffer. Correctness only; what they save is in BENCHMARKS.md."""
import os
import subprocess
import sys
import types

import pytest
import xxhash
from hypothesis import given, settings, strategies as st

from eligibility.batch import allocator
from eligibility.batch.sinks import PartAppender, concatenate
from eligibility.errors import OutputIntegrityError

GLIBC = allocator._glibc() is not None and hasattr(allocator._glibc(), "mallinfo2")

# In a child process: malloc(64 MB), touched, freed; how many bytes glibc then holds in mmapped blocks while
# it is allocated, and how many free bytes its heap keeps after `free`. Default glibc: a block that large is
# mmapped (above its 32 MB dynamic ceiling) and unmapped on free, so the next one is fresh pages again.
PROBE = """
import ctypes, json, sys
SETUP
libc = ctypes.CDLL(None)
class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                "fsmblks", "uordblks", "fordblks", "keepcost")]
libc.mallinfo2.restype = MallInfo2
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = (ctypes.c_void_p,)
size = 64 << 20
block = libc.malloc(size)
ctypes.memset(block, 1, size)
mapped = libc.mallinfo2().hblkhd
libc.free(block)
import pyarrow as pa
print(json.dumps({"mmapped_while_held": mapped, "heap_free_after": libc.mallinfo2().fordblks,
                  "arrow_pool": pa.default_memory_pool().backend_name}))
"""


def _probe(setup: str) -> dict:
    import json

    done = subprocess.run([sys.executable, "-c", PROBE.replace("SETUP", setup)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not GLIBC, reason="glibc's allocator only")
def test_freed_memory_is_kept_for_reuse_once_set():
    plain = _probe("")
    kept = _probe("from eligibility.batch.allocator import keep_freed_memory\nassert keep_freed_memory()")
    assert plain["mmapped_while_held"] >= 64 << 20 and plain["heap_free_after"] < 64 << 20
    assert kept["mmapped_while_held"] < 64 << 20  # from the heap…
    assert kept["heap_free_after"] >= 64 << 20    # …and still there, free, after `free`
    assert plain["arrow_pool"] != "system" and kept["arrow_pool"] == "system"  # Arrow allocates from that heap


@pytest.mark.skipif(not GLIBC, reason="glibc's allocator only")
def test_the_batch_command_sets_it_for_its_process(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("id,lon,lat,date\n1,1.35,44.01,2024-06-01\n2,2.35,48.85,2024-06-01\n", encoding="utf-8")
    run = ("from qpv_cli.main import qpv\n"
           f"qpv.main(['batch', 'locate', {str(src)!r}, '-o', {str(tmp_path / 'out.csv')!r}, '--fields', 'status',"
           " '--no-progress', '--workers', '1'], standalone_mode=False)")
    kept = _probe(run)
    assert kept["mmapped_while_held"] < 64 << 20 and kept["heap_free_after"] >= 64 << 20
    assert kept["arrow_pool"] == "system"
    assert (tmp_path / "out.csv").read_text(encoding="utf-8").splitlines()[0] == "row,status,error"


def test_other_c_libraries_are_left_alone(monkeypatch):
    import pyarrow as pa

    pool = pa.default_memory_pool().backend_name
    monkeypatch.setattr(allocator, "_glibc", lambda: None)
    assert allocator.keep_freed_memory() is False
    assert pa.default_memory_pool().backend_name == pool  # Arrow keeps its own allocator there


def test_a_refused_setting_is_reported_not_raised():
    calls = []

    def mallopt(param, value):  # an allocator that knows mallopt but takes none of these settings
        calls.append((param, value))
        return 0

    assert allocator.keep_freed_memory(types.SimpleNamespace(mallopt=mallopt)) is False
    assert [p for p, _ in calls] == [p for p, _ in allocator.SETTINGS]  # every one tried, none skipped
    assert all(0 < v <= 2**31 - 1 for _, v in calls)  # each fits mallopt's C int


def _one_bit_flipped(d, parts, data):
    """The parts journaled, then one bit of one of them (drawn) flipped on disk: (files, index of the changed part)."""
    files = _journaled(d, parts)
    k = data.draw(st.integers(0, len(parts) - 1))
    changed = bytearray(parts[k])
    changed[data.draw(st.integers(0, len(changed) - 1))] ^= 1 << data.draw(st.integers(0, 7))
    files[k][0].write_bytes(bytes(changed))
    return files, k


parts_strategy = st.lists(st.binary(min_size=0, max_size=300), min_size=0, max_size=6)


def _journaled(d, parts):
    """The parts written as files, each with the checksum (xxh3-128) a journal would have recorded."""
    files = []
    for k, data in enumerate(parts):
        (d / f"p{k}").write_bytes(data)
        files.append((d / f"p{k}", xxhash.xxh3_128_hexdigest(data)))
    return files


@settings(max_examples=60, deadline=None)
@given(parts=parts_strategy, head=st.binary(max_size=20), block=st.integers(1, 64))
def test_concatenate_gives_head_then_every_part_whatever_the_block(tmp_path_factory, parts, head, block):
    d = tmp_path_factory.mktemp("cat")
    out = d / "out.csv"
    concatenate(out, _journaled(d, parts), head=head, block_size=block)
    assert out.read_bytes() == head + b"".join(parts)
    assert not (d / ".out.csv.qpv-tmp").exists()


@settings(max_examples=40, deadline=None)
@given(parts=st.lists(st.binary(min_size=1, max_size=200), min_size=1, max_size=5), data=st.data(),
       block=st.integers(1, 64))
def test_concatenate_refuses_a_part_changed_since_its_journal(tmp_path_factory, parts, data, block):
    d = tmp_path_factory.mktemp("cat")
    files, k = _one_bit_flipped(d, parts, data)
    out = d / "out.csv"
    with pytest.raises(OutputIntegrityError, match=f"partie n° {k + 1}"):
        concatenate(out, files, block_size=block)
    assert not out.exists() and not (d / ".out.csv.qpv-tmp").exists()


@settings(max_examples=60, deadline=None)
@given(parts=parts_strategy, head=st.binary(max_size=20), block=st.integers(1, 64), data=st.data())
def test_parts_appended_as_they_are_journaled_give_the_assembly_at_the_end(tmp_path_factory, parts, head, block, data):
    """The runner appends each part once it and every part before it are journaled, whatever order they are
    journaled in: the same bytes as `concatenate` of all the parts at the end, and no output before `publish`."""
    d = tmp_path_factory.mktemp("stream")
    files = _journaled(d, parts)
    at_end = d / "at_end.csv"
    concatenate(at_end, files, head=head)
    out = d / "out.csv"
    appender = PartAppender(out, head, block_size=block)
    for k in data.draw(st.permutations(range(len(files)))):
        appender.ready(k, *files[k])
        assert not out.exists()
    appender.publish()
    assert out.read_bytes() == at_end.read_bytes() == head + b"".join(parts)
    assert not (d / ".out.csv.qpv-tmp").exists()


@settings(max_examples=40, deadline=None)
@given(parts=st.lists(st.binary(min_size=1, max_size=200), min_size=1, max_size=5), data=st.data())
def test_a_part_changed_after_its_journal_is_refused_when_appended(tmp_path_factory, parts, data):
    d = tmp_path_factory.mktemp("stream")
    files, k = _one_bit_flipped(d, parts, data)
    out = d / "out.csv"
    appender = PartAppender(out, b"h\n")
    with pytest.raises(OutputIntegrityError, match=f"partie n° {k + 1}"):
        for j in range(len(files)):
            appender.ready(j, *files[j])
    assert not out.exists() and not (d / ".out.csv.qpv-tmp").exists()


def test_a_batch_command_ends_without_teardown_keeping_its_exit_code_and_output(tmp_path):
    """`qpv batch …` leaves through `os._exit` once its output is published (no interpreter teardown): the exit
    code, the summary on the terminal and the output file are those of a normal exit."""
    import subprocess
    import sys

    src = tmp_path / "in.csv"
    src.write_text("id,lon,lat\n1,2.35,48.85\n2,,\n", encoding="utf-8")
    cmd = [sys.executable, "-c", "from qpv_cli.main import main; main()", "batch", "locate", str(src), "--date",
           "2024-01-01", "--no-progress"]
    ok = subprocess.run(cmd + ["-o", str(tmp_path / "out.csv")], capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr
    assert "2 lignes lues" in ok.stdout and "ligne en erreur : 1" in ok.stdout, ok.stdout
    assert len((tmp_path / "out.csv").read_text(encoding="utf-8").splitlines()) == 3
    bad = subprocess.run(cmd + ["-o", str(tmp_path / "out.xlsx")], capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "extension de sortie" in bad.stderr, bad.stderr
    assert not (tmp_path / "out.xlsx").exists()


def test_the_command_line_starts_a_batch_with_the_cyclic_collector_off_and_nothing_else():
    """A batch command's start (imports, reference data) runs without the cyclic collector (cli.main), which
    `batch.pool` turns on again once chunks are answered; every other command keeps it on."""
    import subprocess
    import sys

    code = ("import gc, sys\nimport qpv_cli.main as m\nseen = []\nm.qpv = lambda **k: seen.append(gc.isenabled())\n"
            "m._exit_now = lambda code: None\nsys.argv = ['qpv', sys.argv[1]]\nm.main()\nprint(seen)")
    for command, expected in (("batch", "[False]"), ("locate", "[True]")):
        done = subprocess.run([sys.executable, "-c", code, command], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == expected, (command, done.stdout)


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="threads counted through Linux's /proc")
def test_a_batch_process_loads_numpy_without_a_blas_thread_pool_and_keeps_the_users_setting():
    """`qpv batch` imports numpy with OpenBLAS held to one thread (no spinning helper thread beside the serial
    start), gives the environment back as it was, and leaves a value the user set alone. Other commands are
    unchanged."""
    import subprocess
    import sys

    code = ("import os, sys\nimport qpv_cli.main as m\nm.qpv = lambda **k: None\nm._exit_now = lambda code: None\n"
            "sys.argv = ['qpv', sys.argv[1]]\nm.main()\nimport numpy\n"
            "print(len(os.listdir('/proc/self/task')), os.environ.get('OPENBLAS_NUM_THREADS'))")
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}

    def threads(command, **extra):
        done = subprocess.run([sys.executable, "-c", code, command], env={**env, **extra}, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        count, value = done.stdout.split()
        return int(count), value

    assert threads("batch") == (1, "None")
    if (os.cpu_count() or 1) > 1:  # numpy's own default starts a pool: the check above could not pass by chance
        assert threads("locate")[0] > 1
        assert threads("batch", OPENBLAS_NUM_THREADS="2") == (2, "2")
