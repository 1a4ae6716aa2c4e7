import CKernels

/// A seeded random stream (xoshiro256**). Its state can be saved and restored, so a resumed
/// run draws the same numbers as an uninterrupted one. Not shared between threads: give each
/// worker its own, derived with `fork(stream:)`.
public final class RandomGenerator: RandomNumberGenerator, @unchecked Sendable {
    private var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    public init(seed: UInt64) {
        withState { ck_rng_seed($0, seed) }
    }

    public init(state: [UInt64]) throws {
        guard state.count == 4, state.contains(where: { $0 != 0 }) else {
            throw TensorError("random generator state must be 4 words, not all zero; found \(state.count) words")
        }
        words = (state[0], state[1], state[2], state[3])
    }

    public var state: [UInt64] { [words.0, words.1, words.2, words.3] }

    private func withState<R>(_ body: (UnsafeMutablePointer<UInt64>) -> R) -> R {
        withUnsafeMutableBytes(of: &words) { body($0.baseAddress!.assumingMemoryBound(to: UInt64.self)) }
    }

    public func next() -> UInt64 { withState { ck_rng_next($0) } }

    /// Uniform in [0, 1).
    public func nextFloat() -> Float { Float(next() >> 40) * 0x1.0p-24 }

    /// Uniform in [low, high).
    public func uniform(_ low: Float, _ high: Float) -> Float { low + (high - low) * nextFloat() }

    /// An independent stream for a worker, epoch or purpose, reproducible from this one's state.
    public func fork(stream: UInt64) -> RandomGenerator {
        let s = state
        var mixed = stream &* 0x9E37_79B9_7F4A_7C15
        for word in s { mixed = (mixed ^ word) &* 0xBF58_476D_1CE4_E5B9; mixed ^= mixed >> 31 }
        return RandomGenerator(seed: mixed)
    }

    public func uniform(count: Int, low: Float = 0, high: Float = 1) -> [Float] {
        var out = [Float](repeating: 0, count: count)
        withState { s in out.withUnsafeMutableBufferPointer { ck_rng_uniform(s, $0.baseAddress, Int64(count), low, high) } }
        return out
    }

    public func normal(count: Int, mean: Float = 0, std: Float = 1) -> [Float] {
        var out = [Float](repeating: 0, count: count)
        withState { s in out.withUnsafeMutableBufferPointer { ck_rng_normal(s, $0.baseAddress, Int64(count), mean, std) } }
        return out
    }
}
