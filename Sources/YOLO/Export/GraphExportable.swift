import NN
import ONNX
import TensorCore

/// A module that can write itself into an ONNX graph: the same computation as its forward in eval
/// mode, expressed as operators. `name` is the module's state-dict path, which names the nodes.
/// The ONNX Runtime test holds each of these to the module's forward.
protocol GraphExportable {
    func export(_ x: ONNXGraphBuilder.Value, to graph: ONNXGraphBuilder, name: String) throws -> ONNXGraphBuilder.Value
}

extension Module {
    /// Writes a child module; every module a model uses must be exportable.
    func exportChild(_ child: Module, _ x: ONNXGraphBuilder.Value, to graph: ONNXGraphBuilder,
                     name: String) throws -> ONNXGraphBuilder.Value {
        guard let exportable = child as? GraphExportable else {
            throw ONNXExportError("\(name) (\(type(of: child))) cannot be written as ONNX operators")
        }
        return try exportable.export(x, to: graph, name: name)
    }
}

extension ONNXGraphBuilder {
    /// Conv with square kernels, symmetric padding and an optional bias.
    func conv(_ x: Value, weight: Tensor, bias: Tensor?, stride: Int, padding: Int, groups: Int = 1,
              name: String) throws -> Value {
        let dims = weight.shape
        let w = try initializer(name + ".weight", dims: dims, floats: weight.contiguous().toArray())
        let b = try bias.map { try initializer(name + ".bias", dims: [dims[0]], floats: $0.contiguous().toArray()) }
        return node("Conv", [x, w] + (b.map { [$0] } ?? []), name: name, attributes: [
            .ints("kernel_shape", [dims[2], dims[3]]), .ints("strides", [stride, stride]),
            .ints("pads", [padding, padding, padding, padding]), .ints("dilations", [1, 1]), .int("group", groups),
        ])[0]
    }

    /// Mish as x * tanh(softplus(x)): opset 12 has no Mish operator (it came in 18), and this is how
    /// PyTorch exports it at opset 12 too.
    func mish(_ x: Value, name: String) -> Value {
        let softplus = node("Softplus", [x], name: name + ".softplus")[0]
        let tanh = node("Tanh", [softplus], name: name + ".tanh")[0]
        return node("Mul", [x, tanh], name: name + ".mul")[0]
    }
}

extension BasicConv: GraphExportable {
    /// The evaluation path: BatchNorm folded into the convolution's weight and bias, as in
    /// `fusedForward`, then the activation.
    func export(_ x: ONNXGraphBuilder.Value, to graph: ONNXGraphBuilder, name: String) throws -> ONNXGraphBuilder.Value {
        let (weight, bias) = try withNoGrad { () -> (Tensor, Tensor) in
            let scale = try bn.weight.value / (bn.runningVar.value + bn.epsilon).sqrt()
            return (try conv.weight.value * scale.reshape([-1, 1, 1, 1]), try bn.bias.value - bn.runningMean.value * scale)
        }
        let y = try graph.conv(x, weight: weight, bias: bias, stride: conv.stride, padding: conv.padding, name: name + ".conv")
        switch activation {
        case .mish: return graph.mish(y, name: name + ".activation")
        case .leaky: return graph.node("LeakyRelu", [y], name: name + ".activation", attributes: [.float("alpha", 0.1)])[0]
        }
    }
}

extension Conv2d: GraphExportable {
    func export(_ x: ONNXGraphBuilder.Value, to graph: ONNXGraphBuilder, name: String) throws -> ONNXGraphBuilder.Value {
        try graph.conv(x, weight: weight.value, bias: bias?.value, stride: stride, padding: padding, groups: groups, name: name)
    }
}

extension Sequential: GraphExportable {
    func export(_ x: ONNXGraphBuilder.Value, to graph: ONNXGraphBuilder, name: String) throws -> ONNXGraphBuilder.Value {
        try layers.enumerated().reduce(x) { y, layer in try exportChild(layer.element, y, to: graph, name: "\(name).\(layer.offset)") }
    }
}

extension MaxPool2d: GraphExportable {
    func export(_ x: ONNXGraphBuilder.Value, to graph: ONNXGraphBuilder, name: String) throws -> ONNXGraphBuilder.Value {
        graph.node("MaxPool", [x], name: name, attributes: [
            .ints("kernel_shape", [kernel, kernel]), .ints("strides", [stride, stride]),
            .ints("pads", [padding, padding, padding, padding]),
        ])[0]
    }
}

extension Upsample: GraphExportable {
    /// Resize, nearest, with PyTorch's nearest rule (source index = floor(destination / factor)).
    func export(_ x: ONNXGraphBuilder.Value, to graph: ONNXGraphBuilder, name: String) throws -> ONNXGraphBuilder.Value {
        let roi = try graph.initializer(name + ".roi", dims: [0], floats: [])
        let scales = try graph.initializer(name + ".scales", dims: [4], floats: [1, 1, Float(factor), Float(factor)])
        return graph.node("Resize", [x, roi, scales], name: name, attributes: [
            .string("mode", "nearest"), .string("coordinate_transformation_mode", "asymmetric"),
            .string("nearest_mode", "floor"),
        ])[0]
    }
}
