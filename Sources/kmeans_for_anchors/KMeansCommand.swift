import ArgumentParser
import Foundation
import TensorCore
import Vision
import YOLO

@main
struct KMeansCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kmeans_for_anchors",
        abstract: "Cluster the dataset's box sizes into anchors (k-means, distance 1 - IoU).",
        discussion: """
        Reads every object of the VOC XML files, scales its width and height to the input shape, clusters them
        (9 anchors for YOLOv4, 6 for YOLOv4-tiny), prints the average IoU of the boxes with their best anchor,
        writes the anchors sorted by area in the anchors-file format ('w,h, w,h, ...') and a scatter picture of
        the clusters. Reproducible from --seed.
        """)

    @Option(name: .customLong("anchors-num"), help: "Number of anchors: 9 (YOLOv4) or 6 (YOLOv4-tiny).") var anchorsNum = 9
    @Option(name: .customLong("input-shape"), help: "Input height,width the anchors are for.") var inputShape = "416,416"
    @Option(help: "Folder of VOC XML annotations.") var annotations = "VOCdevkit/VOC2007/Annotations"
    @Option(help: "Anchors file to write.") var output = "model_data/yolo_anchors.txt"
    @Option(help: "Scatter picture of the clusters.") var plot = "kmeans_for_anchors.png"
    @Option(help: "Seed of the initial centres.") var seed: UInt64 = 0

    func run() throws {
        runReportingErrors {
            let shape = inputShape.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard shape.count == 2, shape.allSatisfy({ $0 > 0 }) else {
                throw YOLOError("--input-shape '\(inputShape)': expected height,width such as 416,416")
            }
            let (sizes, skipped) = try AnchorKMeans.boxSizes(annotationsFolder: annotations)
            for path in skipped { print("Warning: skipped \(path): no usable <size>") }
            print("Loaded \(sizes.count) boxes from \(annotations).")
            let result = try AnchorKMeans.cluster(sizes, k: anchorsNum, rng: RandomGenerator(seed: seed)) { print($0) }
            let (h, w) = (Double(shape[0]), Double(shape[1]))
            let boxes = sizes.map { ($0.0 * w, $0.1 * h) }
            let centers = result.centers.map { ($0.0 * w, $0.1 * h) }
            let colors = classColors(anchorsNum)
            let groups = (0..<anchorsNum).map { j in
                ScatterChart.Group(points: boxes.indices.filter { result.assignment[$0] == j }.map { boxes[$0] },
                                   color: colors[j], marker: centers[j])
            }
            try ScatterChart(title: "k-means anchors (\(anchorsNum))", xLabel: "box width (pixels)",
                             yLabel: "height", groups: groups).render().save(plot)
            print(String(format: "avg_ratio:%.2f", AnchorKMeans.averageIoU(boxes, centers)))
            let sorted = centers.sorted { $0.0 * $0.1 < $1.0 * $1.1 }
            try AnchorsFile.write(sorted, to: output)
            print("Anchors: \(AnchorsFile.format(sorted))")
            print("Wrote \(output) and \(plot).")
        }
    }
}
