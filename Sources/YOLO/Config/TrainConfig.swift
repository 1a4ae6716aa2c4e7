import Foundation

/// The training parameters (SPEC §2), read from `train.swift-config` and `--cfg-options`.
/// Every key is checked for type and range before any work starts.
public struct TrainConfig {
    public var model = "yolov4-tiny"
    public var cuda = false
    public var seed = 11
    public var distributed = false
    public var syncBN = false
    /// Seconds a DDP rank waits in a collective for the others before the job is ended.
    public var distTimeout = 300.0
    /// DP: replicas of the model in one process (0: every visible GPU with Cuda = True).
    public var dpReplicas = 0
    public var fp16 = false
    /// The 16-bit type of fp16 = True: auto, float16 or bfloat16.
    public var ampDtype = "auto"
    /// Also write half-precision copies of best/last_epoch_weights.
    public var saveHalf = false
    /// CPU: float32 3x3 stride-1 convolutions (training and the validation's inference) through
    /// oneDNN's Winograd kernels where the CPU has them (AVX-512); false: the direct method everywhere.
    public var winograd = true
    public var classesPath = "model_data/voc_classes.txt"
    public var anchorsPath = "model_data/yolo_anchors.txt"
    public var anchorsMask: [[Int]] = [[3, 4, 5], [1, 2, 3]]
    public var modelPath = ""
    public var inputShape = [416, 416]
    public var pretrained = false
    public var mosaic = false
    public var mosaicProb = 0.5
    public var mixup = false
    public var mixupProb = 0.5
    public var specialAugRatio = 0.7
    public var labelSmoothing = 0.0
    public var initEpoch = 0
    public var freezeEpoch = 50
    public var freezeBatchSize = 32
    public var unfreezeEpoch = 300
    public var unfreezeBatchSize = 16
    public var freezeTrain = false
    public var initLR = 1e-2
    public var minLR = 1e-4
    public var optimizerType = "sgd"
    public var momentum = 0.937
    public var weightDecay = 5e-4
    public var lrDecayType = "cos"
    public var focalLoss = false
    public var focalAlpha = 0.25
    public var focalGamma = 2.0
    public var iouType = "ciou"
    /// checkpoint_interval (alias save_period): epochs, or iterations when checkpointByEpoch is false.
    public var savePeriod = 10
    public var checkpointByEpoch = true
    public var saveDir = "logs"
    /// Where the weights go when not in save_dir ('' = save_dir).
    public var outDir = ""
    /// max_keep_ckpts (alias keep_checkpoints).
    public var keepCheckpoints = 0
    public var logInterval = 10
    public var ema = false
    public var emaDecay = 0.9999
    public var emaTau = 2000.0
    public var patience = 0
    public var clipGradNorm = 0.0
    public var evalFlag = true
    public var evalPeriod = 10
    public var numWorkers = 4
    public var trainAnnotationPath = "2007_train.txt"
    public var valAnnotationPath = "2007_val.txt"

    public init() {}

    /// The folder of the weights: out_dir, or save_dir when out_dir is ''.
    public var weightsDir: String { outDir.isEmpty ? saveDir : outDir }

    /// Every key with its kind and help line, in the order the configuration table prints them.
    static let keys: [(name: String, kind: Kind, help: String)] = [
        ("model", .choice(["yolov4", "yolov4-tiny"]), "the detector"),
        ("Cuda", .bool, "train on the GPU"),
        ("seed", .int, "seed of every random choice"),
        ("distributed", .bool, "DDP over several GPUs"),
        ("sync_bn", .bool, "synchronised BatchNorm (DDP only)"),
        ("dp_replicas", .int, "DP (distributed = False): model replicas in one process, one per GPU; 0 = every visible GPU with Cuda = True"),
        ("dist_timeout", .double, "DDP: seconds a rank waits for the others before the whole job is ended (at an epoch end, where rank 0 evaluates and saves, at least an hour)"),
        ("fp16", .bool, "mixed precision: 16-bit convolutions, float32 master weights"),
        ("amp_dtype", .choice(["auto", "float16", "bfloat16"]),
         "16-bit type of fp16 = True: auto (float16 on CUDA, bfloat16 on CPUs with avx512_bf16/amx), or forced"),
        ("save_half", .bool, "also write float16 copies of best/last_epoch_weights (*_fp16.pth)"),
        ("winograd", .bool, "CPU: float32 3x3 stride-1 convolutions through Winograd kernels where the CPU has them (AVX-512): 1.4-1.6x faster YOLOv4-tiny steps than the direct method"),
        ("classes_path", .string, "classes file"),
        ("anchors_path", .string, "anchors file"),
        ("anchors_mask", .nestedIntList, "anchors of each output, stride 32 first"),
        ("model_path", .string, "weights to start from ('' = from scratch)"),
        ("input_shape", .intList, "[height, width], multiples of 32"),
        ("pretrained", .bool, "load backbone-only weights (ignored when model_path is set)"),
        ("mosaic", .bool, "Mosaic augmentation"),
        ("mosaic_prob", .double, "probability of Mosaic per sample"),
        ("mixup", .bool, "MixUp after Mosaic"),
        ("mixup_prob", .double, "probability of MixUp"),
        ("special_aug_ratio", .double, "Mosaic/MixUp only for this fraction of the epochs"),
        ("label_smoothing", .double, "label smoothing of the class targets"),
        ("Init_Epoch", .int, "epoch to start at (continue a run)"),
        ("Freeze_Epoch", .int, "epochs with the backbone frozen"),
        ("Freeze_batch_size", .int, "batch size while frozen"),
        ("UnFreeze_Epoch", .int, "total epochs"),
        ("Unfreeze_batch_size", .int, "batch size after unfreezing"),
        ("Freeze_Train", .bool, "train frozen first"),
        ("Init_lr", .double, "largest learning rate (fitted to the batch size)"),
        ("Min_lr", .double, "smallest learning rate"),
        ("optimizer_type", .choice(["sgd", "adam", "adamw"]), "optimizer"),
        ("momentum", .double, "SGD momentum / Adam beta1"),
        ("weight_decay", .double, "weight decay of conv weights"),
        ("lr_decay_type", .choice(["cos", "step"]), "learning-rate schedule"),
        ("focal_loss", .bool, "focal objectness loss"),
        ("focal_alpha", .double, "focal alpha"),
        ("focal_gamma", .double, "focal gamma"),
        ("iou_type", .choice(["ciou"]), "box loss"),
        ("save_period", .int, "save ep*.pth every this many epochs (alias of checkpoint_interval)"),
        ("checkpoint_interval", .int, "save a checkpoint every this many epochs (or iterations)"),
        ("checkpoint_by_epoch", .bool, "checkpoint_interval counts epochs (True) or iterations (False: iter_N.pth)"),
        ("save_dir", .string, "folder of weights and logs"),
        ("out_dir", .string, "folder of the weights when not save_dir ('' = save_dir)"),
        ("keep_checkpoints", .int, "keep only the newest N ep*.pth / iter_*.pth (alias of max_keep_ckpts)"),
        ("max_keep_ckpts", .int, "keep only the newest N ep*.pth / iter_*.pth (0 = all)"),
        ("log_interval", .int, "print a log line every this many iterations"),
        ("ema", .bool, "keep an exponential moving average of the weights for evaluation and saving"),
        ("ema_decay", .double, "EMA decay, ramped up as decay * (1 - exp(-updates / ema_tau))"),
        ("ema_tau", .double, "EMA ramp length in updates"),
        ("patience", .int, "stop after this many epochs without a better validation mAP (or loss); 0 = off"),
        ("clip_grad_norm", .double, "clip the gradient norm to this value; 0 = off"),
        ("eval_flag", .bool, "evaluate mAP during training"),
        ("eval_period", .int, "evaluate every this many epochs"),
        ("num_workers", .int, "loader threads"),
        ("train_annotation_path", .string, "training list"),
        ("val_annotation_path", .string, "validation list"),
    ]

    enum Kind: Equatable { case bool, int, double, string, intList, nestedIntList, choice([String]) }

    /// Reads a parameter file, then applies `key=value` overrides (command line) in order.
    public static func load(path: String, overrides: [String] = []) throws -> TrainConfig {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            throw YOLOError("\(path): is a folder, not a parameter file")
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw YOLOError("\(path): cannot read the parameter file")
        }
        return try load(text: text, source: path, overrides: overrides)
    }

    /// Parses parameter-file text (`source` names it in messages), then applies the overrides.
    public static func load(text: String, source path: String, overrides: [String] = []) throws -> TrainConfig {
        var config = TrainConfig()
        let parsed = try ConfigParser(file: path).parse(text)
        var known: [String: ConfigValue] = [:]
        for (key, value, line) in parsed {
            try config.set(key, value, location: "\(path):\(line)")
            known[key] = value
        }
        for override in overrides {
            let entries = try ConfigParser(file: "--cfg-options '\(override)'", numberLines: false).parse(override, known: known)
            for (key, value, _) in entries {
                try config.set(key, value, location: "--cfg-options '\(override)'")
                known[key] = value
            }
        }
        try config.validate(source: path)
        return config
    }

    mutating func set(_ key: String, _ value: ConfigValue, location: String) throws {
        guard let spec = Self.keys.first(where: { $0.name == key }) else {
            let suggestion = Self.nearestKey(to: key).map { "; did you mean '\($0)'?" } ?? ""
            throw YOLOError("\(location): unknown key '\(key)'\(suggestion)")
        }
        func bad(_ expected: String) -> YOLOError {
            YOLOError("\(location): \(key) = \(value) is \(value.typeName), expected \(expected)")
        }
        func bool() throws -> Bool { if case .bool(let b) = value { return b }; throw bad("True or False") }
        func int() throws -> Int {
            if case .int(let v) = value { return v }
            if case .double(let v) = value, v == v.rounded() { return Int(v) }
            throw bad("an integer")
        }
        func double() throws -> Double {
            guard let v = value.number else { throw bad("a number") }
            guard v.isFinite else { throw YOLOError("\(location): \(key) = \(v) is not a finite number") }
            return v
        }
        func string() throws -> String { if case .string(let s) = value { return s }; throw bad("a string in quotes") }
        func intList() throws -> [Int] {
            guard case .list(let items) = value else { throw bad("a list of integers such as [416, 416]") }
            return try items.map { if case .int(let v) = $0 { return v }; throw bad("a list of integers such as [416, 416]") }
        }
        switch spec.kind {
        case .choice(let options):
            let s = try string()
            guard options.contains(s.lowercased()) else {
                throw YOLOError("\(location): \(key) = '\(s)' is not one of \(options.map { "'\($0)'" }.joined(separator: ", "))")
            }
        default: break
        }
        switch key {
        case "model": model = try string().lowercased()
        case "Cuda": cuda = try bool()
        case "seed": seed = try int()
        case "distributed": distributed = try bool()
        case "sync_bn": syncBN = try bool()
        case "dist_timeout": distTimeout = try double()
        case "dp_replicas": dpReplicas = try int()
        case "fp16": fp16 = try bool()
        case "amp_dtype": ampDtype = try string().lowercased()
        case "save_half": saveHalf = try bool()
        case "winograd": winograd = try bool()
        case "classes_path": classesPath = try string()
        case "anchors_path": anchorsPath = try string()
        case "anchors_mask":
            guard case .list(let rows) = value else { throw bad("a list of lists such as [[3, 4, 5], [1, 2, 3]]") }
            anchorsMask = try rows.map { row in
                guard case .list(let items) = row else { throw bad("a list of lists such as [[3, 4, 5], [1, 2, 3]]") }
                return try items.map { if case .int(let v) = $0 { return v }; throw bad("a list of lists of integers") }
            }
        case "model_path": modelPath = try string()
        case "input_shape": inputShape = try intList()
        case "pretrained": pretrained = try bool()
        case "mosaic": mosaic = try bool()
        case "mosaic_prob": mosaicProb = try double()
        case "mixup": mixup = try bool()
        case "mixup_prob": mixupProb = try double()
        case "special_aug_ratio": specialAugRatio = try double()
        case "label_smoothing": labelSmoothing = try double()
        case "Init_Epoch": initEpoch = try int()
        case "Freeze_Epoch": freezeEpoch = try int()
        case "Freeze_batch_size": freezeBatchSize = try int()
        case "UnFreeze_Epoch": unfreezeEpoch = try int()
        case "Unfreeze_batch_size": unfreezeBatchSize = try int()
        case "Freeze_Train": freezeTrain = try bool()
        case "Init_lr": initLR = try double()
        case "Min_lr": minLR = try double()
        case "optimizer_type": optimizerType = try string().lowercased()
        case "momentum": momentum = try double()
        case "weight_decay": weightDecay = try double()
        case "lr_decay_type": lrDecayType = try string().lowercased()
        case "focal_loss": focalLoss = try bool()
        case "focal_alpha": focalAlpha = try double()
        case "focal_gamma": focalGamma = try double()
        case "iou_type": iouType = try string().lowercased()
        case "save_period", "checkpoint_interval": savePeriod = try int()
        case "checkpoint_by_epoch": checkpointByEpoch = try bool()
        case "save_dir": saveDir = try string()
        case "out_dir": outDir = try string()
        case "keep_checkpoints", "max_keep_ckpts": keepCheckpoints = try int()
        case "log_interval": logInterval = try int()
        case "ema": ema = try bool()
        case "ema_decay": emaDecay = try double()
        case "ema_tau": emaTau = try double()
        case "patience": patience = try int()
        case "clip_grad_norm": clipGradNorm = try double()
        case "eval_flag": evalFlag = try bool()
        case "eval_period": evalPeriod = try int()
        case "num_workers": numWorkers = try int()
        case "train_annotation_path": trainAnnotationPath = try string()
        case "val_annotation_path": valAnnotationPath = try string()
        default: break
        }
    }

    /// Whether `name` is a key of the parameter file.
    public static func isKey(_ name: String) -> Bool { keys.contains { $0.name == name } }

    /// The closest known key by edit distance (case-insensitive), when close enough to be a typo.
    static func nearestKey(to key: String) -> String? {
        func distance(_ a: String, _ b: String) -> Int {
            let a = Array(a.lowercased()), b = Array(b.lowercased())
            var row = Array(0...b.count)
            for i in 1...max(a.count, 1) where !a.isEmpty {
                var previous = row[0]
                row[0] = i
                for j in 1...max(b.count, 1) where !b.isEmpty {
                    let current = row[j]
                    row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                    previous = current
                }
            }
            return row[b.count]
        }
        let best = keys.map { ($0.name, distance(key, $0.name)) }.min { $0.1 < $1.1 }
        guard let (name, d) = best, d <= max(2, key.count / 3) else { return nil }
        return name
    }

    /// Refuses impossible settings, naming the key and the value.
    public func validate(source: String = "train.swift-config") throws {
        func fail(_ text: String) -> YOLOError { YOLOError("\(source): \(text)") }
        guard inputShape.count == 2, inputShape.allSatisfy({ $0 > 0 && $0 % 32 == 0 }) else {
            throw fail("input_shape = \(inputShape): both sides must be positive multiples of 32 (e.g. [416, 416])")
        }
        for (name, value) in [("Freeze_batch_size", freezeBatchSize), ("Unfreeze_batch_size", unfreezeBatchSize)] where value < 2 {
            throw fail("\(name) = \(value): BatchNorm needs a batch size of at least 2")
        }
        guard unfreezeEpoch > 0 else { throw fail("UnFreeze_Epoch = \(unfreezeEpoch): must be positive") }
        guard dpReplicas >= 0 else { throw fail("dp_replicas = \(dpReplicas): expected 0 (every visible GPU) or a number of replicas") }
        guard distTimeout > 0 else { throw fail("dist_timeout = \(distTimeout): expected the seconds a rank may wait for the others (more than 0)") }
        guard freezeEpoch >= 0, freezeEpoch <= unfreezeEpoch else {
            throw fail("Freeze_Epoch = \(freezeEpoch) must be between 0 and UnFreeze_Epoch = \(unfreezeEpoch)")
        }
        guard initEpoch >= 0, initEpoch < unfreezeEpoch else {
            throw fail("Init_Epoch = \(initEpoch) must be at least 0 and below UnFreeze_Epoch = \(unfreezeEpoch)")
        }
        guard initLR > 0, minLR > 0, minLR <= initLR else {
            throw fail("learning rates must be positive with Min_lr <= Init_lr (found Init_lr = \(initLR), Min_lr = \(minLR))")
        }
        for (name, p) in [("mosaic_prob", mosaicProb), ("mixup_prob", mixupProb), ("special_aug_ratio", specialAugRatio),
                          ("label_smoothing", labelSmoothing), ("momentum", momentum)] where !(0...1).contains(p) {
            throw fail("\(name) = \(p) must be between 0 and 1")
        }
        guard savePeriod >= 1 else {
            throw fail("checkpoint_interval (save_period) = \(savePeriod): must be at least 1 "
                       + (checkpointByEpoch ? "epoch" : "iteration"))
        }
        guard evalPeriod >= 1 else { throw fail("eval_period = \(evalPeriod): must be at least 1") }
        guard logInterval >= 1 else { throw fail("log_interval = \(logInterval): must be at least 1 iteration") }
        guard keepCheckpoints >= 0 else {
            throw fail("max_keep_ckpts (keep_checkpoints) = \(keepCheckpoints): must be 0 (keep all) or more")
        }
        guard numWorkers >= 0, weightDecay >= 0 else { throw fail("num_workers and weight_decay must not be negative") }
        guard emaDecay > 0, emaDecay < 1 else { throw fail("ema_decay = \(emaDecay): must be between 0 and 1, both excluded") }
        guard emaTau > 0 else { throw fail("ema_tau = \(emaTau): must be positive (updates of the EMA ramp)") }
        guard patience >= 0 else { throw fail("patience = \(patience): must be 0 (off) or a number of epochs") }
        guard clipGradNorm >= 0, clipGradNorm.isFinite else {
            throw fail("clip_grad_norm = \(clipGradNorm): must be 0 (off) or a positive norm such as 10")
        }
        let expectedOutputs = model == "yolov4" ? 3 : 2
        guard anchorsMask.count == expectedOutputs else {
            throw fail("anchors_mask has \(anchorsMask.count) rows, but \(model) has \(expectedOutputs) outputs "
                       + "(\(model == "yolov4" ? "[[6, 7, 8], [3, 4, 5], [0, 1, 2]]" : "[[3, 4, 5], [1, 2, 3]]"))")
        }
    }

    /// The configuration table printed at the start of training.
    public var table: [(String, String)] {
        [("model", model), ("Cuda", "\(cuda)"), ("seed", "\(seed)"), ("fp16", fp16 ? "True (amp_dtype \(ampDtype))" : "False"),
         ("save_half", "\(saveHalf)"), ("winograd", "\(winograd)"), ("classes_path", classesPath), ("anchors_path", anchorsPath),
         ("anchors_mask", "\(anchorsMask)"), ("model_path", modelPath), ("input_shape", "\(inputShape)"),
         ("pretrained", "\(pretrained)"), ("mosaic", "\(mosaic)"), ("mosaic_prob", "\(mosaicProb)"), ("mixup", "\(mixup)"),
         ("mixup_prob", "\(mixupProb)"), ("special_aug_ratio", "\(specialAugRatio)"), ("label_smoothing", "\(labelSmoothing)"),
         ("Init_Epoch", "\(initEpoch)"), ("Freeze_Epoch", "\(freezeEpoch)"), ("UnFreeze_Epoch", "\(unfreezeEpoch)"),
         ("Freeze_batch_size", "\(freezeBatchSize)"), ("Unfreeze_batch_size", "\(unfreezeBatchSize)"),
         ("Freeze_Train", "\(freezeTrain)"), ("Init_lr", "\(initLR)"), ("Min_lr", "\(minLR)"), ("optimizer_type", optimizerType),
         ("momentum", "\(momentum)"), ("weight_decay", "\(weightDecay)"), ("lr_decay_type", lrDecayType),
         ("focal_loss", "\(focalLoss)"), ("checkpoint_interval", "\(savePeriod)"),
         ("checkpoint_by_epoch", "\(checkpointByEpoch)"), ("max_keep_ckpts", "\(keepCheckpoints)"), ("save_dir", saveDir),
         ("out_dir", weightsDir), ("log_interval", "\(logInterval)"), ("ema", ema ? "True (decay \(emaDecay), tau \(emaTau))" : "False"),
         ("patience", "\(patience)"), ("clip_grad_norm", "\(clipGradNorm)"), ("eval_flag", "\(evalFlag)"),
         ("eval_period", "\(evalPeriod)"), ("num_workers", "\(numWorkers)")]
    }
}
