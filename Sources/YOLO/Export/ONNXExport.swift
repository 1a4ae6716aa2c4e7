import Foundation
import NN
import ONNX
import TensorCore
import Vision

/// predict's export_onnx: the detector as an ONNX graph of the raw head outputs, as the reference
/// exports it (opset 12, input "images" [1, 3, H, W]; outputs before decoding, stride 32 first,
/// named "output", "output1", "output2", each [1, anchors x (5 + classes), H / stride, W / stride]).
/// BatchNorm is folded into the convolutions, which is what onnx-simplifier would do to the
/// reference's export. The classes, anchors and input size go into the model's metadata.
public enum ONNXExport {
    public struct Summary {
        public var bytes: Int
        public var nodes: Int
        public var inputShape: [ONNXDimension]
        public var outputs: [(name: String, shape: [ONNXDimension])]
        public var opset = ONNXGraphBuilder.defaultOpset

        public var inputText: String { Self.text(inputShape) }
        public var outputTexts: [(String, String)] { outputs.map { ($0.name, Self.text($0.shape)) } }
        static func text(_ dims: [ONNXDimension]) -> String {
            "[" + dims.map { d -> String in
                switch d {
                case .fixed(let n): return String(n)
                case .symbolic(let s): return s
                }
            }.joined(separator: ", ") + "]"
        }
    }

    public static let inputName = "images"
    public static func outputName(_ i: Int) -> String { i == 0 ? "output" : "output\(i)" }

    /// Writes the graph to `path` (through a temporary file, so an existing file survives a failure).
    /// `dynamicBatch` makes the first dimension the symbol "batch" instead of 1.
    public static func write(_ model: Detector, inputShape: [Int], classes: ClassNames, anchors: [(Double, Double)],
                             dynamicBatch: Bool = false, to path: String) throws -> Summary {
        guard inputShape.count == 2, inputShape.allSatisfy({ $0 > 0 && $0 % 32 == 0 }) else {
            throw YOLOError("input_shape \(inputShape): expected [height, width], multiples of 32")
        }
        model.eval()
        let graph = ONNXGraphBuilder(name: model is YOLOv4 ? "yolov4" : "yolov4-tiny")
        let batch: ONNXDimension = dynamicBatch ? .symbolic("batch") : 1
        let input = graph.input(inputName, shape: [batch, 3, .fixed(inputShape[0]), .fixed(inputShape[1])])
        let heads: [ONNXGraphBuilder.Value]
        switch model {
        case let m as YOLOv4: heads = try m.exportOutputs(input, to: graph)
        case let m as YOLOv4Tiny: heads = try m.exportOutputs(input, to: graph)
        default: throw YOLOError("\(type(of: model)) has no ONNX graph")
        }
        var outputs: [(name: String, shape: [ONNXDimension])] = []
        for (i, head) in heads.enumerated() {
            let stride = 32 >> i
            let shape: [ONNXDimension] = [batch, .fixed(model.anchorsMask[i].count * (5 + model.numClasses)),
                                          .fixed(inputShape[0] / stride), .fixed(inputShape[1] / stride)]
            try graph.output(head, as: outputName(i), shape: shape)
            outputs.append((outputName(i), shape))
        }
        let metadata = [("classes", classes.names.joined(separator: ",")),
                        ("anchors", anchors.map { "\(Int($0.0)),\(Int($0.1))" }.joined(separator: ", ")),
                        ("anchors_mask", model.anchorsMask.map { "[" + $0.map(String.init).joined(separator: ",") + "]" }
                            .joined(separator: ",")),
                        ("input_shape", "\(inputShape[0]),\(inputShape[1])"),
                        ("outputs", "raw head outputs before decoding, stride 32 first")]
        let data = try graph.model(producer: "yolo-swift predict", version: "1", metadata: metadata)
        do { try writeAtomically(data, to: path) } catch { throw YOLOError("\(error)") }
        return Summary(bytes: data.count, nodes: graph.nodeCount, inputShape: [batch, 3, .fixed(inputShape[0]), .fixed(inputShape[1])],
                       outputs: outputs)
    }
}
