import Foundation

/// Frozen, naive implementations of the neural-network kernels: the oracle every fast kernel
/// (oneDNN now, CUDA later) is checked against. Written for clarity, not speed.
enum Reference {
    struct Conv {
        var n, c, h, w, k, kh, kw, stride, pad, dilation, groups: Int
        var oh: Int { (h + 2 * pad - dilation * (kh - 1) - 1) / stride + 1 }
        var ow: Int { (w + 2 * pad - dilation * (kw - 1) - 1) / stride + 1 }
        var cg: Int { c / groups }
        var kg: Int { k / groups }

        /// Calls body(output index, input index, weight index) for every multiply-add.
        func forEachTap(_ body: (Int, Int, Int) -> Void) {
            for b in 0..<n { for o in 0..<k { for y in 0..<oh { for x in 0..<ow {
                let g = o / kg
                for ci in 0..<cg { for i in 0..<kh { for j in 0..<kw {
                    let iy = y * stride - pad + i * dilation, ix = x * stride - pad + j * dilation
                    guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                    let out = ((b * k + o) * oh + y) * ow + x
                    let inp = ((b * c + g * cg + ci) * h + iy) * w + ix
                    let wt = ((o * cg + ci) * kh + i) * kw + j
                    body(out, inp, wt)
                } } }
            } } } }
        }

        func forward(_ input: [Float], _ weight: [Float], _ bias: [Float]?) -> [Float] {
            var out = [Double](repeating: 0, count: n * k * oh * ow)
            forEachTap { o, i, wt in out[o] += Double(input[i]) * Double(weight[wt]) }
            if let bias {
                for idx in out.indices { out[idx] += Double(bias[(idx / (oh * ow)) % k]) }
            }
            return out.map { Float($0) }
        }

        func backwardData(_ gradOut: [Float], _ weight: [Float]) -> [Float] {
            var grad = [Double](repeating: 0, count: n * c * h * w)
            forEachTap { o, i, wt in grad[i] += Double(gradOut[o]) * Double(weight[wt]) }
            return grad.map { Float($0) }
        }

        func backwardWeights(_ input: [Float], _ gradOut: [Float]) -> (weight: [Float], bias: [Float]) {
            var grad = [Double](repeating: 0, count: k * cg * kh * kw)
            forEachTap { o, i, wt in grad[wt] += Double(gradOut[o]) * Double(input[i]) }
            var bias = [Double](repeating: 0, count: k)
            for (idx, g) in gradOut.enumerated() { bias[(idx / (oh * ow)) % k] += Double(g) }
            return (grad.map { Float($0) }, bias.map { Float($0) })
        }
    }

    /// Batch-norm training forward: output, batch mean and biased variance.
    static func batchNorm(_ x: [Float], n: Int, c: Int, hw: Int, scale: [Float], shift: [Float],
                          eps: Float) -> (out: [Float], mean: [Float], variance: [Float]) {
        var out = x, means = [Float](), vars = [Float]()
        for ch in 0..<c {
            var values: [Double] = []
            for b in 0..<n { for p in 0..<hw { values.append(Double(x[(b * c + ch) * hw + p])) } }
            let mean = values.reduce(0, +) / Double(values.count)
            let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)
            means.append(Float(mean)); vars.append(Float(variance))
            for b in 0..<n { for p in 0..<hw {
                let idx = (b * c + ch) * hw + p
                out[idx] = Float((Double(x[idx]) - mean) / (variance + Double(eps)).squareRoot()) * scale[ch] + shift[ch]
            } }
        }
        return (out, means, vars)
    }

    /// Max pooling with -inf padding; the gradient goes to the first maximum of each window.
    static func maxPool(_ x: [Float], n: Int, c: Int, h: Int, w: Int, k: Int, stride: Int, pad: Int,
                        gradOut: [Float]? = nil) -> (out: [Float], gradInput: [Float]) {
        let oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1
        var out = [Float](repeating: 0, count: n * c * oh * ow)
        var grad = [Float](repeating: 0, count: x.count)
        for plane in 0..<(n * c) { for y in 0..<oh { for xo in 0..<ow {
            var best = -Float.infinity, bestIndex = -1
            for i in 0..<k { for j in 0..<k {
                let iy = y * stride - pad + i, ix = xo * stride - pad + j
                guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                let idx = (plane * h + iy) * w + ix
                if x[idx] > best { best = x[idx]; bestIndex = idx }
            } }
            let o = (plane * oh + y) * ow + xo
            out[o] = best
            if let gradOut { grad[bestIndex] += gradOut[o] }
        } } }
        return (out, grad)
    }

    static func upsampleNearest(_ x: [Float], n: Int, c: Int, h: Int, w: Int, factor: Int) -> [Float] {
        var out: [Float] = []
        for plane in 0..<(n * c) { for y in 0..<(h * factor) { for xo in 0..<(w * factor) {
            out.append(x[(plane * h + y / factor) * w + xo / factor])
        } } }
        return out
    }
}
