import CSQLite
import Foundation

/// The study's durable record (SQLite, `study.db` in the study folder): its settings, every trial's
/// values, state, error and note, and every epoch report in the order they arrived. Each write is
/// its own transaction, so a study killed at any moment keeps everything reported before.
public final class StudyDatabase {
    public struct Failure: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    public let path: String
    private var db: OpaquePointer?

    public init(path: String) throws {
        self.path = path
        guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nil) == SQLITE_OK else {
            let reason = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(db)
            throw Failure(message: "\(path): cannot open the study database: \(reason)")
        }
        sqlite3_busy_timeout(db, 5000)
        try execute("""
            PRAGMA synchronous = FULL;
            CREATE TABLE IF NOT EXISTS study (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS trials (number INTEGER PRIMARY KEY, params TEXT NOT NULL, state TEXT NOT NULL,
                epoch INTEGER NOT NULL DEFAULT 0, value REAL, error TEXT, note TEXT, started REAL, finished REAL);
            CREATE TABLE IF NOT EXISTS reports (seq INTEGER PRIMARY KEY AUTOINCREMENT, trial INTEGER NOT NULL,
                epoch INTEGER NOT NULL, value REAL, val_loss REAL, map REAL);
            """)
    }

    deinit { sqlite3_close(db) }

    // MARK: Settings

    public func setting(_ key: String) throws -> String? {
        try query("SELECT value FROM study WHERE key = ?", [.text(key)]).first?.first?.text
    }

    public func setSetting(_ key: String, _ value: String) throws {
        try run("INSERT INTO study (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [.text(key), .text(value)])
    }

    // MARK: Trials

    public func insert(_ trial: TrialRecord, order: [String]) throws {
        try run("INSERT INTO trials (number, params, state, epoch, value, error, note, started, finished) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [.integer(trial.number), .text(trial.valueLines(order: order).joined(separator: "\n")), .text(trial.state.rawValue),
                 .integer(trial.epoch), .real(trial.value), .text(trial.error), .text(trial.note), .real(trial.started), .real(trial.finished)])
    }

    /// Writes the trial's row again (its reports are written one by one with `addReport`).
    public func update(_ trial: TrialRecord, order: [String]) throws {
        try run("UPDATE trials SET params = ?, state = ?, epoch = ?, value = ?, error = ?, note = ?, started = ?, finished = ? WHERE number = ?",
                [.text(trial.valueLines(order: order).joined(separator: "\n")), .text(trial.state.rawValue), .integer(trial.epoch),
                 .real(trial.value), .text(trial.error), .text(trial.note), .real(trial.started), .real(trial.finished),
                 .integer(trial.number)])
    }

    public func addReport(trial: Int, _ report: TrialReport) throws {
        try run("INSERT INTO reports (trial, epoch, value, val_loss, map) VALUES (?, ?, ?, ?, ?)",
                [.integer(trial), .integer(report.epoch), .real(report.value), .real(report.valLoss), .real(report.map)])
    }

    /// Forgets a trial's reports after `epoch` (a trial trained again from there).
    public func dropReports(trial: Int, after epoch: Int) throws {
        try run("DELETE FROM reports WHERE trial = ? AND epoch > ?", [.integer(trial), .integer(epoch)])
    }

    /// Every trial, by number, with its reports in the order they arrived.
    public func trials() throws -> [TrialRecord] {
        var reports: [Int: [TrialReport]] = [:]
        for row in try query("SELECT trial, epoch, value, val_loss, map FROM reports ORDER BY seq", []) {
            reports[row[0].int!, default: []].append(TrialReport(epoch: row[1].int!, value: row[2].real ?? .nan,
                                                                 valLoss: row[3].real, map: row[4].real))
        }
        return try query("SELECT number, params, state, epoch, value, error, note, started, finished FROM trials ORDER BY number", []).map { row in
            let number = row[0].int!
            guard let values = TrialRecord.values(fromLines: row[1].text ?? ""), let state = TrialState(rawValue: row[2].text ?? "") else {
                throw Failure(message: "\(path): trial \(number) cannot be read back (params '\(row[1].text ?? "")', state '\(row[2].text ?? "")')")
            }
            var trial = TrialRecord(number: number, values: values, state: state)
            trial.epoch = row[3].int ?? 0
            trial.value = row[4].real
            trial.error = row[5].text
            trial.note = row[6].text
            trial.started = row[7].real
            trial.finished = row[8].real
            trial.reports = reports[number] ?? []
            return trial
        }
    }

    /// Every report of the study in arrival order (to replay into a scheduler on resume).
    public func reportsInOrder() throws -> [(trial: Int, report: TrialReport)] {
        try query("SELECT trial, epoch, value, val_loss, map FROM reports ORDER BY seq", []).map {
            ($0[0].int!, TrialReport(epoch: $0[1].int!, value: $0[2].real ?? .nan, valLoss: $0[3].real, map: $0[4].real))
        }
    }

    // MARK: SQLite

    enum Value {
        case integer(Int), real(Double?), text(String?), null

        var int: Int? { if case .integer(let v) = self { return v }; if case .real(let v?) = self { return Int(v) }; return nil }
        var real: Double? { if case .real(let v) = self { return v }; if case .integer(let v) = self { return Double(v) }; return nil }
        var text: String? { if case .text(let v) = self { return v }; return nil }
    }

    private func execute(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        guard sqlite3_exec(db, sql, nil, nil, &message) == SQLITE_OK else {
            let reason = message.map { String(cString: $0) } ?? "unknown error"
            sqlite3_free(message)
            throw Failure(message: "\(path): \(reason)")
        }
    }

    private func run(_ sql: String, _ parameters: [Value]) throws { _ = try query(sql, parameters) }

    @discardableResult
    private func query(_ sql: String, _ parameters: [Value]) throws -> [[Value]] {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK else { throw failure("cannot prepare '\(sql)'") }
        defer { sqlite3_finalize(statement) }
        // SQLITE_TRANSIENT: SQLite copies the bound text before the Swift string goes away.
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        for (i, p) in parameters.enumerated() {
            let index = Int32(i + 1)
            switch p {
            case .integer(let v): sqlite3_bind_int64(statement, index, Int64(v))
            case .real(let v?) where v.isFinite: sqlite3_bind_double(statement, index, v)
            case .text(let v?): sqlite3_bind_text(statement, index, v, -1, transient)
            default: sqlite3_bind_null(statement, index)
            }
        }
        var rows: [[Value]] = []
        while true {
            let status = sqlite3_step(statement)
            if status == SQLITE_DONE { break }
            guard status == SQLITE_ROW else { throw failure("'\(sql)' failed") }
            rows.append((0..<sqlite3_column_count(statement)).map { column in
                switch sqlite3_column_type(statement, column) {
                case SQLITE_INTEGER: return .integer(Int(sqlite3_column_int64(statement, column)))
                case SQLITE_FLOAT: return .real(sqlite3_column_double(statement, column))
                case SQLITE_TEXT: return .text(String(cString: sqlite3_column_text(statement, column)))
                default: return .null
                }
            })
        }
        return rows
    }

    private func failure(_ what: String) -> Failure {
        Failure(message: "\(path): \(what): \(String(cString: sqlite3_errmsg(db)))")
    }
}
