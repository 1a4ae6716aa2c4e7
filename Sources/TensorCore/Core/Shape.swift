/// Shape arithmetic shared by the operations: element counts, contiguous strides, axis
/// normalisation and NumPy/PyTorch broadcasting.
enum Shape {
    static func count(_ shape: [Int]) -> Int { shape.reduce(1, *) }

    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = running
            running *= max(shape[axis], 1)
        }
        return strides
    }

    /// Accepts negative axes (Python style) and checks the range.
    static func normalize(axis: Int, rank: Int, _ op: String) throws -> Int {
        let resolved = axis < 0 ? axis + rank : axis
        guard resolved >= 0 && resolved < max(rank, 1) else {
            throw TensorError("\(op): axis \(axis) is out of range for a tensor of rank \(rank)")
        }
        return resolved
    }

    static func broadcast(_ a: [Int], _ b: [Int], _ op: String) throws -> [Int] {
        let rank = max(a.count, b.count)
        var result = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            if da == db || db == 1 {
                result[i] = da
            } else if da == 1 {
                result[i] = db
            } else {
                throw TensorError("\(op): shapes \(describe(a)) and \(describe(b)) cannot be broadcast "
                                  + "(dimension \(i) of the result would be \(da) and \(db))")
            }
        }
        return result
    }
}
