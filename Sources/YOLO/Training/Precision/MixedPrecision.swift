import Foundation
import TensorCore

/// What `fp16 = True` means on this device (Ultralytics' check_amp idea, first half): the 16-bit
/// type the convolutions compute in, whether the loss is scaled, and the line that says so.
public struct MixedPrecision: Equatable {
    /// nil: float32 training.
    public var type: DType?
    public var scalesLoss: Bool
    public var message: String?

    public static let float32 = MixedPrecision(type: nil, scalesLoss: false, message: nil)

    /// `ampDtype` is 'auto', 'float16' or 'bfloat16' (the config has checked it). `nativeTypes` is
    /// what the device computes convolutions in natively (Autocast.nativeTypes).
    public static func choose(fp16: Bool, ampDtype: String, device: Device, nativeTypes: [DType]) -> MixedPrecision {
        guard fp16 else {
            return ampDtype == "auto" ? .float32
                : MixedPrecision(type: nil, scalesLoss: false, message: "amp_dtype = '\(ampDtype)' is used only with fp16 = True; training in float32")
        }
        let onGPU: Bool
        if case .cuda = device { onGPU = true } else { onGPU = false }
        let type: DType
        switch ampDtype {
        case "float16": type = .float16
        case "bfloat16": type = .bfloat16
        default:
            if onGPU {
                type = .float16
            } else if nativeTypes.contains(.bfloat16) {
                type = .bfloat16
            } else {
                return MixedPrecision(type: nil, scalesLoss: false, message:
                    "Warning: fp16 = True, but this CPU has no 16-bit arithmetic units (neither avx512_bf16 nor amx_bf16); "
                    + "16-bit convolutions would be emulated and slower here, so this run trains in float32 "
                    + "(amp_dtype = 'bfloat16' forces bfloat16 numerics anyway)")
            }
        }
        let name = type == .float16 ? "float16" : "bfloat16"
        let native = nativeTypes.contains(type)
        var text = "Mixed precision: \(name) convolutions on \(device) with float32 accumulation; float32 master weights, batch "
            + "norm, loss and optimizer; " + (type == .float16 ? "loss scaling (GradScaler, initial scale 65536)"
                                                              : "no loss scaling (bfloat16 has float32's range)")
        if !native {
            text += ". \(name) is not native on \(device): its rounding is emulated at float32 speed (numerics only, no speed-up)"
        }
        return MixedPrecision(type: type, scalesLoss: type == .float16, message: text)
    }

    /// The step extensions that train this way, in the order they apply.
    public func stepExtensions() -> [StepExtension] {
        guard let type else { return [] }
        return [AutocastExtension(type: type)] + (scalesLoss ? [GradScaler()] : [])
    }
}
