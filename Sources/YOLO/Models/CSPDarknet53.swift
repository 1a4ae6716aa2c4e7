import NN
import TensorCore

/// x + block(x), block = 1x1 then 3x3 Mish units.
final class Resblock: Module {
    let block: Sequential
    init(_ channels: Int, hidden: Int? = nil, _ g: RandomGenerator) throws {
        block = Sequential([try BasicConv(channels, hidden ?? channels, kernel: 1, activation: .mish, generator: g),
                            try BasicConv(hidden ?? channels, channels, kernel: 3, activation: .mish, generator: g)])
        super.init()
        register("block", block)
    }
    override func forward(_ x: Tensor) throws -> Tensor { try x + block(x) }
}

/// A CSP stage: stride-2 downsampling, two 1x1 branches, residual blocks on one, concatenated
/// [blocks, shortcut] and fused by a 1x1.
final class ResblockBody: Module {
    let downsample, split0, split1, concatConv: BasicConv
    let blocks: Sequential

    init(_ inChannels: Int, _ outChannels: Int, blocks count: Int, first: Bool, _ g: RandomGenerator) throws {
        func unit(_ i: Int, _ o: Int, _ k: Int, stride: Int = 1) throws -> BasicConv {
            try BasicConv(i, o, kernel: k, stride: stride, activation: .mish, generator: g)
        }
        downsample = try unit(inChannels, outChannels, 3, stride: 2)
        let inner = first ? outChannels : outChannels / 2
        split0 = try unit(outChannels, inner, 1)
        split1 = try unit(outChannels, inner, 1)
        if first {
            blocks = Sequential([try Resblock(outChannels, hidden: outChannels / 2, g), try unit(outChannels, outChannels, 1)])
        } else {
            blocks = Sequential(try (0..<count).map { _ in try Resblock(inner, g) } + [try unit(inner, inner, 1)])
        }
        concatConv = try unit(inner * 2, outChannels, 1)
        super.init()
        register("downsample_conv", downsample)
        register("split_conv0", split0)
        register("split_conv1", split1)
        register("blocks_conv", blocks)
        register("concat_conv", concatConv)
    }

    override func forward(_ x: Tensor) throws -> Tensor {
        let d = try downsample(x)
        let shortcut = try split0(d)
        let main = try blocks(split1(d))
        return try concatConv(Tensor.concat([main, shortcut], axis: 1))
    }
}

/// CSPDarknet53: a 3x3 stem and five CSP stages of 1, 2, 8, 8, 4 residual blocks; returns the
/// stride 8, 16 and 32 features.
final class CSPDarknet53: Module {
    let stem: BasicConv
    let stages: Sequential

    init(_ g: RandomGenerator) throws {
        stem = try BasicConv(3, 32, kernel: 3, activation: .mish, generator: g)
        stages = Sequential([try ResblockBody(32, 64, blocks: 1, first: true, g), try ResblockBody(64, 128, blocks: 2, first: false, g),
                             try ResblockBody(128, 256, blocks: 8, first: false, g), try ResblockBody(256, 512, blocks: 8, first: false, g),
                             try ResblockBody(512, 1024, blocks: 4, first: false, g)])
        super.init()
        register("conv1", stem)
        register("stages", stages)
    }

    func features(_ x: Tensor) throws -> (Tensor, Tensor, Tensor) {
        var y = try stem(x)
        y = try stages.layers[0](y)
        y = try stages.layers[1](y)
        let out3 = try stages.layers[2](y)
        let out4 = try stages.layers[3](out3)
        let out5 = try stages.layers[4](out4)
        return (out3, out4, out5)
    }
}
