"""Writes the PyTorch checkpoint fixtures the NN tests read, with real PyTorch. Run once in a throwaway
environment: python3 -m venv /tmp/t && /tmp/t/bin/pip install torch && /tmp/t/bin/python make_fixtures.py
The tests never need PyTorch. It also checks, when present, that written_by_us.pth (made by our
writer, see PthTests) loads with weights_only=True and holds what the tests expect."""
import json, os
from collections import OrderedDict
import torch

base = torch.arange(12, dtype=torch.float32) * 0.5
state = OrderedDict()
state["backbone.conv1.conv.weight"] = base.reshape(3, 4)                 # float32
state["backbone.conv1.bn.num_batches_tracked"] = torch.tensor(7)         # int64 scalar
state["half"] = torch.tensor([1.5, -2.25, 65504.0], dtype=torch.float16) # float16
state["transposed"] = base.reshape(3, 4).t()                             # non-contiguous view
state["shared_tail"] = base[6:9]                                         # offset into a shared storage
state["mask"] = torch.tensor([True, False, True])
state["double"] = torch.tensor([0.1, 0.2], dtype=torch.float64)
state["int32"] = torch.tensor([3, -4], dtype=torch.int32)

torch.save(state, "state_zip.pth")
torch.save(state, "state_legacy.pth", _use_new_zipfile_serialization=False)
torch.save({"model": state, "epoch": 7, "lr": 0.001, "name": "yolo", "losses": [1.5, 2.25], "done": True,
            "nothing": None, "big": 2**40}, "checkpoint.pth")
# Bad inputs: a dtype we do not support, and a pickled object that is not a tensor or container.
import argparse
torch.save({"w": torch.ones(2, dtype=torch.bfloat16)}, "bfloat16.pth")
torch.save({"args": argparse.Namespace(lr=0.1)}, "namespace.pth")
expected = {k: {"shape": list(v.shape), "values": [float(x) for x in v.flatten().tolist()]} for k, v in state.items()}
json.dump(expected, open("expected.json", "w"), indent=1)

if os.path.exists("written_by_us.pth"):
    ours = torch.load("written_by_us.pth", weights_only=True)
    report = {}
    for k, v in ours["model"].items():
        report[k] = {"dtype": str(v.dtype), "shape": list(v.shape), "values": [float(x) for x in v.flatten().tolist()]}
    report["_extras"] = {k: v for k, v in ours.items() if k != "model"}
    json.dump(report, open("written_by_us.torch.json", "w"), indent=1, default=str)
    print("written_by_us.pth loads with weights_only=True:", list(ours.keys()))
