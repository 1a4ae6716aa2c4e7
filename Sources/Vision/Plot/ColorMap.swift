/// The jet colour map (dark blue at 0, through cyan, yellow, to dark red at 1), as matplotlib
/// draws heat maps: each channel is a clipped triangle over the value.
public func jetColour(_ value: Double) -> RGB {
    let v = min(max(value, 0), 1)
    func channel(_ centre: Double) -> UInt8 { UInt8((min(max(1.5 - abs(4 * v - centre), 0), 1) * 255).rounded()) }
    return RGB(channel(3), channel(2), channel(1))
}
