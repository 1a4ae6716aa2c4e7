import CMPI
import Foundation

/// Messages between two ranks, beside the collectives: `tune` under mpirun, where rank 0 hands
/// trials to the other ranks and they send back what the trials report. Not guarded by the
/// watchdog: the caller polls `waitingMessage` and decides how long to wait.
extension MPICommunicator {
    public func send(_ data: Data, to destination: Int, tag: Int) throws {
        try data.withUnsafeBytes { bytes in
            try Self.check(cmpi_send(bytes.baseAddress, Int64(bytes.count), Int32(destination), Int32(tag)))
        }
    }

    /// The next message waiting for this rank, from any rank, without receiving it.
    public func waitingMessage() throws -> (source: Int, tag: Int, count: Int)? {
        var waiting: Int32 = 0, source: Int32 = 0, tag: Int32 = 0, count: Int64 = 0
        try Self.check(cmpi_probe(&waiting, &source, &tag, &count))
        return waiting != 0 ? (Int(source), Int(tag), Int(count)) : nil
    }

    public func receive(from source: Int, tag: Int, count: Int) throws -> Data {
        var data = Data(count: count)
        try data.withUnsafeMutableBytes { bytes in
            try Self.check(cmpi_receive(bytes.baseAddress, Int64(count), Int32(source), Int32(tag)))
        }
        return data
    }
}
