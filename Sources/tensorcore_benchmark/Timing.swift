import Foundation
import TensorCore

/// Buffers for one conv shape, allocated once so the timed loop measures only the kernels.
struct ConvBuffers {
    let input, weight, output, gradOutput, gradInput, gradWeight: Tensor

    init(_ p: Conv2dParameters, seed: UInt64) throws {
        let g = RandomGenerator(seed: seed)
        input = try Tensor.uniform([p.batch, p.inChannels, p.height, p.width], low: -1, high: 1, generator: g)
        weight = try Tensor.normal([p.outChannels, p.inChannels / p.groups, p.kernelHeight, p.kernelWidth], std: 0.02, generator: g)
        output = try Tensor.empty([p.batch, p.outChannels, p.outHeight, p.outWidth])
        gradOutput = try Tensor.uniform(output.shape, low: -1, high: 1, generator: g)
        gradInput = try Tensor.empty(input.shape)
        gradWeight = try Tensor.empty(weight.shape)
    }

    func forward(_ p: Conv2dParameters) throws { try Backends.cpu.conv2dForward(input, weight, nil, into: output, p) }
    func backwardData(_ p: Conv2dParameters) throws {
        try Backends.cpu.conv2dBackwardData(gradOutput, weight, into: gradInput, p)
    }
    func backwardWeights(_ p: Conv2dParameters) throws {
        try Backends.cpu.conv2dBackwardWeights(input, gradOutput, into: gradWeight, gradBias: nil, p)
    }
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

/// Median seconds of each pass of one layer shape.
struct PassTimes {
    let forward, backwardData, backwardWeights: Double

    static func measure(_ p: Conv2dParameters, repeats: Int) throws -> PassTimes {
        let b = try ConvBuffers(p, seed: 1)
        try b.forward(p); try b.backwardData(p); try b.backwardWeights(p)   // warm-up: primitive creation
        var f: [Double] = [], d: [Double] = [], w: [Double] = []
        for _ in 0..<repeats {
            f.append(try seconds { try b.forward(p) })
            d.append(try seconds { try b.backwardData(p) })
            w.append(try seconds { try b.backwardWeights(p) })
        }
        return PassTimes(forward: median(f), backwardData: median(d), backwardWeights: median(w))
    }
}

/// Median seconds of the whole layer sequence: all forwards in order, then all backwards in
/// reverse order (data and weights), as a training step runs them.
struct SequenceTimes {
    let forward, backward: Double

    static func measure(_ layers: [Conv2dParameters], repeats: Int) throws -> SequenceTimes {
        let buffers = try layers.enumerated().map { try ConvBuffers($1, seed: UInt64($0)) }
        let pairs = Array(zip(layers, buffers))
        for (p, b) in pairs { try b.forward(p); try b.backwardData(p); try b.backwardWeights(p) }
        var f: [Double] = [], bw: [Double] = []
        for _ in 0..<repeats {
            f.append(try seconds { for (p, b) in pairs { try b.forward(p) } })
            bw.append(try seconds { for (p, b) in pairs.reversed() { try b.backwardData(p); try b.backwardWeights(p) } })
        }
        return SequenceTimes(forward: median(f), backward: median(bw))
    }
}
