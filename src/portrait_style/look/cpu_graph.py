"""A look's graph for ONNX Runtime on a CPU: the portable export with its full-size steps moved onto ONNX
Runtime's integer and quantisation kernels.

    fast = cpu_graph(onnx.load("look.onnx"))  # None: not a look's graph, nothing to rewrite

The portable graph (engine/export.py: TensorRT, ONNX Runtime on CUDA, FP16) does the look's full-size
work (look/model.py, `_look`) as float ops, each a pass over the frame in float32:

    rows = Cast(uint8 frame as [N, H/4, 4, W*3])
    sums = ReduceSum(rows, axis 2)                    the block sums
    out  = Cast(Clip(Round(Mul(rows, s) + b)))       s, b: [N, H/4, 1, W*3], one row per block row

Three exact rewrites leave fewer and cheaper passes:

    Mul(Cast(x), s)               DequantizeLinear(x, s, axis=2, block_size=4): uint8 straight to
                                  x * s, the block's scale repeated down its 4 rows (opset 21)
    ReduceSum(Cast(x), axis 2)    MatMulIntegerToFloat(ones[1, 4], x) (ONNX Runtime's own op): sums of 4
                                  uint8 in int32, exact, written as float
    Cast(Clip(Round(v)))          QuantizeLinear(v, 1.0, uint8 0): round half to even, saturate

and, for a look without a chroma mix, the multiply, add and rounding run one block row at a time in a
Scan (`_stripes`): the same values, each pass reading the one before from the cache.

Measured at 1920x1080 on the 2-core CPU (benchmarks/bench_look.py, both graphs in one run): 19.4 ms
against 26.9 ms for a look with every part on, 22.0 against 27.8 for `studio` (before its lattice).
The rewrites need opset 21; converting the rest of the graph to it is onnx's version converter's work.
TensorRT reads the portable graph: its quantisation layers take no uint8.
"""

from __future__ import annotations

import numpy as np

OPSET = 21  # DequantizeLinear's block_size
VERSION = 3  # of the rewrite, in the cached graph's name (2: the full-size chain one block row at a time;
# 3: the float reshaped before the rounding, int32 table indices)
ORT_DOMAIN = "com.microsoft"  # ONNX Runtime's contrib ops: this graph is for ONNX Runtime only
BLOCK = 4  # look/blocks.py's BLOCK (not imported: this module runs where torch is not installed)
_READERS = ("ReduceSum", "Mul")  # what the look's graph does with the float frame (besides its shape)
_ONES, _AXIS, _UNIT, _ZERO = "cpu_graph_ones4", "cpu_graph_axis2", "cpu_graph_one", "cpu_graph_zero"
_ANY = "cpu_graph_any"


def cpu_graph(model):
    """The rewritten `onnx.ModelProto` (a new one), or None when `model` is not a look's graph."""
    import onnx
    from onnx import helper, numpy_helper, version_converter

    if _find(model.graph) is None:
        return None
    model = version_converter.convert_version(model, OPSET)
    graph = model.graph
    rows, cast, reduce_sum, mul, (round_, clip, to_uint8), to_nhwc = _find(graph)
    scale = next(i for i in mul.input if i != cast.output[0])
    sums, out = reduce_sum.output[0] + "_rows", to_uint8.output[0]
    make = helper.make_node
    replacements = {  # each replaced node -> the nodes in its place (none for the Cast, Round and Clip)
        id(cast): [],
        id(round_): [],
        id(clip): [],
        id(reduce_sum): [
            make("MatMulIntegerToFloat", [_ONES, rows, _UNIT, _UNIT], [sums], domain=ORT_DOMAIN, name="sums"),
            make("Squeeze", [sums, _AXIS], [reduce_sum.output[0]]),
        ],
        id(mul): [make("DequantizeLinear", [rows, scale], [mul.output[0]], axis=2, block_size=BLOCK)],
        id(to_uint8): [make("QuantizeLinear", [round_.input[0], _UNIT, _ZERO], [out], name="to_uint8")],
    }  # fmt: skip
    add = _the_only_add(graph, mul.output[0], to_nhwc.input[0] if to_nhwc else round_.input[0])
    if add is not None:  # DequantizeLinear, Add, QuantizeLinear one block row at a time
        shift = next(i for i in add.input if i != mul.output[0])
        scanned = out + "_rows" if to_nhwc else out  # the block rows, then reshaped to NHWC as uint8
        replacements.update({id(mul): [], id(to_uint8): [], id(add): _stripes(rows, scale, shift, scanned)})
        if to_nhwc:
            replacements[id(to_nhwc)] = [make("Reshape", [scanned, to_nhwc.input[1]], [out])]
    new_nodes = []
    for node in graph.node:
        if id(node) in replacements:
            new_nodes += replacements[id(node)]
        else:
            node.input[:] = [rows if i == cast.output[0] else i for i in node.input]  # the Shape readers
            new_nodes.append(node)
    del graph.node[:]
    graph.node.extend(new_nodes)
    _narrow_indices(graph)
    graph.initializer.extend(
        [
            numpy_helper.from_array(np.ones((1, BLOCK), np.uint8), _ONES),
            numpy_helper.from_array(np.array([2], np.int64), _AXIS),
            numpy_helper.from_array(np.array(1.0, np.float32), _UNIT),
            numpy_helper.from_array(np.array(0, np.uint8), _ZERO),
            numpy_helper.from_array(np.array([-1], np.int64), _ANY),
        ]
    )
    _tidy(graph)
    model.opset_import.append(helper.make_opsetid(ORT_DOMAIN, 1))
    onnx.checker.check_model(model)
    return model


def _tidy(graph) -> None:
    """Drop the nodes and constants nothing reads any more (the replaced steps' bounds and axes) and
    the exporter's shape hints (some name outputs that now have another shape): ONNX Runtime would warn
    about each of them whenever it loads the graph."""
    del graph.value_info[:]
    while True:
        read = {o.name for o in graph.output}.union(*(_reads(node) for node in graph.node))
        dead = [node for node in graph.node if not read.intersection(node.output)]
        if not dead:
            break
        for node in dead:
            graph.node.remove(node)
    kept = [init for init in graph.initializer if init.name in read]
    del graph.initializer[:]
    graph.initializer.extend(kept)


def _reads(node) -> set[str]:
    """The names a node reads, those its subgraphs (an If's branches, a Scan's body) read included."""
    from onnx import helper

    names = set(node.input)
    for attribute in node.attribute:
        value = helper.get_attribute_value(attribute)
        for sub in value if isinstance(value, list) else [value]:
            if hasattr(sub, "node"):  # a GraphProto
                for inner in sub.node:
                    names |= _reads(inner)
    return names


def _narrow_indices(graph) -> None:
    """Casts to int64 read only as GatherElements' indices (through reshapes; and by Shape) cast to int32 (the
    same values: table rows), so the block-level index is written and read at half the bytes (torch.gather
    takes no int32)."""
    from onnx import TensorProto

    readers: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            readers.setdefault(name, []).append(node)

    def only_indices(name: str) -> bool:
        users = readers.get(name, [])
        return bool(users) and all(
            (u.op_type == "GatherElements" and u.input[1:] == [name])
            or u.op_type == "Shape"  # the same whatever the type
            or (u.op_type == "Reshape" and u.input[0] == name and only_indices(u.output[0]))
            for u in users
        )

    for node in graph.node:
        to = next((a for a in node.attribute if a.name == "to"), None)
        if node.op_type == "Cast" and to.i == TensorProto.INT64 and only_indices(node.output[0]):
            to.i = TensorProto.INT32


def _the_only_add(graph, scaled: str, rounded: str):
    """The Add that is the one reader of the scaled frame and writes what is rounded (a look without a
    chroma mix: out = s * x + b), or None."""
    readers = [n for n in graph.node if scaled in n.input]
    if len(readers) == 1 and readers[0].op_type == "Add" and readers[0].output[0] == rounded:
        return readers[0]
    return None


def _stripes(rows: str, scale: str, shift: str, out: str) -> list:
    """Nodes computing out = QuantizeLinear(DequantizeLinear(rows, scale) + shift) one block row (4 pixel
    rows) at a time, in a Scan, so each pass reads what the one before wrote while it is still in the
    CPU's cache. rows: [N, H/4, 4, W*3] uint8; scale, shift: [N, H/4, 1, W*3]; out: [N*H/4, 4, W*3].

    The same three kernels on the whole frame each pass over 25 MB of float32. Measured at 1080p on the
    2-core CPU: the chain alone 9.3 ms on 2 threads against 6.7-7.2 ms scanned on one (1 to 270 block
    rows per step alike); whole graphs, interleaved runs, `studio` 0.2-1.4 ms less (of 17-22), every
    part on 0-2.6 ms less (of 20-27). A look with a chroma mix keeps its whole-frame chain: its per-pixel
    3x3 product runs on both cores there (scanned: 10.3 -> 13.3 ms). Tried, not kept: the Scan run
    apart on halves of the block rows from two threads at once (3.2 ms against 5.1 alone), after the
    rest of the graph as its own session: the same time as this graph, interleaved."""
    from onnx import TensorProto, helper, numpy_helper

    make, value = helper.make_node, helper.make_tensor_value_info
    body = helper.make_graph(
        [
            make("DequantizeLinear", ["row", "row_scale"], ["scaled"], axis=0, block_size=BLOCK),
            make("Add", ["scaled", "row_shift"], ["shifted"]),
            make("QuantizeLinear", ["shifted", "row_unit", "row_zero"], ["row_out"]),
        ],
        "block_row",
        [value("row", TensorProto.UINT8, [BLOCK, "values"]),
         value("row_scale", TensorProto.FLOAT, [1, "values"]),
         value("row_shift", TensorProto.FLOAT, [1, "values"])],
        [value("row_out", TensorProto.UINT8, [BLOCK, "values"])],
        [numpy_helper.from_array(np.array(1.0, np.float32), "row_unit"),
         numpy_helper.from_array(np.array(0, np.uint8), "row_zero")],
    )  # fmt: skip
    nodes, stacked = [], []
    for name in (rows, scale, shift):  # [N, H/4, a, b] -> [N * H/4, a, b]: block rows one after another
        nodes += [
            make("Shape", [name], [name + "_tail"], start=2),
            make("Concat", [_ANY, name + "_tail"], [name + "_stacked_shape"], axis=0),
            make("Reshape", [name, name + "_stacked_shape"], [name + "_stacked"]),
        ]
        stacked.append(name + "_stacked")
    return [*nodes, make("Scan", stacked, [out], num_scan_inputs=3, body=body, name="block_rows")]


def _find(graph):
    """(the uint8 rows' name, their Cast, the ReduceSum and Mul reading it, the output's Round, Clip and
    Cast, the float's Reshape to NHWC before them or None), or None when the graph does not have
    exactly that shape."""
    from onnx import TensorProto, helper

    producer = {o: n for n in graph.node for o in n.output}
    readers: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            readers.setdefault(name, []).append(node)

    def only(nodes, op_type):
        picked = [n for n in nodes if n.op_type == op_type]
        return picked[0] if len(picked) == 1 else None

    def attr(node, name, default=None):
        return next((helper.get_attribute_value(a) for a in node.attribute if a.name == name), default)

    image = graph.input[0]
    if image.type.tensor_type.elem_type != TensorProto.UINT8:
        return None
    reshape = only(readers.get(image.name, []), "Reshape")
    cast = reshape and only(readers.get(reshape.output[0], []), "Cast")
    if cast is None or attr(cast, "to") != TensorProto.FLOAT:
        return None
    users = readers.get(cast.output[0], [])
    reduce_sum, mul = only(users, "ReduceSum"), only(users, "Mul")
    if reduce_sum is None or mul is None or any(n.op_type not in ("Shape", *_READERS) for n in users):
        return None
    if attr(reduce_sum, "keepdims", 1) != 0 or _constant(graph, reduce_sum.input[1]) != [2]:
        return None
    # the output: Round, Clip, Cast to uint8 and the reshape to NHWC, before them (the float: a graph
    # since 2026-12-01) or after them (the uint8: older exports)
    name, to_nhwc = graph.output[0].name, None
    last = producer.get(name)
    if last is not None and last.op_type == "Reshape":
        name = last.input[0]
    tail = []
    for op_type in ("Cast", "Clip", "Round"):
        node = producer.get(name)
        if node is None or node.op_type != op_type:
            return None
        tail.append(node)
        name = node.input[0]
    to_uint8, clip, round_ = tail
    if last is not None and last.op_type != "Reshape":
        to_nhwc = producer.get(name)
        if to_nhwc is None or to_nhwc.op_type != "Reshape":
            return None
    bounds = [_constant(graph, i) for i in clip.input[1:]]
    if attr(to_uint8, "to") != TensorProto.UINT8 or bounds != [[0.0], [255.0]]:
        return None
    return reshape.output[0], cast, reduce_sum, mul, (round_, clip, to_uint8), to_nhwc


def _constant(graph, name: str) -> list | None:
    """The values of an initializer or Constant node output, flattened; None if neither."""
    from onnx import helper, numpy_helper

    for init in graph.initializer:
        if init.name == name:
            return numpy_helper.to_array(init).ravel().tolist()
    for node in graph.node:
        if node.op_type == "Constant" and node.output[0] == name:
            return numpy_helper.to_array(helper.get_attribute_value(node.attribute[0])).ravel().tolist()
    return None
