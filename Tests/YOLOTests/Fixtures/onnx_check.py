"""Checks an exported model against our own outputs: onnx.checker, then ONNX Runtime (and OpenCV's
DNN module when cv2 is importable) on the same input. Prints one JSON object.

python3 onnx_check.py MODEL.onnx INPUT.f32 OUTPUTS.json
INPUT.f32 holds the input as raw little-endian float32 (shape from the model's input); OUTPUTS.json
lists {"name", "shape", "file"} for our outputs, each file raw float32.
"""
import json
import sys

import numpy as np
import onnx
import onnxruntime

model_path, input_path, outputs_path = sys.argv[1:4]
model = onnx.load(model_path)
onnx.checker.check_model(model, full_check=True)
graph_input = model.graph.input[0]
shape = [d.dim_value or 1 for d in graph_input.type.tensor_type.shape.dim]
x = np.fromfile(input_path, dtype="<f4").reshape(shape)
ours = json.load(open(outputs_path))
expected = {o["name"]: np.fromfile(o["file"], dtype="<f4").reshape(o["shape"]) for o in ours}

result = {"opset": model.opset_import[0].version, "input": graph_input.name, "nodes": len(model.graph.node),
          "outputs": [o.name for o in model.graph.output],
          "metadata": {p.key: p.value for p in model.metadata_props}}
session = onnxruntime.InferenceSession(model_path, providers=["CPUExecutionProvider"])
got = dict(zip([o.name for o in session.get_outputs()], session.run(None, {graph_input.name: x})))
result["ort_max_abs_diff"] = max(float(np.abs(got[n] - e).max()) for n, e in expected.items())
result["ort_shapes"] = {n: list(v.shape) for n, v in got.items()}
result["max_abs_output"] = max(float(np.abs(e).max()) for e in expected.values())
try:
    import cv2
except ImportError:
    result["opencv"] = "not installed"
else:
    net = cv2.dnn.readNetFromONNX(model_path)
    net.setInput(x)
    names = [o["name"] for o in ours]
    values = net.forward(names)
    result["opencv"] = cv2.__version__
    result["opencv_max_abs_diff"] = max(float(np.abs(v.reshape(expected[n].shape) - expected[n]).max())
                                        for n, v in zip(names, values))
print(json.dumps(result))
