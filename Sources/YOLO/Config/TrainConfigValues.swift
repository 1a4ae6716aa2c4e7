import Foundation

/// Every key's effective value, in the parameter file's syntax: what a resume point carries so that
/// `--resume` continues the run with the configuration it was started with.
extension TrainConfig {
    public var values: [(key: String, value: ConfigValue)] {
        func s(_ v: String) -> ConfigValue { .string(v) }
        func list(_ v: [Int]) -> ConfigValue { .list(v.map { .int($0) }) }
        let pairs: [(String, ConfigValue)] = [
            ("model", s(model)), ("Cuda", .bool(cuda)), ("seed", .int(seed)), ("distributed", .bool(distributed)),
            ("sync_bn", .bool(syncBN)), ("dist_timeout", .double(distTimeout)), ("dp_replicas", .int(dpReplicas)), ("fp16", .bool(fp16)), ("amp_dtype", s(ampDtype)), ("save_half", .bool(saveHalf)), ("winograd", .bool(winograd)),
            ("classes_path", s(classesPath)), ("anchors_path", s(anchorsPath)),
            ("anchors_mask", .list(anchorsMask.map(list))), ("model_path", s(modelPath)), ("input_shape", list(inputShape)),
            ("pretrained", .bool(pretrained)), ("mosaic", .bool(mosaic)), ("mosaic_prob", .double(mosaicProb)), ("mixup", .bool(mixup)),
            ("mixup_prob", .double(mixupProb)), ("special_aug_ratio", .double(specialAugRatio)),
            ("label_smoothing", .double(labelSmoothing)), ("Init_Epoch", .int(initEpoch)), ("Freeze_Epoch", .int(freezeEpoch)),
            ("Freeze_batch_size", .int(freezeBatchSize)), ("UnFreeze_Epoch", .int(unfreezeEpoch)),
            ("Unfreeze_batch_size", .int(unfreezeBatchSize)), ("Freeze_Train", .bool(freezeTrain)), ("Init_lr", .double(initLR)),
            ("Min_lr", .double(minLR)), ("optimizer_type", s(optimizerType)), ("momentum", .double(momentum)),
            ("weight_decay", .double(weightDecay)), ("lr_decay_type", s(lrDecayType)), ("focal_loss", .bool(focalLoss)),
            ("focal_alpha", .double(focalAlpha)), ("focal_gamma", .double(focalGamma)), ("iou_type", s(iouType)),
            ("checkpoint_interval", .int(savePeriod)), ("checkpoint_by_epoch", .bool(checkpointByEpoch)), ("save_dir", s(saveDir)),
            ("out_dir", s(outDir)), ("max_keep_ckpts", .int(keepCheckpoints)), ("log_interval", .int(logInterval)), ("ema", .bool(ema)),
            ("ema_decay", .double(emaDecay)), ("ema_tau", .double(emaTau)), ("patience", .int(patience)),
            ("clip_grad_norm", .double(clipGradNorm)), ("eval_flag", .bool(evalFlag)), ("eval_period", .int(evalPeriod)),
            ("num_workers", .int(numWorkers)), ("train_annotation_path", s(trainAnnotationPath)),
            ("val_annotation_path", s(valAnnotationPath)),
        ]
        return pairs.map { (key: $0.0, value: $0.1) }
    }

    /// A parameter file with every key, which `TrainConfig.load(text:)` reads back to this configuration.
    public var parameterText: String {
        values.map { key, value in
            if case .string(let v) = value, v.contains("'") { return "\(key) = \"\(v)\"" }
            return "\(key) = \(value)"
        }.joined(separator: "\n") + "\n"
    }

    /// The keys whose values differ between two configurations, with both values.
    public func differences(from other: TrainConfig) -> [(key: String, mine: ConfigValue, theirs: ConfigValue)] {
        zip(values, other.values).compactMap { a, b in a.value == b.value ? nil : (a.key, a.value, b.value) }
    }
}
