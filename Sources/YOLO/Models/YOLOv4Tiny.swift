import NN
import TensorCore

/// A CSPDarknet53-tiny block: 3x3 unit, the SECOND half of its channels through two 3x3 units
/// (concatenated), a 1x1 fuse ("feat"), then [route, feat] max-pooled 2x2.
final class TinyResblockBody: Module {
    let conv1, conv2, conv3, conv4: BasicConv
    let pool = MaxPool2d(kernel: 2, stride: 2)
    let channels: Int

    init(_ inChannels: Int, _ outChannels: Int, _ g: RandomGenerator) throws {
        channels = outChannels
        conv1 = try BasicConv(inChannels, outChannels, kernel: 3, activation: .leaky, generator: g)
        conv2 = try BasicConv(outChannels / 2, outChannels / 2, kernel: 3, activation: .leaky, generator: g)
        conv3 = try BasicConv(outChannels / 2, outChannels / 2, kernel: 3, activation: .leaky, generator: g)
        conv4 = try BasicConv(outChannels, outChannels, kernel: 1, activation: .leaky, generator: g)
        super.init()
        register("conv1", conv1); register("conv2", conv2); register("conv3", conv3); register("conv4", conv4)
        register("maxpool", pool)
    }

    func block(_ x: Tensor) throws -> (Tensor, Tensor) {
        let route = try conv1(x)
        let half = try conv2(route.narrow(axis: 1, start: channels / 2, length: channels / 2))
        let feat = try conv4(Tensor.concat([conv3(half), half], axis: 1))
        return (try pool(Tensor.concat([route, feat], axis: 1)), feat)
    }
}

final class CSPDarknet53Tiny: Module {
    let conv1, conv2, conv3: BasicConv
    let body1, body2, body3: TinyResblockBody

    init(_ g: RandomGenerator) throws {
        conv1 = try BasicConv(3, 32, kernel: 3, stride: 2, activation: .leaky, generator: g)
        conv2 = try BasicConv(32, 64, kernel: 3, stride: 2, activation: .leaky, generator: g)
        body1 = try TinyResblockBody(64, 64, g)
        body2 = try TinyResblockBody(128, 128, g)
        body3 = try TinyResblockBody(256, 256, g)
        conv3 = try BasicConv(512, 512, kernel: 3, activation: .leaky, generator: g)
        super.init()
        register("conv1", conv1); register("conv2", conv2)
        register("resblock_body1", body1); register("resblock_body2", body2); register("resblock_body3", body3)
        register("conv3", conv3)
    }

    /// The stride 16 feature (256 channels) and the stride 32 one (512).
    func features(_ x: Tensor) throws -> (Tensor, Tensor) {
        var y = try conv2(conv1(x))
        y = try body1.block(y).0
        y = try body2.block(y).0
        let (pooled, feat1) = try body3.block(y)
        return (feat1, try conv3(pooled))
    }
}

/// YOLOv4-tiny: CSPDarknet53-tiny and an FPN with heads at stride 32 and 16 (stride 32 first);
/// the upsampled branch is concatenated before feat1.
public final class YOLOv4Tiny: Module, Detector {
    public let numClasses: Int
    public let anchorsMask: [[Int]]
    let backbone: CSPDarknet53Tiny
    let convForP5: BasicConv
    let headP5, headP4: Sequential
    let upsample: UpsampleBlock

    public init(numClasses: Int, anchorsMask: [[Int]] = [[3, 4, 5], [1, 2, 3]], seed: UInt64 = 0) throws {
        self.numClasses = numClasses
        self.anchorsMask = anchorsMask
        let g = RandomGenerator(seed: seed)
        backbone = try CSPDarknet53Tiny(g)
        convForP5 = try Neck.conv(512, 256, 1, g)
        headP5 = try Neck.head(512, anchorsMask[0].count * (5 + numClasses), 256, g)
        upsample = try UpsampleBlock(256, 128, g)
        headP4 = try Neck.head(256, anchorsMask[1].count * (5 + numClasses), 384, g)
        super.init()
        register("backbone", backbone)
        register("conv_for_P5", convForP5)
        register("yolo_headP5", headP5)
        register("upsample", upsample)
        register("yolo_headP4", headP4)
    }

    public func outputs(_ x: Tensor) throws -> [Tensor] {
        let (feat1, feat2) = try backbone.features(x)
        let p5 = try convForP5(feat2)
        let out0 = try headP5(p5)
        let out1 = try headP4(Tensor.concat([upsample(p5), feat1], axis: 1))
        return [out0, out1]
    }
}
