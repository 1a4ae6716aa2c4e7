import Foundation
import SwiftProtobuf

/// Builds an ONNX graph one operator at a time: float32 weights as initializers, nodes named after
/// the layer they come from, values named in order. Knows nothing of tensors or models: callers
/// hand it shapes and float arrays, so it sits below the model code.
public final class ONNXGraphBuilder {
    /// A value in the graph (an input, an initializer or a node's output).
    public struct Value: Hashable, Sendable { public let name: String }

    public static let defaultOpset = 12
    public let opset: Int
    private var graph = Onnx_GraphProto()
    private var used = Set<String>()

    public init(name: String, opset: Int = ONNXGraphBuilder.defaultOpset) {
        self.opset = opset
        graph.name = name
    }

    /// A float32 input with a fixed shape (a String dimension is symbolic, e.g. "batch").
    public func input(_ name: String, shape: [ONNXDimension]) -> Value {
        graph.input.append(Self.valueInfo(name, shape: shape))
        used.insert(name)
        return Value(name: name)
    }

    /// Marks a node's output as a graph output, renamed to `name` (the names deployers look up).
    public func output(_ value: Value, as name: String, shape: [ONNXDimension]) throws {
        guard !used.contains(name) else { throw ONNXExportError("the graph already has a value named \(name)") }
        guard let n = graph.node.lastIndex(where: { $0.output.contains(value.name) }) else {
            throw ONNXExportError("\(value.name) is not a node's output")
        }
        guard !graph.node[(n + 1)...].contains(where: { $0.input.contains(value.name) }) else {
            throw ONNXExportError("\(value.name) feeds other nodes; only a final value can be renamed to \(name)")
        }
        graph.node[n].output = graph.node[n].output.map { $0 == value.name ? name : $0 }
        used.insert(name)
        graph.output.append(Self.valueInfo(name, shape: shape))
    }

    /// A float32 constant (a weight), stored little-endian in raw_data.
    public func initializer(_ name: String, dims: [Int], floats: [Float]) throws -> Value {
        guard dims.reduce(1, *) == floats.count else {
            throw ONNXExportError("\(name): \(floats.count) values for the shape \(dims)")
        }
        var tensor = Onnx_TensorProto()
        tensor.name = unique(name)
        tensor.dims = dims.map(Int64.init)
        tensor.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        tensor.rawData = floats.withUnsafeBufferPointer { buffer in
            Data(buffer: UnsafeBufferPointer(start: buffer.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: UInt8.self) },
                                             count: buffer.count * 4))
        }
        graph.initializer.append(tensor)
        return Value(name: tensor.name)
    }

    /// An int64 constant (Slice's starts and ends, Resize's sizes).
    public func initializer(_ name: String, int64s: [Int]) -> Value {
        var tensor = Onnx_TensorProto()
        tensor.name = unique(name)
        tensor.dims = [Int64(int64s.count)]
        tensor.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        tensor.int64Data = int64s.map(Int64.init)
        graph.initializer.append(tensor)
        return Value(name: tensor.name)
    }

    /// One operator; returns its outputs (one unless `outputs` says more).
    @discardableResult
    public func node(_ opType: String, _ inputs: [Value], name: String, attributes: [ONNXAttribute] = [],
                     outputs: Int = 1) -> [Value] {
        var node = Onnx_NodeProto()
        node.opType = opType
        node.name = unique(name)
        node.input = inputs.map(\.name)
        node.output = (0..<outputs).map { unique(node.name + ($0 == 0 ? ":out" : ":out\($0)")) }
        node.attribute = attributes.map(\.proto)
        graph.node.append(node)
        return node.output.map(Value.init)
    }

    public var nodeCount: Int { graph.node.count }

    /// The finished model: IR version 7 (the one that goes with opset 12), the operator set, and
    /// metadata pairs a deployer can read back (classes, anchors, input size).
    public func model(producer: String, version: String, metadata: [(String, String)]) throws -> Data {
        var model = Onnx_ModelProto()
        model.irVersion = opset >= 15 ? 8 : 7
        var set = Onnx_OperatorSetIdProto()
        set.domain = ""
        set.version = Int64(opset)
        model.opsetImport = [set]
        model.producerName = producer
        model.producerVersion = version
        model.graph = graph
        model.metadataProps = metadata.map { key, value in
            var entry = Onnx_StringStringEntryProto()
            entry.key = key
            entry.value = value
            return entry
        }
        return try model.serializedData()
    }

    private func unique(_ name: String) -> String {
        var candidate = name, n = 1
        while used.contains(candidate) { n += 1; candidate = "\(name)_\(n)" }
        used.insert(candidate)
        return candidate
    }

    private static func valueInfo(_ name: String, shape: [ONNXDimension]) -> Onnx_ValueInfoProto {
        var tensorType = Onnx_TypeProto.Tensor()
        tensorType.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        tensorType.shape.dim = shape.map { d in
            var dim = Onnx_TensorShapeProto.Dimension()
            switch d {
            case .fixed(let n): dim.dimValue = Int64(n)
            case .symbolic(let s): dim.dimParam = s
            }
            return dim
        }
        var info = Onnx_ValueInfoProto()
        info.name = name
        info.type.tensorType = tensorType
        return info
    }
}

/// A dimension of a graph input or output.
public enum ONNXDimension: Equatable, Sendable, ExpressibleByIntegerLiteral {
    case fixed(Int)
    case symbolic(String)
    public init(integerLiteral value: Int) { self = .fixed(value) }
}

/// A node attribute: an int, a float, a string or a list of ints.
public struct ONNXAttribute {
    let proto: Onnx_AttributeProto

    public static func int(_ name: String, _ value: Int) -> ONNXAttribute {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .int; a.i = Int64(value)
        return ONNXAttribute(proto: a)
    }
    public static func float(_ name: String, _ value: Float) -> ONNXAttribute {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .float; a.f = value
        return ONNXAttribute(proto: a)
    }
    public static func string(_ name: String, _ value: String) -> ONNXAttribute {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .string; a.s = Data(value.utf8)
        return ONNXAttribute(proto: a)
    }
    public static func ints(_ name: String, _ values: [Int]) -> ONNXAttribute {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .ints; a.ints = values.map(Int64.init)
        return ONNXAttribute(proto: a)
    }
}

public struct ONNXExportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
