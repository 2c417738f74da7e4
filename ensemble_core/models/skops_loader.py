"""Load skops files: bounded in size, every node on the allow-list, the content checked.

Three gates, in order, before a model is returned:

1. **The archive** (:func:`check_archive`), before anything is decompressed: the file's
   size, the zip's central directory, the sum of the members' declared uncompressed
   sizes (zipfile never inflates a member past its declared size) and ``schema.json``'s.
2. **The types and arrays** (:func:`audit`): skops' own tree of nodes is built, which
   reads the members but makes no object; *every* node is checked against
   :mod:`.skops_types`, the ones skops trusts by default included, and each array's
   ``.npy`` header against the bytes it has (numpy allocates the declared shape × dtype
   before reading), a sparse matrix's nested ``.npz`` included. Only then is skops' own
   audit run, with ``trusted=`` the names just accepted, and the objects built.
3. **The content** (:mod:`.skops_checks`): what a type alone cannot promise, such as a text
   vectorizer that reads files or a tree whose node indices point outside it.

The whole file is read once, bounded, and everything works on those bytes: what is
checked is what is loaded.
"""

from __future__ import annotations

import io
import math
import os
import struct
import zipfile
from pathlib import Path

import numpy as np

from .._validation import EnsembleInputError, first_line
from .base import MODEL_FILE_LIMIT, SCHEMA_LIMIT, UNPACKED_LIMIT, MiB, read_regular

#: Names listed here (comma- or space-separated, exactly as a refusal message prints
#: them) are allowed on top of :mod:`.skops_types`: for a file you made or whose author
#: you trust, never for a stranger's file.
TRUST_ENV = "ENSEMBLE_EXPLORER_TRUST_TYPES"

#: The zip's central directory is parsed whole, into about 350 bytes per member, before
#: any check can run: 8 MiB takes ~120,000 members (the demo's 100-tree forest has 5,752).
MAX_ZIP_DIRECTORY = 8 * MiB
#: skops' own audit revisits a node once per reference to it: a crafted file that
#: references each level twice makes it visit 2^depth nodes. Genuine files share some
#: subtrees (the demo's TF-IDF forest: 18,781 visits of 7,403 nodes; a voting classifier
#: of voting classifiers: 15 visits a node); at about 4 µs a visit, this bound is some
#: 20 s of auditing, far beyond any genuine model.
MAX_AUDIT_VISITS = 5_000_000
_NPY_MAX_HEADER = 10_000  # numpy's own default bound on an .npy header


def trusted_extra_types() -> frozenset[str]:
    """The names allowed deliberately in ``$ENSEMBLE_EXPLORER_TRUST_TYPES``."""
    return frozenset(os.environ.get(TRUST_ENV, "").replace(",", " ").split())


#: How much of a library's message a refusal quotes (a schema dump can be megabytes).
_QUOTE_CHARS = 200


def library_text(exc: BaseException) -> str:
    """A library's exception as one short line: its type and its message's first line."""
    text = first_line(exc)
    text = text if len(text) <= _QUOTE_CHARS else text[:_QUOTE_CHARS] + "…"
    return f"{type(exc).__name__}: {text}"


def _invalid(source: object, detail: str) -> EnsembleInputError:
    return EnsembleInputError(f"{source}: not a valid skops file ({detail})")


# --- 1. the archive ------------------------------------------------------------------------

def _central_directory_size(data: bytes) -> int | None:
    """The central directory's size from the end-of-central-directory record (zip64 too),
    or None when there is none (zipfile then reports the file as not a zip)."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 22 - 0xFFFF))
    if end < 0 or len(data) < end + 22:
        return None
    size = struct.unpack_from("<I", data, end + 12)[0]
    locator = end - 20
    if size == 0xFFFFFFFF and locator >= 0 and data[locator:locator + 4] == b"PK\x06\x07":
        record = struct.unpack_from("<Q", data, locator + 8)[0]
        if data[record:record + 4] == b"PK\x06\x06" and len(data) >= record + 56:
            size = struct.unpack_from("<Q", data, record + 40)[0]
    return size


def _open_zip(source: object, data: bytes) -> zipfile.ZipFile:
    directory = _central_directory_size(data)
    if directory is not None and directory > MAX_ZIP_DIRECTORY:
        raise EnsembleInputError(
            f"{source}: refused: its zip directory is {directory / MiB:,.0f} MB (more than "
            f"{MAX_ZIP_DIRECTORY // MiB} MB of member names), far beyond any model"
        )
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError) as exc:
        raise _invalid(source, library_text(exc)) from None


def _check_npy(source: object, member: str, fh, size: int) -> None:
    """An ``.npy`` stream's header must describe data that fits in the ``size`` bytes it has."""
    try:
        version = np.lib.format.read_magic(fh)
        read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                       (2, 0): np.lib.format.read_array_header_2_0}.get(version)
        if read_header is None:
            raise _invalid(source, f"{member}: .npy format version {version}; skops writes 1.0 or 2.0")
        header_length = struct.unpack("<H" if version == (1, 0) else "<I", fh.read(2 if version == (1, 0) else 4))[0]
        if header_length > _NPY_MAX_HEADER:
            # numpy's own refusal spans lines and advises allow_pickle=True: say it here
            raise EnsembleInputError(f"{source}: refused: {member} has a {header_length:,}-byte array header "
                                     f"(at most {_NPY_MAX_HEADER:,}; a crafted file)")
        fh.seek(-(2 if version == (1, 0) else 4), io.SEEK_CUR)
        shape, _, dtype = read_header(fh, max_header_size=_NPY_MAX_HEADER)
    except EnsembleInputError:
        raise
    except Exception as exc:  # numpy raises ValueError, OSError, SyntaxError... on a bad header
        raise _invalid(source, f"{member}: bad array header: {library_text(exc)}") from None
    if dtype.hasobject:
        raise EnsembleInputError(f"{source}: refused: {member} holds pickled Python objects")
    declared = math.prod(shape) * dtype.itemsize
    if declared > size - fh.tell():
        raise EnsembleInputError(
            f"{source}: refused: {member} declares a {shape} {dtype} array ({declared / MiB:,.0f} MB) "
            f"but holds {size:,} bytes"
        )


def _check_npz(source: object, name: str, data: bytes, budget: int) -> int:
    """A sparse matrix is an ``.npz`` (itself a zip of ``.npy`` members) inside the
    ``.skops``: its declared sizes must fit in ``budget``, its headers in its members.
    Returns the bytes it unpacks to."""
    archive = _open_zip(source, data)
    infos = archive.infolist()
    total = sum(info.file_size for info in infos)
    if total > budget:
        raise UNPACKED_LIMIT.refuse(source, total)
    for info in infos:
        with archive.open(info) as fh:
            _check_npy(source, f"{name}/{info.filename}", fh, info.file_size)
    return total


def check_archive(source: object, data: bytes) -> int:
    """Refuse a ``.skops`` file whose zip directory, members or ``schema.json`` would take
    too much memory or time to unpack, before anything in it is decompressed. Returns the
    bytes its members unpack to. (Each array's header is checked when skops has read the
    member, before any array is built: see :func:`audit`.)

    Raises
    ------
    EnsembleInputError
        Naming the limit exceeded and the variable that raises it.
    """
    archive = _open_zip(source, data)
    infos = archive.infolist()
    schemas = [info.file_size for info in infos if info.filename == "schema.json"]
    if not schemas:
        raise _invalid(source, "no schema.json")
    if max(schemas) > SCHEMA_LIMIT.bytes:
        raise SCHEMA_LIMIT.refuse(source, max(schemas))
    total = sum(info.file_size for info in infos)
    if total > UNPACKED_LIMIT.bytes:
        raise UNPACKED_LIMIT.refuse(source, total)
    return total


# --- 2. the types --------------------------------------------------------------------------

def _claims(node, types) -> list[tuple[str, frozenset[str], str]]:
    """What a node asks to be trusted: (name, the allow-list it must be on, the name a
    refusal prints). A class is on the list only for the kinds of node that rebuild it
    safely (:data:`.skops_types.NODE_TYPES`): a listed class built by another kind of node
    is refused as ``Kind:name``."""
    from skops.io._audit import CachedNode
    from skops.io._general import FunctionNode, JsonNode, MethodNode, PartialNode, TypeNode
    from skops.io._numpy import RandomGeneratorNode
    from skops.io._sklearn import ReduceNode

    name = f"{node.module_name}.{node.class_name}"
    kind = type(node)
    if kind is JsonNode or isinstance(node, CachedNode):
        return []  # JSON values; a reference to a node checked where it is defined
    if kind in (FunctionNode, TypeNode, PartialNode):
        return [(name, types.FUNCTIONS, name)]
    if kind is MethodNode:
        return [(f"{node.obj.module_name}.{node.obj.class_name}.{node.func}", frozenset(), name)]
    allowed = types.NODE_TYPES.get(kind.__name__) if kind.__module__.startswith("skops.io.") else None
    if allowed is None:
        # A constructor called with the file's arguments (how NpzFile and memmap got in), an
        # operator.methodcaller/attrgetter, a defaultdict's factory, or a node kind this code
        # does not know: never on the list.
        return [(name, frozenset(), name)]
    shown = name if name in allowed or name not in types.TYPES | types.FUNCTIONS else f"{kind.__name__}:{name}"
    claims = [(name, allowed, shown)]
    if isinstance(node, ReduceNode):
        # skops calls this class with the file's arguments: only the node's own, listed class
        constructor = f"{node.constructor.module_name}.{node.constructor.class_name}"
        if constructor != name:
            claims.append((constructor, frozenset(), f"{kind.__name__}:{constructor}"))
    if kind is RandomGeneratorNode:
        bit_generator = f"numpy.random.{node.bit_generator_name}"
        claims.append((bit_generator, types.BIT_GENERATORS, bit_generator))
    return claims


def _children(node) -> list:
    from skops.io._sklearn import ReduceNode

    out = []
    for key, child in node.children.items():
        if isinstance(node, ReduceNode) and key == "constructor":
            continue  # claimed by the ReduceNode itself, as a type to construct
        if isinstance(child, list):
            out.extend(child)
        elif isinstance(child, dict):
            out.extend(child.values())
        elif child is not None:
            out.append(child)
    return out


def _check_payload(source: object, node, budget: int) -> int:
    """An array node's ``.npy`` header (numpy allocates what it declares before reading)
    and a sparse matrix node's nested ``.npz``; returns the bytes the latter unpacks to."""
    from skops.io._numpy import NdArrayNode
    from skops.io._scipy import SparseMatrixNode

    if type(node) is NdArrayNode and node.type == "numpy":
        buffer = node.buffer
        _check_npy(source, "an array", buffer, len(buffer.getbuffer()))
        buffer.seek(0)
    elif type(node) is SparseMatrixNode:
        return _check_npz(source, "a sparse matrix", node.content.getvalue(), budget)
    return 0


def audit(source: object, tree, extra: frozenset[str] = frozenset(), budget: int | None = None) -> list[str]:
    """Check every node of a skops tree against the allow-list, and each array's declared
    size; returns the names the tree holds.

    ``budget`` is what nested archives (sparse matrices) may still unpack to.

    Raises
    ------
    EnsembleInputError
        Naming every refused type and function, and how to allow them deliberately; an
        array whose header declares more data than it holds; or a tree so interlinked
        that skops' own audit would not end.
    """
    from skops.io._audit import Node

    from . import skops_types as types

    budget = UNPACKED_LIMIT.bytes if budget is None else budget
    unpacked = 0
    names: set[str] = set()
    refused: set[str] = set()
    visits: dict[int, int] = {}  # id(node) -> nodes skops' audit visits under it
    stack: list[tuple[object, bool]] = [(tree, False)]
    on_path: set[int] = set()
    while stack:
        node, done = stack.pop()
        if done:
            on_path.discard(id(node))
            kids = [c for c in _children(node) if isinstance(c, Node)]
            visits[id(node)] = 1 + sum(visits.get(id(c), 1) for c in kids)
            if visits[id(node)] > MAX_AUDIT_VISITS:
                raise EnsembleInputError(
                    f"{source}: refused: schema.json refers to the same objects so often that checking it "
                    "would not end (a crafted file)"
                )
            continue
        if id(node) in visits or id(node) in on_path:
            continue
        on_path.add(id(node))
        for name, allowed, shown in _claims(node, types):
            names.add(name)
            if name not in allowed and name not in extra and shown not in extra:
                refused.add(shown)
        unpacked += _check_payload(source, node, budget - unpacked)
        stack.append((node, True))
        for child in _children(node):
            if isinstance(child, Node):
                stack.append((child, False))
            elif isinstance(child, type):
                name = f"{child.__module__}.{child.__name__}"
                names.add(name)
                if name not in types.TYPES and name not in extra:
                    refused.add(name)
    if refused:
        raise refusal(source, refused)
    return sorted(names)


def refusal(source: object, refused) -> EnsembleInputError:
    """The one-line refusal naming ``refused`` and how to allow them deliberately."""
    names = sorted(refused)
    return EnsembleInputError(
        f"{source}: refused to load; it holds types or functions outside ensemble-explorer's allow-list: "
        f"{', '.join(names)} (if you made this file or trust its author, allow them by name with "
        f"{TRUST_ENV}={','.join(names)})"
    )


def _load(source: object, data: bytes, extra: frozenset[str], budget: int):
    from skops.io._audit import get_tree
    from skops.io._utils import read_schema

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        schema, context = read_schema(archive)
        tree = get_tree(schema, context, trusted=None)
    except EnsembleInputError:
        raise
    except Exception as exc:  # skops raises key/type/value/json errors on a malformed schema
        raise _invalid(source, library_text(exc)) from None
    trusted = audit(source, tree, extra, budget)
    # skops' own audit (what ``audit_tree`` does), as a second line: every name it finds
    # untrusted must be one the allow-list above has just accepted.
    untrusted = tree.get_unsafe_set() - set(trusted)
    if untrusted:
        raise refusal(source, untrusted)
    try:
        return tree.construct()
    except Exception as exc:
        raise EnsembleInputError(f"{source}: could not load skops file ({library_text(exc)})") from None


def load_skops(path: str | Path, data: bytes | None = None, *, trust: frozenset[str] | None = None):
    """Load a ``.skops`` file through the three gates of this module.

    Parameters
    ----------
    path : the file, or (with ``data``) only the name used in messages
    data : the file's bytes (an upload), read instead of ``path``; the caller has bounded
        them (:func:`.loading.load_model_bytes` by ``MODEL_FILE_LIMIT``)
    trust : names allowed on top of the allow-list; default ``$ENSEMBLE_EXPLORER_TRUST_TYPES``

    Raises
    ------
    EnsembleInputError
        If the file is missing, not a regular file, too large, not a valid skops file,
        holds a type or function outside the allow-list (the message names them), or
        fails a content check.
    """
    from .skops_checks import check_content

    path = Path(path)
    if data is None:
        data = read_regular(path, MODEL_FILE_LIMIT)
    unpacked = check_archive(path, data)
    obj = _load(path, data, trusted_extra_types() if trust is None else trust, UNPACKED_LIMIT.bytes - unpacked)
    check_content(path, obj)
    return obj
