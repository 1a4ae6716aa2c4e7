import Foundation
import TensorCore
import Vision

extension DetectionRunner {
    /// The highest objectness (after the sigmoid) over every head and anchor, at each pixel of the
    /// image, in 0...1 (row-major, width x height of the image). Each head's grid is sampled
    /// bilinearly at the point of the network input that the pixel maps to, so the letterbox's
    /// padding is left out rather than stretched over the image.
    public func objectness(_ image: Image) throws -> [Float] {
        let wasTraining = model.isTraining
        model.eval()
        defer { model.train(wasTraining) }
        let outputs = try withNoGrad { try model.outputs(inputTensor([image]).to(device: device)) }
        let (inW, inH) = (Double(decoder.inputWidth), Double(decoder.inputHeight))
        // Pixel centre -> network input coordinate, as the input was made.
        var scaleX = inW / Double(image.width), scaleY = inH / Double(image.height), offsetX = 0.0, offsetY = 0.0
        if settings.letterbox {
            let placement = LetterboxPlacement(imageWidth: image.width, imageHeight: image.height,
                                               width: decoder.inputWidth, height: decoder.inputHeight)
            scaleX = Double(placement.resizedWidth) / Double(image.width)
            scaleY = Double(placement.resizedHeight) / Double(image.height)
            (offsetX, offsetY) = (Double(placement.offsetX), Double(placement.offsetY))
        }
        var map = [Float](repeating: 0, count: image.width * image.height)
        let attributes = 5 + decoder.numClasses
        for (l, output) in outputs.enumerated() {
            let (gh, gw) = (output.shape[2], output.shape[3])
            let values = try output.sigmoid().to(device: .cpu).contiguous().toArray()
            var grid = [Float](repeating: 0, count: gh * gw)
            for k in 0..<decoder.anchorsMask[l].count {
                let base = (k * attributes + 4) * gh * gw
                for cell in 0..<(gh * gw) { grid[cell] = max(grid[cell], values[base + cell]) }
            }
            map.withUnsafeMutableBufferPointer { out in
                for y in 0..<image.height {
                    let gy = ((Double(y) + 0.5) * scaleY + offsetY) / inH * Double(gh) - 0.5
                    let y0 = min(max(Int(floor(gy)), 0), gh - 1), y1 = min(y0 + 1, gh - 1)
                    let fy = Float(min(max(gy - Double(y0), 0), 1))
                    for x in 0..<image.width {
                        let gx = ((Double(x) + 0.5) * scaleX + offsetX) / inW * Double(gw) - 0.5
                        let x0 = min(max(Int(floor(gx)), 0), gw - 1), x1 = min(x0 + 1, gw - 1)
                        let fx = Float(min(max(gx - Double(x0), 0), 1))
                        let top = grid[y0 * gw + x0] * (1 - fx) + grid[y0 * gw + x1] * fx
                        let bottom = grid[y1 * gw + x0] * (1 - fx) + grid[y1 * gw + x1] * fx
                        let v = top * (1 - fy) + bottom * fy
                        if v > out[y * image.width + x] { out[y * image.width + x] = v }
                    }
                }
            }
        }
        return map
    }

    /// The image with its objectness laid over it in the jet colours (blue 0 to red 1), half and half,
    /// as the reference's heatmap mode draws it.
    public func heatmap(_ image: Image) throws -> Image {
        let map = try objectness(image)
        var colours = [UInt8](repeating: 0, count: map.count * 3)
        for (i, v) in map.enumerated() {
            let c = jetColour(Double(v))
            colours[3 * i] = c.r; colours[3 * i + 1] = c.g; colours[3 * i + 2] = c.b
        }
        return try image.blended(with: Image(width: image.width, height: image.height, pixels: colours), weight: 0.5)
    }
}
