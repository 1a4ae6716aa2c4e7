import NN
import TensorCore

/// YOLOv4: CSPDarknet53, SPP and a PANet neck with three heads. Outputs stride 32 first
/// (13, 26, 52 for a 416 input); each head has anchors x (5 + classes) channels, anchor-major.
public final class YOLOv4: Module, Detector {
    public let numClasses: Int
    public let anchorsMask: [[Int]]
    let backbone: CSPDarknet53
    let conv1, conv2, makeFive1, makeFive2, makeFive3, makeFive4, head3, head2, head1: Sequential
    let spp = SpatialPyramidPooling()
    let upsample1, upsample2: UpsampleBlock
    let convForP4, convForP3, downSample1, downSample2: BasicConv

    public init(numClasses: Int, anchorsMask: [[Int]] = [[6, 7, 8], [3, 4, 5], [0, 1, 2]], seed: UInt64 = 0) throws {
        self.numClasses = numClasses
        self.anchorsMask = anchorsMask
        let g = RandomGenerator(seed: seed)
        let out = anchorsMask.map { $0.count * (5 + numClasses) }
        backbone = try CSPDarknet53(g)
        conv1 = try Neck.three((512, 1024), 1024, g)
        conv2 = try Neck.three((512, 1024), 2048, g)
        upsample1 = try UpsampleBlock(512, 256, g)
        convForP4 = try Neck.conv(512, 256, 1, g)
        makeFive1 = try Neck.five((256, 512), 512, g)
        upsample2 = try UpsampleBlock(256, 128, g)
        convForP3 = try Neck.conv(256, 128, 1, g)
        makeFive2 = try Neck.five((128, 256), 256, g)
        head3 = try Neck.head(256, out[2], 128, g)
        downSample1 = try Neck.conv(128, 256, 3, stride: 2, g)
        makeFive3 = try Neck.five((256, 512), 512, g)
        head2 = try Neck.head(512, out[1], 256, g)
        downSample2 = try Neck.conv(256, 512, 3, stride: 2, g)
        makeFive4 = try Neck.five((512, 1024), 1024, g)
        head1 = try Neck.head(1024, out[0], 512, g)
        super.init()
        register("backbone", backbone)
        register("conv1", conv1); register("SPP", spp); register("conv2", conv2)
        register("upsample1", upsample1); register("conv_for_P4", convForP4); register("make_five_conv1", makeFive1)
        register("upsample2", upsample2); register("conv_for_P3", convForP3); register("make_five_conv2", makeFive2)
        register("yolo_head3", head3)
        register("down_sample1", downSample1); register("make_five_conv3", makeFive3); register("yolo_head2", head2)
        register("down_sample2", downSample2); register("make_five_conv4", makeFive4); register("yolo_head1", head1)
    }

    public func outputs(_ x: Tensor) throws -> [Tensor] {
        let (x2, x1, x0) = try backbone.features(x)
        var p5 = try conv2(spp(conv1(x0)))
        let p5Up = try upsample1(p5)
        var p4 = try makeFive1(Tensor.concat([convForP4(x1), p5Up], axis: 1))
        let p4Up = try upsample2(p4)
        let p3 = try makeFive2(Tensor.concat([convForP3(x2), p4Up], axis: 1))
        p4 = try makeFive3(Tensor.concat([downSample1(p3), p4], axis: 1))
        p5 = try makeFive4(Tensor.concat([downSample2(p4), p5], axis: 1))
        return [try head1(p5), try head2(p4), try head3(p3)]
    }
}
