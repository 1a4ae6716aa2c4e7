import TensorCore

/// The convolutions of YOLOv4-tiny in forward order, named as in its state dict.
enum YOLOv4TinyConvs {
    struct Layer {
        let name: String
        let parameters: Conv2dParameters
    }

    static func layers(batch: Int, size: Int, classes: Int) -> [Layer] {
        let head = 3 * (5 + classes)
        func conv(_ name: String, _ cin: Int, _ cout: Int, _ k: Int, _ stride: Int, _ at: Int) -> Layer {
            Layer(name: name, parameters: Conv2dParameters(
                batch: batch, inChannels: cin, height: at, width: at, outChannels: cout, kernelHeight: k, kernelWidth: k,
                strideH: stride, strideW: stride, padH: k / 2, padW: k / 2))
        }
        let s2 = size / 2, s4 = size / 4, s8 = size / 8, s16 = size / 16, s32 = size / 32
        return [
            conv("conv1", 3, 32, 3, 2, size), conv("conv2", 32, 64, 3, 2, s2),
            conv("rb1.conv1", 64, 64, 3, 1, s4), conv("rb1.conv2", 32, 32, 3, 1, s4), conv("rb1.conv3", 32, 32, 3, 1, s4),
            conv("rb1.conv4", 64, 64, 1, 1, s4),
            conv("rb2.conv1", 128, 128, 3, 1, s8), conv("rb2.conv2", 64, 64, 3, 1, s8), conv("rb2.conv3", 64, 64, 3, 1, s8),
            conv("rb2.conv4", 128, 128, 1, 1, s8),
            conv("rb3.conv1", 256, 256, 3, 1, s16), conv("rb3.conv2", 128, 128, 3, 1, s16),
            conv("rb3.conv3", 128, 128, 3, 1, s16), conv("rb3.conv4", 256, 256, 1, 1, s16),
            conv("conv3", 512, 512, 3, 1, s32), conv("conv_for_P5", 512, 256, 1, 1, s32),
            conv("headP5.0", 256, 512, 3, 1, s32), conv("headP5.1", 512, head, 1, 1, s32),
            conv("upsample.conv", 256, 128, 1, 1, s32),
            conv("headP4.0", 384, 256, 3, 1, s16), conv("headP4.1", 256, head, 1, 1, s16),
        ]
    }
}
