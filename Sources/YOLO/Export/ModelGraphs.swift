import NN
import ONNX
import TensorCore

// The blocks and models as ONNX operators, written beside (and checked against) their forwards.

extension UpsampleBlock: GraphExportable {
    func export(_ x: ONNXGraphBuilder.Value, to graph: ONNXGraphBuilder, name: String) throws -> ONNXGraphBuilder.Value {
        try upsample.export(x, to: graph, name: name + ".upsample")
    }
}

extension SpatialPyramidPooling: GraphExportable {
    func export(_ x: ONNXGraphBuilder.Value, to graph: ONNXGraphBuilder, name: String) throws -> ONNXGraphBuilder.Value {
        let pooled = try pools.enumerated().map { try $0.element.export(x, to: graph, name: "\(name).maxpools.\($0.offset)") }
        return graph.node("Concat", pooled + [x], name: name + ".concat", attributes: [.int("axis", 1)])[0]
    }
}

extension Resblock: GraphExportable {
    func export(_ x: ONNXGraphBuilder.Value, to graph: ONNXGraphBuilder, name: String) throws -> ONNXGraphBuilder.Value {
        let y = try block.export(x, to: graph, name: name + ".block")
        return graph.node("Add", [x, y], name: name + ".add")[0]
    }
}

extension ResblockBody: GraphExportable {
    func export(_ x: ONNXGraphBuilder.Value, to graph: ONNXGraphBuilder, name: String) throws -> ONNXGraphBuilder.Value {
        let d = try downsample.export(x, to: graph, name: name + ".downsample_conv")
        let shortcut = try split0.export(d, to: graph, name: name + ".split_conv0")
        let main = try blocks.export(split1.export(d, to: graph, name: name + ".split_conv1"), to: graph, name: name + ".blocks_conv")
        let joined = graph.node("Concat", [main, shortcut], name: name + ".concat", attributes: [.int("axis", 1)])[0]
        return try concatConv.export(joined, to: graph, name: name + ".concat_conv")
    }
}

extension TinyResblockBody {
    func exportBlock(_ x: ONNXGraphBuilder.Value, to graph: ONNXGraphBuilder,
                     name: String) throws -> (ONNXGraphBuilder.Value, ONNXGraphBuilder.Value) {
        let route = try conv1.export(x, to: graph, name: name + ".conv1")
        // The second half of the channels, as `narrow` takes it.
        let half = graph.node("Slice", [route, graph.initializer(name + ".starts", int64s: [channels / 2]),
                                        graph.initializer(name + ".ends", int64s: [channels]),
                                        graph.initializer(name + ".axes", int64s: [1])], name: name + ".split")[0]
        let h = try conv2.export(half, to: graph, name: name + ".conv2")
        let c3 = try conv3.export(h, to: graph, name: name + ".conv3")
        let feat = try conv4.export(graph.node("Concat", [c3, h], name: name + ".concat1", attributes: [.int("axis", 1)])[0],
                                    to: graph, name: name + ".conv4")
        let joined = graph.node("Concat", [route, feat], name: name + ".concat2", attributes: [.int("axis", 1)])[0]
        return (try pool.export(joined, to: graph, name: name + ".maxpool"), feat)
    }
}

extension YOLOv4Tiny {
    func exportOutputs(_ x: ONNXGraphBuilder.Value, to graph: ONNXGraphBuilder) throws -> [ONNXGraphBuilder.Value] {
        var y = try backbone.conv1.export(x, to: graph, name: "backbone.conv1")
        y = try backbone.conv2.export(y, to: graph, name: "backbone.conv2")
        y = try backbone.body1.exportBlock(y, to: graph, name: "backbone.resblock_body1").0
        y = try backbone.body2.exportBlock(y, to: graph, name: "backbone.resblock_body2").0
        let (pooled, feat1) = try backbone.body3.exportBlock(y, to: graph, name: "backbone.resblock_body3")
        let feat2 = try backbone.conv3.export(pooled, to: graph, name: "backbone.conv3")
        let p5 = try convForP5.export(feat2, to: graph, name: "conv_for_P5")
        let out0 = try headP5.export(p5, to: graph, name: "yolo_headP5")
        let up = try upsample.export(p5, to: graph, name: "upsample")
        let joined = graph.node("Concat", [up, feat1], name: "concat_P4", attributes: [.int("axis", 1)])[0]
        return [out0, try headP4.export(joined, to: graph, name: "yolo_headP4")]
    }
}

extension YOLOv4 {
    func exportOutputs(_ x: ONNXGraphBuilder.Value, to graph: ONNXGraphBuilder) throws -> [ONNXGraphBuilder.Value] {
        func concat(_ values: [ONNXGraphBuilder.Value], _ name: String) -> ONNXGraphBuilder.Value {
            graph.node("Concat", values, name: name, attributes: [.int("axis", 1)])[0]
        }
        var y = try backbone.stem.export(x, to: graph, name: "backbone.conv1")
        y = try exportChild(backbone.stages.layers[0], y, to: graph, name: "backbone.stages.0")
        y = try exportChild(backbone.stages.layers[1], y, to: graph, name: "backbone.stages.1")
        let x2 = try exportChild(backbone.stages.layers[2], y, to: graph, name: "backbone.stages.2")
        let x1 = try exportChild(backbone.stages.layers[3], x2, to: graph, name: "backbone.stages.3")
        let x0 = try exportChild(backbone.stages.layers[4], x1, to: graph, name: "backbone.stages.4")
        var p5 = try conv2.export(spp.export(conv1.export(x0, to: graph, name: "conv1"), to: graph, name: "SPP"),
                                  to: graph, name: "conv2")
        let p5Up = try upsample1.export(p5, to: graph, name: "upsample1")
        var p4 = try makeFive1.export(concat([convForP4.export(x1, to: graph, name: "conv_for_P4"), p5Up], "concat_P4"),
                                      to: graph, name: "make_five_conv1")
        let p4Up = try upsample2.export(p4, to: graph, name: "upsample2")
        let p3 = try makeFive2.export(concat([convForP3.export(x2, to: graph, name: "conv_for_P3"), p4Up], "concat_P3"),
                                      to: graph, name: "make_five_conv2")
        p4 = try makeFive3.export(concat([downSample1.export(p3, to: graph, name: "down_sample1"), p4], "concat_down_P4"),
                                  to: graph, name: "make_five_conv3")
        p5 = try makeFive4.export(concat([downSample2.export(p4, to: graph, name: "down_sample2"), p5], "concat_down_P5"),
                                  to: graph, name: "make_five_conv4")
        return [try head1.export(p5, to: graph, name: "yolo_head1"), try head2.export(p4, to: graph, name: "yolo_head2"),
                try head3.export(p3, to: graph, name: "yolo_head3")]
    }
}
