#include "sqlitemessagestore.h"

#include "common/clock.h"
#include "common/ids.h"

#include <QDir>
#include <QFileInfo>
#include <algorithm>
#include <sqlite3.h>

namespace parley::server {

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS rooms (
    name       TEXT PRIMARY KEY,
    epoch      TEXT NOT NULL,
    last_seq   INTEGER NOT NULL DEFAULT 0,
    first_seq  INTEGER NOT NULL DEFAULT 1,
    created_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS messages (
    room      TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    msg_id    TEXT NOT NULL,
    sender    TEXT NOT NULL,
    client_id TEXT NOT NULL,
    body      TEXT NOT NULL,
    ts        INTEGER NOT NULL,
    PRIMARY KEY (room, seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS messages_dedupe ON messages (room, sender, client_id);
CREATE TABLE IF NOT EXISTS dedupe_trimmed (
    room      TEXT NOT NULL,
    sender    TEXT NOT NULL,
    client_id TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    msg_id    TEXT NOT NULL,
    ts        INTEGER NOT NULL,
    PRIMARY KEY (room, sender, client_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS dedupe_trimmed_ts ON dedupe_trimmed (ts);
CREATE TABLE IF NOT EXISTS store_meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

void bindText(sqlite3_stmt* stmt, int index, const std::string& text)
{
    sqlite3_bind_text(stmt, index, text.data(), int(text.size()), SQLITE_STATIC);
}

std::string columnText(sqlite3_stmt* stmt, int column)
{
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, column));
    return text ? std::string(text, std::size_t(sqlite3_column_bytes(stmt, column)))
                : std::string();
}

// Resets a statement on scope exit so no statement holds a read snapshot or locks.
struct ResetGuard {
    sqlite3_stmt* stmt;
    ~ResetGuard()
    {
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
    }
};

} // namespace

SqliteMessageStore::SqliteMessageStore(QString path, Retention retention)
    : m_path(std::move(path))
    , m_retention(retention)
{
}

SqliteMessageStore::~SqliteMessageStore()
{
    close();
}

std::string SqliteMessageStore::lastError() const
{
    return m_db ? std::string(sqlite3_errmsg(m_db)) : std::string("database not open");
}

bool SqliteMessageStore::exec(const char* sql, std::string* error)
{
    char* message = nullptr;
    if (sqlite3_exec(m_db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
        *error = message ? message : lastError();
        sqlite3_free(message);
        return false;
    }
    return true;
}

std::string SqliteMessageStore::open()
{
    if (m_db) {
        return {};
    }
    const QFileInfo info(m_path);
    if (!QDir().mkpath(info.absolutePath())) {
        return "cannot create directory " + info.absolutePath().toStdString();
    }
    const std::string where = m_path.toStdString();
    const QByteArray path = QFile::encodeName(m_path);
    if (sqlite3_open_v2(path.constData(), &m_db,
            SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr)
        != SQLITE_OK) {
        std::string error = "cannot open " + where + ": " + lastError();
        sqlite3_close(m_db);
        m_db = nullptr;
        return error;
    }
    // SQLite quietly opens a file it may not write (its mode, an immutable flag, a read-only
    // filesystem) read-only: every later commit would fail. Refuse it here instead.
    if (sqlite3_db_readonly(m_db, "main") == 1) {
        close();
        return "cannot write " + where
            + ": the database was opened read-only (the file, its directory or its filesystem "
              "does not accept writes)";
    }
    std::string error;
    // busy_timeout only matters if someone else (an operator's sqlite3 shell) holds the file.
    sqlite3_busy_timeout(m_db, 5000);
    if (!exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF;", &error)
        || !exec(kSchema, &error) || !prepareAll(&error)) {
        close();
        return "cannot set up " + where + ": " + error;
    }
    // A writable file is not yet a working store: the directory must take the -wal and -shm
    // files and the disk the pages. One real commit tells.
    if (error = probeWrite(); !error.empty()) {
        close();
        return "cannot write " + where + ": " + error;
    }
    m_rooms.clear();
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(
            m_db, "SELECT name, epoch, last_seq, first_seq FROM rooms", -1, &stmt, nullptr)
        != SQLITE_OK) {
        error = lastError();
        close();
        return error;
    }
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        RoomPosition position;
        position.room = columnText(stmt, 0);
        position.epoch = columnText(stmt, 1);
        position.lastSeq = std::uint64_t(sqlite3_column_int64(stmt, 2));
        position.firstSeq = std::uint64_t(sqlite3_column_int64(stmt, 3));
        m_rooms.emplace(position.room, position);
    }
    sqlite3_finalize(stmt);
    return {};
}

std::string SqliteMessageStore::probeWrite()
{
    if (!m_db) {
        return "database not open";
    }
    {
        ResetGuard guard { m_begin };
        if (sqlite3_step(m_begin) != SQLITE_DONE) {
            return "begin: " + lastError();
        }
    }
    std::string error;
    {
        ResetGuard guard { m_probe };
        sqlite3_bind_int64(m_probe, 1, sqlite3_int64(wallClockMs()));
        if (sqlite3_step(m_probe) != SQLITE_DONE) {
            error = "probe write: " + lastError();
        }
    }
    if (error.empty()) {
        ResetGuard guard { m_commit };
        if (sqlite3_step(m_commit) == SQLITE_DONE) {
            return {};
        }
        error = "commit: " + lastError();
    }
    ResetGuard guard { m_rollback };
    sqlite3_step(m_rollback);
    return error;
}

bool SqliteMessageStore::prepareAll(std::string* error)
{
    struct Item {
        sqlite3_stmt** stmt;
        const char* sql;
    };
    const Item items[] = {
        { &m_begin, "BEGIN IMMEDIATE" },
        { &m_commit, "COMMIT" },
        { &m_rollback, "ROLLBACK" },
        { &m_insertRoom,
            "INSERT INTO rooms (name, epoch, last_seq, first_seq, created_ms) "
            "VALUES (?1, ?2, 0, 1, ?3)" },
        { &m_updateRoomSeq, "UPDATE rooms SET last_seq = ?2 WHERE name = ?1" },
        { &m_insertMessage,
            "INSERT INTO messages (room, seq, msg_id, sender, client_id, body, ts) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)" },
        { &m_findDuplicate,
            "SELECT seq, msg_id, body, ts FROM messages "
            "WHERE room = ?1 AND sender = ?2 AND client_id = ?3" },
        { &m_findTrimmed,
            "SELECT seq, msg_id, ts FROM dedupe_trimmed "
            "WHERE room = ?1 AND sender = ?2 AND client_id = ?3" },
        { &m_expireDuplicate,
            "UPDATE messages SET client_id = client_id || '~expired~' || msg_id "
            "WHERE room = ?1 AND seq = ?2" },
        { &m_forgetTrimmed,
            "DELETE FROM dedupe_trimmed WHERE room = ?1 AND sender = ?2 AND client_id = ?3" },
        { &m_oldestKept,
            "SELECT MIN(seq) FROM messages WHERE room = ?1 AND seq > ?2 AND ts >= ?3" },
        { &m_keepTrimmedKeys,
            "INSERT OR REPLACE INTO dedupe_trimmed (room, sender, client_id, seq, msg_id, ts) "
            "SELECT room, sender, client_id, seq, msg_id, ts FROM messages "
            "WHERE room = ?1 AND seq < ?2 AND ts >= ?3" },
        { &m_deleteOld, "DELETE FROM messages WHERE room = ?1 AND seq < ?2" },
        { &m_pruneTrimmed, "DELETE FROM dedupe_trimmed WHERE ts < ?1" },
        { &m_updateFirstSeq, "UPDATE rooms SET first_seq = ?2 WHERE name = ?1" },
        { &m_selectAfter,
            "SELECT seq, msg_id, sender, client_id, body, ts FROM messages "
            "WHERE room = ?1 AND seq > ?2 AND seq <= ?3 ORDER BY seq ASC LIMIT ?4" },
        { &m_selectBefore,
            "SELECT seq, msg_id, sender, client_id, body, ts FROM messages "
            "WHERE room = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3" },
        { &m_probe,
            "INSERT OR REPLACE INTO store_meta (key, value) VALUES ('last_write_probe_ms', ?1)" },
    };
    for (const Item& item : items) {
        if (sqlite3_prepare_v3(m_db, item.sql, -1, SQLITE_PREPARE_PERSISTENT, item.stmt, nullptr)
            != SQLITE_OK) {
            *error = std::string("cannot prepare '") + item.sql + "': " + lastError();
            return false;
        }
    }
    return true;
}

void SqliteMessageStore::finalizeAll()
{
    for (sqlite3_stmt** stmt : { &m_begin, &m_commit, &m_rollback, &m_insertRoom, &m_updateRoomSeq,
             &m_insertMessage, &m_findDuplicate, &m_findTrimmed, &m_expireDuplicate,
             &m_forgetTrimmed, &m_oldestKept, &m_keepTrimmedKeys, &m_deleteOld, &m_pruneTrimmed,
             &m_updateFirstSeq, &m_selectAfter, &m_selectBefore, &m_probe }) {
        sqlite3_finalize(*stmt);
        *stmt = nullptr;
    }
}

void SqliteMessageStore::close()
{
    if (!m_db) {
        return;
    }
    finalizeAll();
    // Checkpoint so the WAL does not grow across restarts; harmless if it cannot complete.
    sqlite3_wal_checkpoint_v2(m_db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    sqlite3_close_v2(m_db);
    m_db = nullptr;
}

std::vector<RoomPosition> SqliteMessageStore::loadRooms()
{
    std::vector<RoomPosition> rooms;
    rooms.reserve(m_rooms.size());
    for (const auto& [name, position] : m_rooms) {
        rooms.push_back(position);
    }
    return rooms;
}

RoomPosition* SqliteMessageStore::stageRoom(const std::string& room,
    std::unordered_map<std::string, RoomPosition>& staged, std::int64_t nowMs, std::string* error)
{
    if (auto it = staged.find(room); it != staged.end()) {
        return &it->second;
    }
    if (auto it = m_rooms.find(room); it != m_rooms.end()) {
        return &staged.emplace(room, it->second).first->second;
    }
    RoomPosition position;
    position.room = room;
    position.epoch = randomHex(8);
    ResetGuard guard { m_insertRoom };
    bindText(m_insertRoom, 1, position.room);
    bindText(m_insertRoom, 2, position.epoch);
    sqlite3_bind_int64(m_insertRoom, 3, nowMs);
    if (sqlite3_step(m_insertRoom) != SQLITE_DONE) {
        *error = "insert room: " + lastError();
        return nullptr;
    }
    return &staged.emplace(room, std::move(position)).first->second;
}

CommitResult SqliteMessageStore::commit(const CommitBatch& batch)
{
    CommitResult result;
    if (!m_db) {
        result.error = "database not open";
        return result;
    }
    {
        ResetGuard guard { m_begin };
        if (sqlite3_step(m_begin) != SQLITE_DONE) {
            result.error = "begin: " + lastError();
            return result;
        }
    }
    const std::int64_t dedupeCutoff = batch.nowMs - std::max<std::int64_t>(1, m_retention.dedupeWindowMs);
    // Positions touched by this batch; they replace m_rooms entries only after COMMIT.
    std::unordered_map<std::string, RoomPosition> staged;
    std::unordered_map<std::string, bool> dirty;
    auto fail = [&](std::string error) {
        ResetGuard guard { m_rollback };
        sqlite3_step(m_rollback);
        CommitResult failed;
        failed.error = std::move(error);
        return failed;
    };

    for (const std::string& room : batch.ensureRooms) {
        std::string error;
        RoomPosition* position = stageRoom(room, staged, batch.nowMs, &error);
        if (!position) {
            return fail(error);
        }
        result.rooms.push_back(*position);
    }

    for (const AppendRequest& append : batch.appends) {
        std::string error;
        RoomPosition* position = stageRoom(append.room, staged, batch.nowMs, &error);
        if (!position) {
            return fail(error);
        }
        AppendOutcome outcome;
        outcome.message.room = append.room;
        outcome.message.epoch = position->epoch;
        outcome.message.sender = append.sender;
        outcome.message.clientId = append.clientId;
        {
            ResetGuard guard { m_findDuplicate };
            bindText(m_findDuplicate, 1, append.room);
            bindText(m_findDuplicate, 2, append.sender);
            bindText(m_findDuplicate, 3, append.clientId);
            const int rc = sqlite3_step(m_findDuplicate);
            if (rc == SQLITE_ROW) {
                const std::int64_t ts = sqlite3_column_int64(m_findDuplicate, 3);
                if (ts >= dedupeCutoff) {
                    outcome.status = AppendOutcome::Status::Duplicate;
                    outcome.message.seq = std::uint64_t(sqlite3_column_int64(m_findDuplicate, 0));
                    outcome.message.msgId = columnText(m_findDuplicate, 1);
                    outcome.message.body = columnText(m_findDuplicate, 2);
                    outcome.message.ts = ts;
                    result.appends.push_back(std::move(outcome));
                    continue;
                }
                // Expired: free the id for this append (the unique index would refuse it).
                const auto seq = sqlite3_column_int64(m_findDuplicate, 0);
                ResetGuard expire { m_expireDuplicate };
                bindText(m_expireDuplicate, 1, append.room);
                sqlite3_bind_int64(m_expireDuplicate, 2, seq);
                if (sqlite3_step(m_expireDuplicate) != SQLITE_DONE) {
                    return fail("expire dedupe key: " + lastError());
                }
            } else if (rc != SQLITE_DONE) {
                return fail("dedupe lookup: " + lastError());
            }
        }
        {
            // A message already trimmed from history may still be inside its dedupe window.
            ResetGuard guard { m_findTrimmed };
            bindText(m_findTrimmed, 1, append.room);
            bindText(m_findTrimmed, 2, append.sender);
            bindText(m_findTrimmed, 3, append.clientId);
            const int rc = sqlite3_step(m_findTrimmed);
            if (rc == SQLITE_ROW && sqlite3_column_int64(m_findTrimmed, 2) >= dedupeCutoff) {
                outcome.status = AppendOutcome::Status::Duplicate;
                outcome.message.seq = std::uint64_t(sqlite3_column_int64(m_findTrimmed, 0));
                outcome.message.msgId = columnText(m_findTrimmed, 1);
                outcome.message.ts = sqlite3_column_int64(m_findTrimmed, 2);
                result.appends.push_back(std::move(outcome));
                continue;
            }
            if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
                return fail("dedupe lookup (trimmed): " + lastError());
            }
            if (rc == SQLITE_ROW) {
                ResetGuard forget { m_forgetTrimmed };
                bindText(m_forgetTrimmed, 1, append.room);
                bindText(m_forgetTrimmed, 2, append.sender);
                bindText(m_forgetTrimmed, 3, append.clientId);
                if (sqlite3_step(m_forgetTrimmed) != SQLITE_DONE) {
                    return fail("expire trimmed dedupe key: " + lastError());
                }
            }
        }
        outcome.message.seq = position->lastSeq + 1;
        outcome.message.msgId = randomHex(8);
        outcome.message.body = append.body;
        outcome.message.ts = batch.nowMs;
        {
            ResetGuard guard { m_insertMessage };
            bindText(m_insertMessage, 1, append.room);
            sqlite3_bind_int64(m_insertMessage, 2, sqlite3_int64(outcome.message.seq));
            bindText(m_insertMessage, 3, outcome.message.msgId);
            bindText(m_insertMessage, 4, append.sender);
            bindText(m_insertMessage, 5, append.clientId);
            bindText(m_insertMessage, 6, append.body);
            sqlite3_bind_int64(m_insertMessage, 7, batch.nowMs);
            if (sqlite3_step(m_insertMessage) != SQLITE_DONE) {
                return fail("insert message: " + lastError());
            }
        }
        position->lastSeq = outcome.message.seq;
        dirty[append.room] = true;
        result.appends.push_back(std::move(outcome));
    }

    for (const auto& [room, unused] : dirty) {
        ResetGuard guard { m_updateRoomSeq };
        bindText(m_updateRoomSeq, 1, room);
        sqlite3_bind_int64(m_updateRoomSeq, 2, sqlite3_int64(staged[room].lastSeq));
        if (sqlite3_step(m_updateRoomSeq) != SQLITE_DONE) {
            return fail("update room: " + lastError());
        }
    }
    if (m_retention.maxCount > 0 || m_retention.maxAgeMs > 0) {
        for (const auto& [room, unused] : dirty) {
            std::string error;
            if (!trim(&staged[room], batch.nowMs, &error)) {
                return fail(error);
            }
        }
    }
    {
        ResetGuard guard { m_commit };
        if (sqlite3_step(m_commit) != SQLITE_DONE) {
            return fail("commit: " + lastError());
        }
    }
    for (auto& [room, position] : staged) {
        m_rooms[room] = std::move(position);
    }
    // The positions reported for ensureRooms were copied before the appends of this batch; bring
    // them up to date so callers see the committed state.
    for (RoomPosition& position : result.rooms) {
        position = m_rooms[position.room];
    }
    result.ok = true;
    return result;
}

bool SqliteMessageStore::trim(RoomPosition* position, std::int64_t nowMs, std::string* error)
{
    // The first seq to keep: by count, then possibly higher by age (seqs and timestamps grow
    // together within a room). Never past the last message: an idle room whose messages all aged
    // out keeps firstSeq = lastSeq + 1.
    std::uint64_t keepFrom = position->firstSeq;
    if (m_retention.maxCount > 0 && position->lastSeq > m_retention.maxCount) {
        keepFrom = std::max(keepFrom, position->lastSeq - m_retention.maxCount + 1);
    }
    if (m_retention.maxAgeMs > 0) {
        ResetGuard guard { m_oldestKept };
        bindText(m_oldestKept, 1, position->room);
        sqlite3_bind_int64(m_oldestKept, 2, sqlite3_int64(keepFrom) - 1);
        sqlite3_bind_int64(m_oldestKept, 3, nowMs - m_retention.maxAgeMs);
        if (sqlite3_step(m_oldestKept) != SQLITE_ROW) {
            *error = "retention lookup: " + lastError();
            return false;
        }
        keepFrom = sqlite3_column_type(m_oldestKept, 0) == SQLITE_NULL
            ? position->lastSeq + 1
            : std::max(keepFrom, std::uint64_t(sqlite3_column_int64(m_oldestKept, 0)));
    }
    if (keepFrom <= position->firstSeq) {
        return true;
    }
    const std::int64_t dedupeCutoff = nowMs - std::max<std::int64_t>(1, m_retention.dedupeWindowMs);
    const auto step = [&](sqlite3_stmt* stmt, const char* what, bool withCutoff) {
        ResetGuard guard { stmt };
        bindText(stmt, 1, position->room);
        sqlite3_bind_int64(stmt, 2, sqlite3_int64(keepFrom));
        if (withCutoff) {
            sqlite3_bind_int64(stmt, 3, dedupeCutoff);
        }
        if (sqlite3_step(stmt) != SQLITE_DONE) {
            *error = std::string(what) + ": " + lastError();
            return false;
        }
        return true;
    };
    if (!step(m_keepTrimmedKeys, "keep dedupe keys", true) || !step(m_deleteOld, "trim", false)
        || !step(m_updateFirstSeq, "update first seq", false)) {
        return false;
    }
    ResetGuard guard { m_pruneTrimmed };
    sqlite3_bind_int64(m_pruneTrimmed, 1, dedupeCutoff);
    if (sqlite3_step(m_pruneTrimmed) != SQLITE_DONE) {
        *error = "prune dedupe keys: " + lastError();
        return false;
    }
    position->firstSeq = keepFrom;
    return true;
}

bool SqliteMessageStore::readMessage(
    sqlite3_stmt* stmt, const std::string& room, const std::string& epoch, protocol::Message* out)
{
    out->room = room;
    out->epoch = epoch;
    out->seq = std::uint64_t(sqlite3_column_int64(stmt, 0));
    out->msgId = columnText(stmt, 1);
    out->sender = columnText(stmt, 2);
    out->clientId = columnText(stmt, 3);
    out->body = columnText(stmt, 4);
    out->ts = sqlite3_column_int64(stmt, 5);
    return true;
}

HistoryResult SqliteMessageStore::history(const HistoryQuery& query)
{
    HistoryResult result;
    if (!m_db) {
        result.error = "database not open";
        return result;
    }
    const auto room = m_rooms.find(query.room);
    if (room == m_rooms.end()) {
        // An unknown room has an empty history; this is not an error.
        result.ok = true;
        result.position.room = query.room;
        return result;
    }
    result.roomExists = true;
    result.position = room->second;
    const std::uint32_t limit = std::max<std::uint32_t>(1, query.limit);
    // One row more than asked tells whether there is more beyond the page.
    const sqlite3_int64 fetch = sqlite3_int64(limit) + 1;
    const std::string& epoch = room->second.epoch;

    if (query.afterSeq) {
        ResetGuard guard { m_selectAfter };
        bindText(m_selectAfter, 1, query.room);
        sqlite3_bind_int64(
            m_selectAfter, 2, sqlite3_int64(std::min<std::uint64_t>(*query.afterSeq, INT64_MAX)));
        sqlite3_bind_int64(
            m_selectAfter, 3, sqlite3_int64(std::min<std::uint64_t>(query.maxSeq, INT64_MAX)));
        sqlite3_bind_int64(m_selectAfter, 4, fetch);
        int rc;
        while ((rc = sqlite3_step(m_selectAfter)) == SQLITE_ROW) {
            if (result.messages.size() == limit) {
                result.hasMore = true;
                break;
            }
            protocol::Message message;
            readMessage(m_selectAfter, query.room, epoch, &message);
            result.messages.push_back(std::move(message));
        }
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            result.error = "history: " + lastError();
            result.messages.clear();
            return result;
        }
    } else {
        const std::uint64_t before = query.beforeSeq.value_or(UINT64_MAX);
        ResetGuard guard { m_selectBefore };
        bindText(m_selectBefore, 1, query.room);
        sqlite3_bind_int64(
            m_selectBefore, 2, sqlite3_int64(std::min<std::uint64_t>(before, INT64_MAX)));
        sqlite3_bind_int64(m_selectBefore, 3, fetch);
        int rc;
        while ((rc = sqlite3_step(m_selectBefore)) == SQLITE_ROW) {
            if (result.messages.size() == limit) {
                result.hasMore = true;
                break;
            }
            protocol::Message message;
            readMessage(m_selectBefore, query.room, epoch, &message);
            result.messages.push_back(std::move(message));
        }
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            result.error = "history: " + lastError();
            result.messages.clear();
            return result;
        }
        std::reverse(result.messages.begin(), result.messages.end());
    }
    result.ok = true;
    return result;
}

} // namespace parley::server
