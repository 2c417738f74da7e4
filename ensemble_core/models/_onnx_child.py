"""The ONNX worker: a separate Python process that runs onnxruntime for one model.

Started by :mod:`ensemble_core.models.onnx_worker` as ``python -P <this file>
MEMORY_BYTES`` (a script, so that it imports nothing of ``ensemble_core``; ``-P``
keeps its own folder, which holds a module named ``onnx``, off ``sys.path``). It caps
its own address space, builds an ``InferenceSession`` from the model's bytes and
answers requests on stdin/stdout until stdin closes. The parent bounds the time of
every request and kills the process when it runs over.

The wire format, both ways: an 8-byte big-endian length, a JSON header (UTF-8) whose
``blobs`` lists the byte lengths of the binary parts that follow. Arrays travel as
``.npy`` bytes written and read with ``allow_pickle=False``; strings travel in the
JSON. Nothing is ever unpickled.

Requests and replies (every reply has ``ok``; a refused one ``kind`` and ``message``):

- (start) the worker sends ``{"ok": true}`` once onnxruntime is imported.
- ``{"op": "load", "threads": N}`` + the model's bytes -> ``inputs`` and ``outputs``
  (``name``, ``type``, ``shape``), ``meta_classes`` (the metadata ``classes`` text or
  null), ``graph_classes`` and ``graph_error`` (read from the graph when the metadata
  has no classes).
- ``{"op": "predict", "input": ..., "output": ..., "n_classes": K, "texts": [...] or
  absent, "column": bool}`` + for features one ``.npy`` of shape (n, n_features) ->
  ``zipmap_keys`` (ZipMap output: its classes in column order) and one ``.npy`` of
  shape (n, K), or ``kind: "shape"`` with the output's ``shape``.
"""

from __future__ import annotations

import io
import json
import os
import resource
import signal
import struct
import sys
import threading
import time
from collections.abc import Callable, Sequence

import numpy as np

_LENGTH = struct.Struct(">Q")
#: A folder that cannot exist (it is under a file): onnxruntime looks for a model's
#: external data there, so a model loaded from bytes reads no file at all (by default
#: it would resolve the model's external data paths against the working directory).
NO_EXTERNAL_DATA_FOLDER = os.path.join(os.devnull, "no-external-data")
#: How often the worker checks that its parent is still alive.
_PARENT_CHECK_SECONDS = 1.0


def pack(header: dict, blobs: Sequence[bytes] = ()) -> list[bytes]:
    """One message as the chunks to write: length + JSON header, then each blob."""
    raw = json.dumps({**header, "blobs": [len(b) for b in blobs]}).encode()
    return [_LENGTH.pack(len(raw)) + raw, *blobs]


def header_length(prefix: bytes) -> int:
    return _LENGTH.unpack(prefix)[0]


def array_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.ascontiguousarray(array), allow_pickle=False)
    return buf.getvalue()


def read_array(blob: bytes) -> np.ndarray:
    return np.lib.format.read_array(io.BytesIO(blob), allow_pickle=False)


def _read_exactly(stream, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _read_message(stream) -> tuple[dict, list[bytes]]:
    header = json.loads(_read_exactly(stream, header_length(_read_exactly(stream, _LENGTH.size))))
    return header, [_read_exactly(stream, n) for n in header["blobs"]]


def _write_message(stream, header: dict, blobs: Sequence[bytes] = ()) -> None:
    for chunk in pack(header, blobs):
        stream.write(chunk)
    stream.flush()


def _refused(kind: str, message: str) -> dict:
    return {"ok": False, "kind": kind, "message": message}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _is_memory(exc: BaseException) -> bool:
    text = str(exc)
    return isinstance(exc, MemoryError) or "Failed to allocate memory" in text or "bad_alloc" in text


def _cap_address_space(limit: int) -> None:
    """Cap this process's address space (``RLIMIT_AS``): an allocation past it fails
    at once (onnxruntime reports it, Python raises ``MemoryError``) instead of taking
    the machine's memory. Hard limit too, so that nothing in the process raises it."""
    if limit <= 0:
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _exit_when_orphaned() -> None:
    """Exit once the parent is gone (reparented), even while onnxruntime is busy: a
    parent killed with SIGKILL cannot stop an endless graph itself."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(_PARENT_CHECK_SECONDS)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _graph_classes(model_bytes: bytes) -> tuple[list | None, str | None]:
    """Class labels from the ZipMap node, else from the (single) ai.onnx.ml classifier
    node; (None, None) without the ``onnx`` package; (None, error) on a bad protobuf."""
    try:
        import onnx
    except ImportError:
        return None, None
    try:
        proto = onnx.load_model_from_string(model_bytes)
    except Exception as exc:
        return None, f"{type(exc).__name__}: {_first_line(exc)}"
    found = []
    for node in proto.graph.node:
        for attr in node.attribute:
            if attr.name == "classlabels_strings":
                found.append((node.op_type, [s.decode() for s in attr.strings]))
            elif attr.name in ("classlabels_int64s", "classlabels_ints"):
                # ZipMap and tree ensembles say int64s; LinearClassifier and SVMClassifier ints.
                found.append((node.op_type, [int(v) for v in attr.ints]))
    zipmaps = [labels for op, labels in found if op == "ZipMap"]
    if zipmaps:
        return zipmaps[-1], None
    distinct = {tuple(labels) for _, labels in found}
    return (list(distinct.pop()) if len(distinct) == 1 else None), None


class _Worker:
    def __init__(self, ort) -> None:
        self.ort = ort
        self.session = None

    def load(self, header: dict, blobs: list[bytes]) -> tuple[dict, list[bytes]]:
        ort = self.ort
        model_bytes = blobs[0]
        options = ort.SessionOptions()
        options.intra_op_num_threads = int(header["threads"])
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # Threads that spin after each batch burn a core the caller (a busy app server) needs:
        # scoring the digits demo on 2 shared cores measured 0.59x (540 rows) and 0.83x
        # (100,000 rows) the time of spinning threads (benchmarks/bench_onnx_worker.py).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.model_external_initializers_file_folder_path",
                                         NO_EXTERNAL_DATA_FOLDER)
        try:
            self.session = ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
        except Exception as exc:
            if _is_memory(exc):
                return _refused("memory", _first_line(exc)), []
            if "External data path validation failed" in str(exc):
                return _refused("external", _first_line(exc)), []
            return _refused("invalid", _first_line(exc)), []
        session = self.session
        meta = session.get_modelmeta().custom_metadata_map
        graph_classes, graph_error = (None, None) if "classes" in meta else _graph_classes(model_bytes)
        return {
            "ok": True,
            "inputs": [{"name": i.name, "type": i.type, "shape": list(i.shape)} for i in session.get_inputs()],
            "outputs": [{"name": o.name, "type": o.type} for o in session.get_outputs()],
            "meta_classes": meta.get("classes"),
            "graph_classes": graph_classes,
            "graph_error": graph_error,
        }, []

    def predict(self, header: dict, blobs: list[bytes]) -> tuple[dict, list[bytes]]:
        if "texts" in header:
            feed = np.asarray(header["texts"], dtype=object)
            # skl2onnx text models take (n, 1); others a flat (n,) vector.
            feed = feed.reshape(-1, 1) if header["column"] else feed
        else:
            feed = read_array(blobs[0])
        n, k = len(feed), int(header["n_classes"])
        try:
            (result,) = self.session.run([header["output"]], {header["input"]: feed})
        except Exception as exc:
            return _refused("memory" if _is_memory(exc) else "run", _first_line(exc)), []
        reply: dict = {"ok": True}
        if isinstance(result, list):  # ZipMap: one {class: probability} dict per row
            if not result:
                return reply, [array_bytes(np.zeros((0, k)))]
            keys = list(result[0])
            reply["zipmap_keys"] = keys
            if len(keys) != k:  # the parent names both sides' classes
                return reply, []
            matrix = np.array([list(r.values()) for r in result], dtype=np.float64)
        else:
            matrix = np.asarray(result)
        if matrix.shape != (n, k):
            return {**_refused("shape", "wrong shape"), "shape": list(matrix.shape)}, []
        if matrix.dtype.kind not in "biuf":
            return _refused("run", f"the probability output holds {matrix.dtype}, not numbers"), []
        return reply, [array_bytes(matrix)]


def main(argv: list[str]) -> int:
    _cap_address_space(int(argv[1]))
    # The protocol owns the real stdout; anything printed (by a library, or onnxruntime's
    # own logging) goes to stderr, which the parent drains.
    out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    stdin = os.fdopen(0, "rb", buffering=0)
    # Ctrl-C at a terminal reaches the whole process group; the parent decides when this ends.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_when_orphaned()
    try:
        import onnxruntime as ort

        ort.set_default_logger_severity(3)
    except BaseException as exc:  # noqa: BLE001 - told to the parent, which raises it
        _write_message(out, _refused("start", f"cannot import onnxruntime ({_first_line(exc)})"))
        return 1
    worker = _Worker(ort)
    handlers: dict[str, Callable[[dict, list[bytes]], tuple[dict, list[bytes]]]] = {
        "load": worker.load, "predict": worker.predict,
    }
    _write_message(out, {"ok": True})
    while True:
        try:
            header, blobs = _read_message(stdin)
        except EOFError:
            return 0
        try:
            reply, reply_blobs = handlers[header["op"]](header, blobs)
        except Exception as exc:  # noqa: BLE001 - every failure is an answer, never a silent death
            kind = "memory" if _is_memory(exc) else "error"
            reply, reply_blobs = _refused(kind, f"{type(exc).__name__}: {_first_line(exc)}"), []
        del header, blobs
        _write_message(out, reply, reply_blobs)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
