import ArgumentParser
import Foundation
import YOLO

@main
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train YOLOv4 / YOLOv4-tiny with the parameters in train.swift-config.",
        discussion: "Edit train.swift-config (every key is explained there), then run train. The backbone is trained "
            + "frozen for Freeze_Epoch epochs (Freeze_batch_size), then everything until UnFreeze_Epoch "
            + "(Unfreeze_batch_size).\n\nWrites <save_dir>/loss_<date>/ (epoch_loss.txt, epoch_val_loss.txt, "
            + "epoch_loss.png, epoch_map.txt, epoch_map.png, scalars.json, TensorBoard events) and weights in "
            + "<save_dir> (or out_dir): ep###-loss#-val_loss#.pth every checkpoint_interval epochs (or iter_N.pth every "
            + "checkpoint_interval iterations with checkpoint_by_epoch = False), best_epoch_weights.pth, "
            + "last_epoch_weights.pth and resume_point.pth.\n\nEvery log_interval iterations a log line shows epoch and "
            + "iteration, lr, eta, time, data_time, memory, grad_norm and each loss term (the README explains each "
            + "field).\n\nCtrl-C saves and stops; `train --resume` continues exactly where the run stopped, from the newest "
            + "resume point (resume_point.pth or iter_N.pth), or `--resume FILE` from a given one.")

    @Option(help: "Parameter file.") var config = "train.swift-config"
    @Option(name: .customLong("work-dir"), help: ArgumentHelp("Folder of logs and weights; overrides save_dir.", valueName: "dir"))
    var workDir: String?
    @Option(help: "cpu, cuda or cuda:N; overrides Cuda (which picks cuda:0). CUDA_VISIBLE_DEVICES chooses the GPUs seen.")
    var device: String?
    @Option(name: .customLong("cfg-options"), parsing: .upToNextOption,
            help: "Overrides as key=value (e.g. --cfg-options UnFreeze_Epoch=100 'model_path=\"\"').")
    var cfgOptions: [String] = []
    @Option(name: .customLong("resume"), help: ArgumentHelp("Continue from a resume point; alone: the newest in the weights folder.",
                                                            valueName: "file"))
    var resumeFile: String?
    @Flag(name: .customLong("resume-latest"), help: .hidden) var resumeLatest = false
    @Flag(name: .customLong("allow-partial-weights"),
          help: "Train even when model_path / pretrained weights fill less than half of the backbone.")
    var allowPartialWeights = false
    @Option(name: .customLong("metrics-file"),
            help: ArgumentHelp("Append one JSON line per epoch ({\"epoch\": 3, \"val_loss\": 0.41, \"mAP\": 0.87}) to this file, "
                               + "flushed at once (tune follows its trials this way).", valueName: "file"))
    var metricsFile: String?
    @Option(name: .customLong("stop-after-epoch"),
            help: ArgumentHelp("End the run cleanly after this epoch (the schedule still runs to UnFreeze_Epoch); "
                               + "train --resume continues it.", valueName: "N"))
    var stopAfterEpoch: Int?

    /// `--resume` with no file (last argument, or followed by another option) means the latest.
    static func main() {
        setvbuf(stdout, nil, _IOLBF, 0)   // logs stream line by line even when redirected to a file
        var arguments = Array(CommandLine.arguments.dropFirst())
        if let i = arguments.firstIndex(of: "--resume"), i == arguments.count - 1 || arguments[i + 1].hasPrefix("--") {
            arguments[i] = "--resume-latest"
        }
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
        } catch {
            exit(withError: error)
        }
    }

    func run() throws {
        runReportingErrors {
            // Resuming with a given file needs no parameter file: the run's configuration is in the resume point.
            let fileMissing = resumeFile != nil && !FileManager.default.fileExists(atPath: config)
            var settings = fileMissing ? TrainConfig() : try TrainConfig.load(path: config, overrides: cfgOptions)
            if let workDir { settings.saveDir = workDir }
            var resume = resumeFile
            if resumeLatest {
                guard let newest = ResumePoint.newest(in: settings.weightsDir) else {
                    throw YOLOError("\(settings.weightsDir): no resume point yet (resume_point.pth is written after every epoch "
                                    + "and on Ctrl-C, iter_N.pth every checkpoint_interval iterations with checkpoint_by_epoch = False)")
                }
                resume = newest
            }
            if let resume {
                if let saved = try ResumePoint.configuration(in: resume) {
                    settings = try ResumedConfiguration.resolve(saved: saved, pointPath: resume,
                                                                file: fileMissing ? nil : try TrainConfig.load(path: config),
                                                                fileName: config, overrides: cfgOptions, workDir: workDir,
                                                                log: { print($0) })
                } else {
                    print("Note: \(resume) was written before resume points kept their configuration: continuing with "
                          + "\(config) and the options given now")
                }
            }
            if let stop = stopAfterEpoch, stop < 1 {
                throw YOLOError("--stop-after-epoch \(stop): give an epoch from 1 to UnFreeze_Epoch (\(settings.unfreezeEpoch))")
            }
            Interruption.install()
            let trainer = Trainer(config: settings)
            trainer.requestedDevice = device
            trainer.allowPartialBackbone = allowPartialWeights
            trainer.metricsFile = metricsFile
            trainer.stopAfterEpoch = stopAfterEpoch
            let outcome = try trainer.run(resumeFrom: resume)
            if outcome.interrupted { Foundation.exit(130) }
            guard outcome.isLeader else { return }
            if let map = outcome.lastMAP { print(String(format: "Final mAP@0.5 on the validation images: %.2f%%", map * 100)) }
            print("Logs: \(outcome.logFolder)  Weights: \(settings.weightsDir)/best_epoch_weights.pth, last_epoch_weights.pth")
        }
    }
}
