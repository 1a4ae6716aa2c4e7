import Foundation
import NN
import TensorCore

/// The layer table of a detector at an input size: every leaf layer with its output shape and
/// parameter count, the totals, and GFLOPs (2 per multiply-add of the convolutions, as the
/// reference's thop figure is computed).
public struct ModelSummary {
    public struct Row {
        public var name: String
        public var type: String
        public var outputShape: [Int]
        public var parameters: Int
    }

    public var rows: [Row] = []
    public var totalParameters = 0
    public var trainableParameters = 0
    public var flops = 0.0

    public init(model: Detector, inputHeight: Int, inputWidth: Int) throws {
        var names: [ObjectIdentifier: String] = [:]
        for (name, module) in model.namedModules() { names[ObjectIdentifier(module)] = name }
        var recorded: [Row] = []
        var flops = 0.0
        Module.observer = { module, output in
            let isLeaf = module is Conv2d || module is BatchNorm2d || module is MaxPool2d || module is Upsample
            guard isLeaf, let name = names[ObjectIdentifier(module)] else { return }
            let params = module.namedParameters().map { $0.1.value.count }.reduce(0, +)
            recorded.append(Row(name: name, type: String(describing: type(of: module)), outputShape: output.shape, parameters: params))
            if let conv = module as? Conv2d { flops += conv.flops(outHeight: output.shape[2], outWidth: output.shape[3]) }
        }
        defer { Module.observer = nil }
        let wasTraining = model.isTraining
        model.eval()
        defer { model.train(wasTraining) }
        _ = try withNoGrad { try model.outputs(Tensor.zeros([1, 3, inputHeight, inputWidth])) }
        rows = recorded
        self.flops = flops
        totalParameters = model.namedParameters().map { $0.1.value.count }.reduce(0, +)
        trainableParameters = model.namedParameters().filter { $0.1.requiresGrad }.map { $0.1.value.count }.reduce(0, +)
    }

    public var table: String {
        let nameWidth = max(rows.map { $0.name.count + $0.type.count + 3 }.max() ?? 10, 20)
        func pad(_ s: String, _ n: Int, right: Bool = false) -> String {
            let fill = String(repeating: " ", count: max(n - s.count, 0))
            return right ? fill + s : s + fill
        }
        let rule = String(repeating: "-", count: nameWidth + 38)
        var lines = [rule, pad("Layer (type)", nameWidth) + pad("Output Shape", 24, right: true) + pad("Param #", 14, right: true),
                     String(repeating: "=", count: nameWidth + 38)]
        for r in rows {
            let shape = "[" + (["-1"] + r.outputShape.dropFirst().map(String.init)).joined(separator: ", ") + "]"
            lines.append(pad("\(r.name) (\(r.type))", nameWidth) + pad(shape, 24, right: true) + pad(grouped(r.parameters), 14, right: true))
        }
        lines += [String(repeating: "=", count: nameWidth + 38),
                  "Total params: \(grouped(totalParameters))",
                  "Trainable params: \(grouped(trainableParameters))",
                  "Non-trainable params: \(grouped(totalParameters - trainableParameters))",
                  rule]
        return lines.joined(separator: "\n")
    }

    private func grouped(_ n: Int) -> String {
        let s = String(n)
        return String(s.reversed().enumerated().map { $0.offset > 0 && $0.offset % 3 == 0 ? ",\($0.element)" : "\($0.element)" }
            .joined().reversed())
    }
}
