import ArgumentParser
import Foundation
import YOLO

@main
struct SummaryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "Print the layer table, parameter count and GFLOPs of YOLOv4 or YOLOv4-tiny.",
        discussion: """
        GFLOPs count 2 FLOPs per multiply-add of the convolutions for one image at the input shape
        (YOLOv4-tiny at 416 with 80 classes: 6.91; YOLOv4: 60.1). The class count comes from --num-classes or,
        when given, from --classes-path.
        """)

    @Option(help: "yolov4 or yolov4-tiny.") var model = "yolov4"
    @Option(name: .customLong("input-shape"), help: "height,width, multiples of 32.") var inputShape = "416,416"
    @Option(name: .customLong("num-classes"), help: "Number of classes.") var numClasses = 80
    @Option(name: .customLong("classes-path"), help: "Classes file (overrides --num-classes).") var classesPath: String?

    func run() throws {
        runReportingErrors {
            let kind = try ModelKind(parsing: model)
            let shape = inputShape.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard shape.count == 2, shape.allSatisfy({ $0 > 0 && $0 % 32 == 0 }) else {
                throw YOLOError("--input-shape '\(inputShape)': expected height,width, both multiples of 32 (e.g. 416,416)")
            }
            let classes = try classesPath.map { try ClassNames(contentsOf: $0).count } ?? numClasses
            let detector = try kind.make(numClasses: classes)
            let summary = try ModelSummary(model: detector, inputHeight: shape[0], inputWidth: shape[1])
            print(summary.table)
            print(String(format: "Total GFLOPs: %.3fG (input %dx%d, %d classes, 2 FLOPs per multiply-add)", summary.flops / 1e9,
                         shape[0], shape[1], classes))
            print(String(format: "Total params: %.3fM", Double(summary.totalParameters) / 1e6))
        }
    }
}
